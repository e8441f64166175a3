"""Obligations and their status, computed from plain data.

`evaluate(rules, units, events, waivers, as_of, first, last)` is the engine: it turns rules into
obligations per unit and period, gives each the events that serve it, and states its status on
``as_of``. It is pure: no database, no clock.

The contract (DESIGN.md, "Periods and statuses"):

* Calendar rules: the first period is the first that starts on or after ``effective.from``; a
  unit owes only whole periods of its active life (start ≥ ``active_from``, end ≤
  ``active_to``).
* Window of an obligation: ``[start, due + grace]``. Per unit and rule, events are taken in date
  order; each goes to the earliest obligation whose window holds its date and that is not yet
  satisfied; an event no unsatisfied window wants is listed as evidence of the obligation whose
  period holds its date.
* ``met`` when satisfied by events dated up to due; ``met_late`` when it needed events in
  ``(due, due + grace]``.
* Rolling rules (``within: D``): the first window opens at ``effective.from`` (or the unit's
  start if later), due = open + D. The event that satisfies a window closes it and opens the next
  on its date; a window that passes due + grace unmet is missed and the next opens on its due.
* Attend rules: one obligation per qualifying event (its day is the period, start = end = due),
  met when the role attended, else missed.
* Events dated after ``as_of`` do not exist yet. A waiver makes an obligation ``exempt``.
* Review by the level above (``review_mode``): ``off`` and ``advisory`` count every event (the
  review state is only shown); ``required`` counts an event once it is ``accepted``, never a
  ``returned`` one, and marks an obligation ``awaiting_review`` when the events still pending
  would meet it. Events of a unit without a parent (the county) need no review.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from itertools import takewhile
from operator import attrgetter
from typing import Any, NamedTuple

from scheduler.core.gcpause import gc_paused
from scheduler.core.periods import Period, day_period, interval_label
from scheduler.core.rules import AttendRequirement, CountRequirement, Rule


class Status(StrEnum):
    """The status of an obligation on a given day."""

    UPCOMING = "upcoming"
    OPEN = "open"
    MET = "met"
    MET_LATE = "met_late"
    OVERDUE = "overdue"
    MISSED = "missed"
    EXEMPT = "exempt"

    @property
    def closed(self) -> bool:
        """Nothing can change it any more (``days_left`` is null)."""
        return self in _CLOSED

    @property
    def due_passed(self) -> bool:
        """Counted in an on-time rate: its due date has passed or it is already met."""
        return self in (Status.MET, Status.MET_LATE, Status.OVERDUE, Status.MISSED)


_CLOSED = frozenset({Status.MET, Status.MET_LATE, Status.MISSED, Status.EXEMPT})


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """A unit as the engine sees it."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    active_from: date | None = None
    active_to: date | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def active_on(self, day: date) -> bool:
        after_start = self.active_from is None or day >= self.active_from
        return after_start and (self.active_to is None or day <= self.active_to)

    def holds_whole(self, period: Period) -> bool:
        """True when the period lies wholly inside the unit's active life."""
        after_start = self.active_from is None or period.start >= self.active_from
        return after_start and (self.active_to is None or period.end <= self.active_to)


class EventFacts(NamedTuple):
    """The current version of an event: its kinds, amount and the roles that attended.

    An immutable named tuple rather than a frozen dataclass: a province loads hundreds of
    thousands of them, and a tuple is built about three times faster."""

    id: int
    unit_id: int
    day: date
    kinds: frozenset[str]
    amount: Decimal | None = None
    attended: frozenset[str] = frozenset()
    review: str | None = None  # None (not reviewed: pending), pending, accepted or returned


@dataclass(frozen=True, slots=True)
class WaiverFacts:
    """Why an obligation is exempt, and who approved it."""

    reason: str
    approved_by: str


WaiverKey = tuple[int, str, str]  # (unit id, rule id, period label)


