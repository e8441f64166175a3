"""Placing one unit's meetings: the days allowed, and greedy interval stabbing.

`stab` gives the needs of one unit (meetings its obligations still need, each with the window
``[earliest, latest]`` and its due date) the fewest days it can: the needs sorted by their
latest day (of equal ones, the one whose window opens last first), the first unserved one gets
its latest allowed day, and that meeting also serves every other unserved need whose window
holds the day, at most one need per rule. `Board` says which days are allowed: workdays the
unit holds no meeting on, in a county below its per-day cap. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from scheduler.core.compliance import UnitFacts
from scheduler.core.periods import Period
from scheduler.core.rules import Rule

WEEKDAYS_ATTRIBUTE = "meeting_weekdays"


class PlannedFacts(NamedTuple):
    """A planned (not yet held, not cancelled) meeting: it counts as an event on its day."""

    id: int
    unit_id: int
    day: date
    kinds: frozenset[str]


@dataclass(frozen=True, slots=True)
class Need:
    """One meeting an obligation still needs: ``copy`` of how many it is short."""

    unit_id: int
    rule: Rule
    period: Period
    due: date
    earliest: date
    latest: date
    copy: int = 0

    @property
    def kind(self) -> str:
        return self.rule.requirement.kind


class Target(NamedTuple):
    """An obligation a proposed meeting serves: rule id and period."""

    rule_id: str
    period: Period
    due: date


@dataclass(frozen=True)
class Proposal:
    """A proposed meeting: its unit, day, kinds and what it serves."""

    unit_id: int
    day: date
    kinds: tuple[str, ...]
    serves: tuple[Target, ...]
    notes: tuple[str, ...] = ()


class Unplaced(NamedTuple):
    """An obligation nothing could be planned for, and why (``past_due`` or ``no_day``)."""

    unit_id: int
    rule_id: str
    period: Period
    due: date
    reason: str


class Board:
    """Which days are workdays, which a unit already holds, and how loaded each county is."""

    def __init__(
        self,
        units: Sequence[UnitFacts],
        planned: Sequence[PlannedFacts],
        is_workday: Callable[[date], bool],
        per_day: int,
    ) -> None:
        self.county = county_roots(units)
        self.per_day = per_day
        self._is_workday = is_workday
        self._workdays: dict[date, bool] = {}
        self.busy: dict[int, set[date]] = defaultdict(set)
        self.load: dict[tuple[int, date], int] = defaultdict(int)
        for meeting in planned:
            self.take(meeting.unit_id, meeting.day)

    def workday(self, day: date) -> bool:
        known = self._workdays.get(day)
        if known is None:
            known = self._workdays[day] = self._is_workday(day)
        return known

    def free(self, unit_id: int, day: date) -> bool:
        """A workday the unit holds no meeting on, in a county below its cap."""
        if day in self.busy[unit_id] or not self.workday(day):
            return False
        return self.load[(self.county.get(unit_id, unit_id), day)] < self.per_day

    def take(self, unit_id: int, day: date) -> None:
        self.busy[unit_id].add(day)
        self.load[(self.county.get(unit_id, unit_id), day)] += 1


def county_roots(units: Sequence[UnitFacts]) -> dict[int, int]:
    """Each unit's county: its nearest ancestor (or itself) of kind ``county``, else its root."""
    by_id = {unit.id: unit for unit in units}
    roots: dict[int, int] = {}

    def root_of(unit: UnitFacts) -> int:
        trail: list[int] = []
        current: UnitFacts | None = unit
        found = unit.id
        while current is not None:
            if current.id in roots:
                found = roots[current.id]
                break
            trail.append(current.id)
            found = current.id
            if current.kind == "county":
                break
            parent = by_id.get(current.parent_id) if current.parent_id is not None else None
            if parent is None or parent.id in trail:
                break
            current = parent
        for unit_id in trail:
            roots[unit_id] = found
        return found

    for unit in units:
        root_of(unit)
    return roots


def preferred_weekdays(attributes: Mapping[str, object]) -> frozenset[int]:
    """The ISO weekdays (1 Monday … 7 Sunday) of ``meeting_weekdays``: ``1;3``, ``1 3``, or a
    number whose digits are weekdays (``13``, as a spreadsheet reads ``1,3``); empty: any."""
    value = attributes.get(WEEKDAYS_ATTRIBUTE)
    if value is None:
        return frozenset()
    text = str(value)
    for separator in ";,，、 /":
        text = text.replace(separator, "")
    return frozenset(int(digit) for digit in text if digit in "1234567")


# ----------------------------------------------------------------------------------------------
# Stabbing


def stab(
    needs: Sequence[Need], free: Callable[[date], bool], weekdays: frozenset[int] = frozenset()
) -> Iterable[tuple[Proposal | None, Unplaced | None]]:
    """Greedy interval stabbing over ``needs`` (one unit's, sharing meetings).

    Yields each proposal as soon as it is made, so the caller can mark its day taken before the
    next day is chosen (``free`` is asked again)."""
    pending = sorted(needs, key=_order)
    done = [False] * len(pending)
    taken: set[date] = set()
    for index, need in enumerate(pending):
        if done[index]:
            continue
        done[index] = True
        day, notes = pick_day(need, lambda d: d not in taken and free(d), weekdays)
        if day is None:
            yield None, Unplaced(need.unit_id, need.rule.id, need.period, need.due, "no_day")
            continue
        taken.add(day)
        group = [need]
        for other_index in range(index + 1, len(pending)):
            other = pending[other_index]
            if done[other_index] or any(g.rule.id == other.rule.id for g in group):
                continue
            if _holds(other, day, need):
                done[other_index] = True
                group.append(other)
        yield _proposal(group, day, notes), None


def _order(need: Need) -> tuple[date, date, int, str, int]:
    """Earliest latest day first; of equal ones, the one whose window opens last."""
    return (need.latest, need.due, -need.earliest.toordinal(), need.rule.id, need.copy)


def _holds(other: Need, day: date, first: Need) -> bool:
    """Whether a meeting on ``day`` (chosen for ``first``) may serve ``other`` too."""
    if day < other.earliest or day > other.due:
        return False
    return day <= other.latest or other.latest <= first.latest


def _proposal(group: Sequence[Need], day: date, notes: tuple[str, ...]) -> Proposal:
    kinds = tuple(dict.fromkeys(need.kind for need in group))
    serves = tuple(Target(need.rule.id, need.period, need.due) for need in group)
    return Proposal(group[0].unit_id, day, kinds, serves, notes)


def pick_day(
    need: Need, free: Callable[[date], bool], weekdays: frozenset[int]
) -> tuple[date | None, tuple[str, ...]]:
    """The latest allowed day in [earliest, latest], else the earliest in (latest, due]; a
    preferred weekday when any is left, else another workday (with the notes that say so)."""
    inside = _days(need.earliest, need.latest, backwards=True)
    after = _days(max(need.earliest, need.latest + timedelta(days=1)), need.due, backwards=False)
    for days, margin_note in ((inside, ()), (after, ("short_margin",))):
        for preferred in (True, False) if weekdays else (False,):
            for day in days:
                if preferred and day.isoweekday() not in weekdays:
                    continue
                if free(day):
                    weekday_note = ("other_weekday",) if weekdays and not preferred else ()
                    return day, (*margin_note, *weekday_note)
    return None, ()


def _days(first: date, last: date, backwards: bool) -> list[date]:
    count = (last - first).days + 1
    if count <= 0:
        return []
    days = [first + timedelta(days=offset) for offset in range(count)]
    return days[::-1] if backwards else days
