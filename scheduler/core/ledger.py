"""Obligations computed once for every as-of day: what the store keeps between changes.

`ledger` runs the engine (`scheduler.core.compliance.evaluate`) with every event, as if no day
had passed, and keeps per obligation what its status on any day follows from; `obligations_on`
turns those entries back into the engine's obligations on a given ``as_of`` and
``[first, last]``. The equivalence of the two readings is tested against the engine itself
(``tests/test_obligations_stateful.py``). Why the entries suffice:

* Per unit and rule the engine takes events in date order and each goes to an obligation
  depending only on the events before it; events dated after ``as_of`` come last. So the
  allocation on ``as_of`` is the allocation with every event, cut to events dated up to
  ``as_of``: an obligation's evidence and actual are the allocated events dated up to it, and
  it is satisfied on ``as_of`` when the day it was first satisfied (``satisfied_on``) is not
  later. Its status then follows from start, due and due + grace (`compliance.status_on`).
* A rolling window exists on ``as_of`` only once the engine opens it (``opens_on``): at its
  start when the window before it was met, the day after the earlier window's due + grace when
  that one was missed. Calendar windows always exist (``upcoming`` before their start); an
  attendance obligation from its event's day, and it is ``missed`` at once when not met.
* With review ``required`` an obligation awaits review when it is not met on ``as_of`` but
  would be with the pending events too: ``hopeful_on`` is the day those events met it.
* A waiver makes it ``exempt`` whatever the day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from scheduler.core.compliance import (
    EventFacts,
    Obligation,
    Status,
    UnitFacts,
    WaiverFacts,
    WaiverKey,
    evaluate,
    event_value,
    review_split,
    status_on,
)
from scheduler.core.periods import Period
from scheduler.core.rules import Rule

FOREVER = date(9999, 12, 31)  # the as-of day on which every event exists
CALENDAR, ROLLING, ATTEND = "calendar", "rolling", "attend"
_MET = (Status.MET, Status.MET_LATE)


class Allocation(NamedTuple):
    """One event serving an obligation: its day and what it adds."""

    event_id: int
    day: date
    value: Decimal


class Entry(NamedTuple):
    """One obligation as kept: enough to state it on any as-of day."""

    unit_id: int
    rule_id: str
    position: int  # its place among the unit's obligations under the rule
    kind: str  # calendar, rolling or attend
    period: Period
    due: date
    grace_end: date
    opens_on: date | None  # the first as-of day it exists on (None: always)
    required: Decimal | None
    satisfied_on: date | None
    hopeful_on: date | None  # review required: the day it is met with the pending events too
    waiver: WaiverFacts | None
    allocation: tuple[Allocation, ...]


def rule_kind(rule: Rule) -> str:
    return ATTEND if rule.is_attend else ROLLING if rule.rolling else CALENDAR


def ledger(
    rules: Sequence[Rule],
    units: Sequence[UnitFacts],
    events: Iterable[EventFacts],
    waivers: Mapping[WaiverKey, WaiverFacts],
    horizon: date,
    review_mode: str = "off",
) -> list[Entry]:
    """The entries of every obligation of ``rules`` and ``units`` whose period starts by
    ``horizon`` (reads whose ``last`` is not later are answered by them), from every current
    event (whatever its date)."""
    counted, hopeful = review_split(units, events, review_mode)
    final = evaluate(rules, units, counted, waivers, FOREVER, date.min, horizon)
    loose: dict[tuple[int, str, str], date | None] = {}
    if hopeful is not None:
        loose = {
            (o.unit_id, o.rule_id, o.period.label): o.satisfied_on
            for o in evaluate(rules, units, hopeful, waivers, FOREVER, date.min, horizon)
        }
    by_id = {event.id: event for event in counted}
    by_rule = {rule.id: rule for rule in rules}
    entries: list[Entry] = []
    previous: Obligation | None = None
    position = 0
    for o in final:
        rule = by_rule[o.rule_id]
        same = previous is not None and (previous.unit_id, previous.rule_id) == (
            o.unit_id,
            o.rule_id,
        )
        position = position + 1 if same else 0
        kind = rule_kind(rule)
        key = (o.unit_id, o.rule_id, o.period.label)
        hopeful_on = loose.get(key) if hopeful is not None else o.satisfied_on
        entries.append(
            Entry(
                o.unit_id,
                o.rule_id,
                position,
                kind,
                o.period,
                o.due,
                o.grace_end,
                _opens_on(kind, o, previous if same else None),
                o.required,
                o.satisfied_on,
                hopeful_on,
                o.waiver,
                _allocation(rule, o, by_id),
            )
        )
        previous = o
    return entries


def _opens_on(kind: str, o: Obligation, previous: Obligation | None) -> date | None:
    if kind == CALENDAR:
        return None
    if kind == ATTEND or previous is None or previous.satisfied_on is not None:
        return o.period.start
    return previous.grace_end + timedelta(days=1)


def _allocation(
    rule: Rule, o: Obligation, by_id: Mapping[int, EventFacts]
) -> tuple[Allocation, ...]:
    if rule.is_attend:
        (event_id,) = o.evidence
        return (Allocation(event_id, o.period.start, o.actual),)
    return tuple(
        Allocation(event_id, by_id[event_id].day, event_value(rule, by_id[event_id]))
        for event_id in o.evidence
    )


def obligations_on(
    entries: Iterable[Entry], as_of: date, first: date, last: date, review_mode: str = "off"
) -> Iterator[Obligation]:
    """The obligations the engine gives on ``as_of`` for periods overlapping ``[first,
    last]``, in the entries' order (``last`` must not be later than their horizon)."""
    for entry in entries:
        if entry.opens_on is not None and entry.opens_on > as_of:
            continue
        if entry.period.overlaps(first, last):
            yield obligation_on(entry, as_of, review_mode)


def obligation_on(entry: Entry, as_of: date, review_mode: str = "off") -> Obligation:
    """One entry stated on ``as_of`` (which it must exist on)."""
    served = [each for each in entry.allocation if each.day <= as_of]
    actual = sum((each.value for each in served), Decimal(0))
    met_on = entry.satisfied_on
    if met_on is not None and met_on > as_of:
        met_on = None
    waived = entry.waiver is not None
    if entry.kind == ATTEND:
        status = Status.EXEMPT if waived else Status.MET if met_on else Status.MISSED
    else:
        start = entry.period.start
        status = status_on(start, entry.due, entry.grace_end, met_on, as_of, waived)
    days_left = None if status.closed else (entry.due - as_of).days
    hopeful = entry.hopeful_on
    awaiting = (
        review_mode == "required"
        and not waived
        and status not in _MET
        and hopeful is not None
        and hopeful <= as_of
    )
    return Obligation(
        entry.unit_id,
        entry.rule_id,
        entry.period,
        entry.due,
        entry.grace_end,
        status,
        entry.required,
        actual,
        tuple(each.event_id for each in served),
        days_left,
        entry.waiver,
        awaiting,
        met_on,
    )