class Obligation(NamedTuple):
    """What one unit owes under one rule for one period, and where it stands on ``as_of``.

    An immutable named tuple, like `EventFacts`, because a province evaluates hundreds of
    thousands of them."""

    unit_id: int
    rule_id: str
    period: Period
    due: date
    grace_end: date
    status: Status
    required: Decimal | None
    actual: Decimal
    evidence: tuple[int, ...]
    days_left: int | None
    waiver: WaiverFacts | None = None
    awaiting_review: bool = False  # review.mode required: pending events would meet it
    satisfied_on: date | None = None  # the day its events (dated up to as_of) first met it


@dataclass(frozen=True, slots=True)
class _Window:
    period: Period
    due: date
    grace_end: date


@dataclass(slots=True)
class _Tally:
    window: _Window
    actual: Decimal = Decimal(0)
    evidence: list[int] = field(default_factory=list)
    satisfied_on: date | None = None

    def add(self, event: EventFacts, value: Decimal) -> None:
        self.actual += value
        self.evidence.append(event.id)


@dataclass(frozen=True)
class Evaluation:
    """The inputs of one evaluation, indexed once."""

    units: Sequence[UnitFacts]
    events_by_unit_kind: Mapping[tuple[int, str], Sequence[EventFacts]]
    waivers: Mapping[WaiverKey, WaiverFacts]
    as_of: date
    first: date
    last: date


ACCEPTED, RETURNED = "accepted", "returned"
REVIEW_MODES = ("off", "advisory", "required")


def evaluate(
    rules: Iterable[Rule],
    units: Sequence[UnitFacts],
    events: Iterable[EventFacts],
    waivers: Mapping[WaiverKey, WaiverFacts],
    as_of: date,
    first: date,
    last: date,
    review_mode: str = "off",
) -> list[Obligation]:
    """Every obligation whose period overlaps ``[first, last]``, with its status on ``as_of``.

    ``events`` must include every current event dated from the earliest ``effective.from`` of
    the rules up to ``as_of`` (earlier periods take events first); later ones are ignored.
    With ``review_mode`` ``required`` only accepted events count (see the module's contract).
    """
    if review_mode != "required":
        return _evaluate(rules, units, events, waivers, as_of, first, last)
    rules = list(rules)
    accepted, hopeful = review_split(units, events, review_mode)
    counted = _evaluate(rules, units, accepted, waivers, as_of, first, last)
    if hopeful is None:
        return counted
    loose = {
        (o.unit_id, o.rule_id, o.period.label): o.status
        for o in _evaluate(rules, units, hopeful, waivers, as_of, first, last)
    }
    met = (Status.MET, Status.MET_LATE)
    return [
        o._replace(awaiting_review=True)
        if o.status not in met and loose.get((o.unit_id, o.rule_id, o.period.label)) in met
        else o
        for o in counted
    ]


def review_split(
    units: Sequence[UnitFacts], events: Iterable[EventFacts], review_mode: str
) -> tuple[list[EventFacts], list[EventFacts] | None]:
    """The events that count under ``review_mode`` and, with ``required`` when some are still
    pending, the events that would count once every pending one is accepted (else None).
    Events of a unit without a parent (the county) need no review."""
    events = list(events)
    if review_mode != "required":
        return events, None
    roots = {unit.id for unit in units if unit.parent_id is None}
    accepted = [e for e in events if e.review == ACCEPTED or e.unit_id in roots]
    hopeful = [e for e in events if e.review != RETURNED or e.unit_id in roots]
    return accepted, (None if len(hopeful) == len(accepted) else hopeful)


def _evaluate(
    rules: Iterable[Rule],
    units: Sequence[UnitFacts],
    events: Iterable[EventFacts],
    waivers: Mapping[WaiverKey, WaiverFacts],
    as_of: date,
    first: date,
    last: date,
) -> list[Obligation]:
    with gc_paused():
        context = Evaluation(units, index_events(events, as_of), waivers, as_of, first, last)
        result: list[Obligation] = []
        for rule in rules:
            result.extend(evaluate_rule(rule, context))
    return result


