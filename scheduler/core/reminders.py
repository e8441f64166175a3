"""Which reminders are due on a day: for which obligation, at which stage, to whom.

Pure: plain obligations, rules, units and role holders in; `Reminder`s out. No database, no
clock, no mail.

Semantics:

* Stages of an obligation come from its rule: each ``remind`` entry (``N days before`` the due
  date, ``on due``) and ``escalate`` (``after`` N past the due date, to a role at the parent
  unit, or at the unit itself when the role has no ``parent.`` prefix).
* A before/on-due stage that falls on a day that is not an official workday moves to the
  previous workday. An escalation moves to the *next* workday instead: moved earlier it could
  fall before the deadline has even passed (due 30 September + 7 days lands in National Day).
* On ``day`` an obligation gets its most recent before/on-due stage whose (moved) day is ``day``
  or at most ``catch_up`` days earlier, while the obligation is ``open`` or ``overdue`` on
  ``day``: so a sweep that did not run is made up once, and an obligation met before a stage gets
  nothing. Earlier stages passed over are not sent (the newest says more).
* The escalation is due on its (moved) day, or up to ``catch_up`` days later, while the
  obligation is ``overdue`` or ``missed`` on ``day``.
* Recipients: the holders on ``day`` of the rule's ``responsible`` and ``notify`` roles at the
  unit (for the escalation: the escalation role at the parent unit), each once; plus the unit's
  group chat when it has one. A role nobody holds has no recipient.
* Quiet hours (`QuietHours`): nothing is sent between ``quiet_from`` and ``quiet_to`` (local
  time; a window past midnight wraps) or on a day that is not an official workday; a message due
  then waits for the next allowed moment (`QuietHours.release`). A rule with ``quiet_hours:
  false`` is sent at any time.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from scheduler.core.compliance import Obligation, Status, UnitFacts
from scheduler.core.rules import Rule
from scheduler.core.words import words
from scheduler.core.workdays import Workdays

ESCALATE = "escalate"
_REMINDABLE = frozenset({Status.OPEN, Status.OVERDUE})
_ESCALATABLE = frozenset({Status.OVERDUE, Status.MISSED})
_LONGEST_WAIT = 60  # days: longer than any run of days off


@dataclass(frozen=True, slots=True)
class Holder:
    """A person holding a role at a unit, from ``valid_from`` to ``valid_to`` (inclusive)."""

    person_id: int
    unit_id: int
    role: str
    valid_from: date | None = None
    valid_to: date | None = None

    def holds_on(self, day: date) -> bool:
        after_start = self.valid_from is None or self.valid_from <= day
        return after_start and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder to write: obligation (unit, rule, period), stage and recipient.

    ``recipient`` is ``person:ID`` (mail) or ``chat:UNIT_ID`` (a unit's group chat); ``day`` is
    the stage's (moved) day; ``obligation`` is the obligation as it stands on the sweep day.
    """

    obligation: Obligation
    stage: str
    recipient: str
    person_id: int | None
    chat_unit_id: int | None
    day: date

    @property
    def key(self) -> tuple[int, str, str, str, str]:
        o = self.obligation
        return (o.unit_id, o.rule_id, o.period.label, self.stage, self.recipient)


def stage_days(rule: Rule, due: date, workdays: Workdays) -> list[tuple[str, date]]:
    """The before/on-due stages of an obligation due on ``due``, each with its (moved) day."""
    stages = []
    for stage in rule.remind:
        nominal = stage.before.before(due) if stage.before else due
        stages.append((str(stage), workdays.previous_workday(nominal)))
    return sorted(stages, key=lambda item: item[1])


def escalation_day(rule: Rule, due: date, workdays: Workdays) -> date | None:
    """The (moved) day of the escalation of an obligation due on ``due``; None without one."""
    if rule.escalate is None:
        return None
    return workdays.next_workday(rule.escalate.after.after(due))


def due_stages(
    rule: Rule, obligation: Obligation, day: date, workdays: Workdays, catch_up: int
) -> list[tuple[str, date]]:
    """The stages of ``obligation`` (evaluated on ``day``) due on ``day``: at most two."""
    found = []
    if obligation.status in _REMINDABLE:
        reached = [
            (name, when)
            for name, when in stage_days(rule, obligation.due, workdays)
            if 0 <= (day - when).days <= catch_up
        ]
        found.extend(reached[-1:])
    escalation = escalation_day(rule, obligation.due, workdays)
    escalating = obligation.status in _ESCALATABLE
    if escalation and escalating and 0 <= (day - escalation).days <= catch_up:
        found.append((ESCALATE, escalation))
    return found