def index_events(
    events: Iterable[EventFacts], as_of: date
) -> dict[tuple[int, str], list[EventFacts]]:
    """Events dated up to ``as_of`` by (unit id, kind), each list in date order."""
    index: dict[tuple[int, str], list[EventFacts]] = defaultdict(list)
    for event in events:
        if event.day <= as_of:
            for kind in event.kinds:
                index[(event.unit_id, kind)].append(event)
    for bucket in index.values():
        bucket.sort(key=_day_and_id)
    return index


_day_and_id = attrgetter("day", "id")


def evaluate_rule(rule: Rule, context: Evaluation) -> Iterator[Obligation]:
    """The obligations of one rule for every unit it applies to, whose period overlaps
    ``[first, last]``: earlier periods are evaluated (they take events first) but not built."""
    units = [unit for unit in context.units if unit.kind in rule.applies_to]
    if rule.is_attend:
        evaluate_unit = _attend_obligations
    elif rule.rolling:
        evaluate_unit = _rolling_obligations
    else:
        windows = calendar_windows(rule, context.last)

        def evaluate_unit(rule: Rule, unit: UnitFacts, context: Evaluation) -> list[Obligation]:
            return _calendar_obligations(rule, unit, context, windows)

    for unit in units:
        yield from evaluate_unit(rule, unit, context)


def calendar_windows(rule: Rule, last: date) -> list[_Window]:
    """The periods of a calendar rule from its first one up to the last starting by ``last``."""
    assert rule.cadence is not None
    periods = rule.cadence.periods_from(rule.effective_from, rule.effective_from.year)
    windows = []
    for period in takewhile(lambda period: period.start <= last, periods):
        if rule.effective_to and period.end > rule.effective_to:
            break
        due = rule.due_of(period.end)
        windows.append(_Window(period, due, rule.grace.after(due)))
    return windows


def _calendar_obligations(
    rule: Rule, unit: UnitFacts, context: Evaluation, windows: Sequence[_Window]
) -> list[Obligation]:
    """The unit's obligations under a calendar rule whose period overlaps ``[first, last]``.

    Windows that close (due + grace) before the unit's first event and lie before ``first``
    are left out: no event can reach them, and they are not reported."""
    events = context.events_by_unit_kind.get((unit.id, rule.requirement.kind), ())
    earliest = events[0].day if events else context.first
    tallies = [
        _Tally(window)
        for window in windows
        if (window.grace_end >= earliest or window.period.end >= context.first)
        and unit.holds_whole(window.period)
    ]
    if not tallies:
        return []
    required = rule.requirement.required_for(unit.attributes)
    for event in events:
        _allocate(event, event_value(rule, event), required, tallies)
    return [
        _close(rule, unit, tally, required, context)
        for tally in tallies
        if tally.window.period.overlaps(context.first, context.last)
    ]


def _allocate(
    event: EventFacts, value: Decimal, required: Decimal | None, tallies: Sequence[_Tally]
) -> None:
    """Give the event to the earliest unsatisfied window holding its date, else to its period."""
    holder = None
    for tally in tallies:
        window = tally.window
        if window.period.start > event.day:
            break
        if event.day > window.grace_end:
            continue
        if tally.satisfied_on is None:
            tally.add(event, value)
            if required is not None and tally.actual >= required:
                tally.satisfied_on = event.day
            return
        if holder is None and event.day in window.period:
            holder = tally
    if holder is not None:
        holder.add(event, value)