def plan(
    rules: Mapping[str, Rule],
    obligations: Iterable[Obligation],
    units: Mapping[int, UnitFacts],
    holders: Sequence[Holder],
    chats: Collection[int],
    day: date,
    workdays: Workdays,
    catch_up: int = 0,
) -> list[Reminder]:
    """Every reminder due on ``day``, in obligation order, recipients in person-id order."""
    by_place = _holders_by_place(holders, day)
    result = []
    for obligation in obligations:
        rule = rules[obligation.rule_id]
        for stage, when in due_stages(rule, obligation, day, workdays, catch_up):
            place, roles = _audience(rule, stage, units[obligation.unit_id])
            if place is None:
                continue
            people = sorted({p for role in roles for p in by_place.get((place, role), ())})
            for person in people:
                result.append(Reminder(obligation, stage, f"person:{person}", person, None, when))
            if place in chats:
                result.append(Reminder(obligation, stage, f"chat:{place}", None, place, when))
    return result


def _audience(rule: Rule, stage: str, unit: UnitFacts) -> tuple[int | None, tuple[str, ...]]:
    """The unit whose role holders get ``stage``, and those roles."""
    if stage != ESCALATE:
        return unit.id, tuple(dict.fromkeys(rule.responsible + rule.notify))
    assert rule.escalate is not None
    place = unit.parent_id if rule.escalate.at_parent else unit.id
    return place, (rule.escalate.role,)


def _holders_by_place(holders: Iterable[Holder], day: date) -> dict[tuple[int, str], set[int]]:
    found: dict[tuple[int, str], set[int]] = defaultdict(set)
    for holder in holders:
        if holder.holds_on(day):
            found[(holder.unit_id, holder.role)].add(holder.person_id)
    return found


@dataclass(frozen=True, slots=True)
class QuietHours:
    """When no reminder goes out: from ``start`` to ``end`` each day, and all of a day off.

    ``start`` after ``end`` wraps past midnight (20:00–08:00); ``start`` equal to ``end`` means
    workdays have no quiet window (only days off are quiet).
    """

    start: time
    end: time

    def _open_spans(self) -> list[tuple[time, time | None]]:
        """The allowed spans of a workday, ``None`` meaning the end of the day."""
        if self.start == self.end:
            return [(time(0), None)]
        if self.start > self.end:
            return [(self.end, self.start)]
        return [(time(0), self.start), (self.end, None)]

    def is_quiet(self, moment: datetime, workdays: Workdays) -> bool:
        """True when ``moment`` (a local wall-clock time) falls in quiet hours."""
        return self.release(moment, workdays) != moment

    def release(self, moment: datetime, workdays: Workdays) -> datetime:
        """The first allowed moment at or after ``moment`` (local, same tzinfo as ``moment``)."""
        for ahead in range(_LONGEST_WAIT):
            day = moment.date() + timedelta(days=ahead)
            if not workdays.is_workday(day):
                continue
            for start, end in self._open_spans():
                opening = datetime.combine(day, start, moment.tzinfo)
                closing = datetime.combine(day, end, moment.tzinfo) if end else None
                if closing is not None and closing <= moment:
                    continue
                return max(opening, moment)
        raise ValueError(f"no allowed time in the {_LONGEST_WAIT} days from {moment}")


_BEFORE = re.compile(r"^(\d+) (day|week|month|year)s? before$")


def stage_name(stage: str, lang: str) -> str:
    """A reminder stage as people read it: 截止前14天, 截止当日, 逾期上报 (or in English)."""
    names = words(lang, "stage.")
    if stage == ESCALATE:
        return names["escalate"]
    if stage == "on due":
        return names["on_due"]
    if stage == "returned":  # a returned event's notice (`scheduler.core.clerk_notices`)
        return names["returned"]
    match = _BEFORE.match(stage)
    if match:
        unit = names[f"unit.{match.group(2)}"]
        return names["before"].format(count=match.group(1), unit=unit, stage=stage)
    return stage