def _rolling_obligations(rule: Rule, unit: UnitFacts, context: Evaluation) -> list[Obligation]:
    assert rule.rolling is not None
    start = max(rule.effective_from, unit.active_from or rule.effective_from)
    events = [
        event
        for event in context.events_by_unit_kind.get((unit.id, rule.requirement.kind), ())
        if event.day >= start
    ]
    required = rule.requirement.required_for(unit.attributes)
    result: list[Obligation] = []
    position = 0
    while start <= min(context.as_of, context.last):
        due = rule.rolling.after(start)
        if (unit.active_to and due > unit.active_to) or (
            rule.effective_to and due > rule.effective_to
        ):
            break
        window = _Window(Period(start, due, interval_label(start, due)), due, rule.grace.after(due))
        tally = _Tally(window)
        while position < len(events) and events[position].day <= window.grace_end:
            event = events[position]
            position += 1
            tally.add(event, event_value(rule, event))
            if required is not None and tally.actual >= required:
                tally.satisfied_on = event.day
                break
        if window.period.overlaps(context.first, context.last):
            result.append(_close(rule, unit, tally, required, context))
        if tally.satisfied_on is not None:
            start = tally.satisfied_on
        elif context.as_of > window.grace_end:
            start = due
        else:
            break
    return result


def _attend_obligations(rule: Rule, unit: UnitFacts, context: Evaluation) -> list[Obligation]:
    """One obligation per qualifying event dated inside ``[first, last]`` (its period is its
    day), inside the unit's active life and the rule's effective dates."""
    requirement = rule.requirement
    assert isinstance(requirement, AttendRequirement)
    starts = [rule.effective_from, context.first, unit.active_from]
    ends = [rule.effective_to, context.last, unit.active_to]
    first = max(day for day in starts if day is not None)
    last = min(day for day in ends if day is not None)
    return [
        _attendance(rule, unit, event, requirement.role, context.waivers)
        for event in context.events_by_unit_kind.get((unit.id, requirement.kind), ())
        if first <= event.day <= last
    ]


def _attendance(
    rule: Rule,
    unit: UnitFacts,
    event: EventFacts,
    role: str,
    waivers: Mapping[WaiverKey, WaiverFacts],
) -> Obligation:
    day, ids = event.day, (event.id,)
    period = _day_period(day)
    attended = role in event.attended
    waiver = waivers.get((unit.id, rule.id, period.label)) if waivers else None
    status = Status.EXEMPT if waiver else Status.MET if attended else Status.MISSED
    actual = _ONE if attended else _ZERO
    met_on = day if attended else None
    return Obligation(
        unit.id, rule.id, period, day, day, status, _ONE, actual, ids, None, waiver, False, met_on
    )


_ONE, _ZERO = Decimal(1), Decimal(0)
# Attendance periods are single days, shared by every unit meeting that day.
_day_period = lru_cache(maxsize=8192)(day_period)


def event_value(rule: Rule, event: EventFacts) -> Decimal:
    """What one event adds to an obligation of ``rule``: 1 for a count, its amount for a sum."""
    if isinstance(rule.requirement, CountRequirement):
        return Decimal(1)
    return event.amount or Decimal(0)


def _close(
    rule: Rule, unit: UnitFacts, tally: _Tally, required: Decimal | None, context: Evaluation
) -> Obligation:
    window = tally.window
    waiver = context.waivers.get((unit.id, rule.id, window.period.label))
    status = status_on(
        window.period.start,
        window.due,
        window.grace_end,
        tally.satisfied_on,
        context.as_of,
        waived=waiver is not None,
    )
    days_left = None if status.closed else (window.due - context.as_of).days
    return Obligation(
        unit.id,
        rule.id,
        window.period,
        window.due,
        window.grace_end,
        status,
        required,
        tally.actual,
        tuple(tally.evidence),
        days_left,
        waiver,
        False,
        tally.satisfied_on,
    )


def status_on(
    start: date, due: date, grace_end: date, satisfied_on: date | None, as_of: date, waived: bool
) -> Status:
    """The status on ``as_of`` of a (calendar or rolling) obligation running from ``start``,
    given the day its events dated up to ``as_of`` first satisfied it (None: not yet)."""
    if waived:
        return Status.EXEMPT
    if start > as_of:
        return Status.UPCOMING
    if satisfied_on is not None:
        return Status.MET if satisfied_on <= due else Status.MET_LATE
    if as_of <= due:
        return Status.OPEN
    if as_of <= grace_end:
        return Status.OVERDUE
    return Status.MISSED
