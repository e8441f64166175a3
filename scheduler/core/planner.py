"""The year planner: the fewest meetings that serve every open count obligation of a year.

`plan_year` reads the obligations from the engine (`scheduler.core.compliance.evaluate`), with
the unit's planned meetings counted as if they were held on their day, so that only what is still
needed is planned. Semantics:

* The year's obligations are those of the calendar count rules (``every`` with ``{count: KIND,
  at_least: N}``) whose period ends in the year. Rolling rules (``within``) are not planned: each
  of their windows opens on the day of the last event, so they are named in ``skipped``.
* An obligation met by held events or by planned meetings (late included) is served already; an
  exempt one needs nothing. One still short of N events whose due date has passed on ``as_of``
  cannot be placed (``past_due``); any other needs N − actual more meetings, on distinct days.
* A meeting may serve an obligation from max(period start, ``as_of`` + 1) (and after the grace
  of an earlier unmet obligation of its rule, which would otherwise take it) to ``due`` −
  ``margin_days``. When no allowed day lies there, it takes the earliest allowed day after
  that, up to the due date (``short_margin``: as close to the margin as feasible).
* An allowed day is an official workday, of the unit's preferred ISO weekdays
  (``meeting_weekdays``, e.g. ``1;3``; another workday only when none is left, ``other_weekday``),
  holding no planned or proposed meeting of the unit, and fewer than ``per_day`` planned and
  proposed meetings in the unit's county subtree (its nearest unit of kind ``county``, else the
  root of its tree).
* Placement is interval stabbing, per unit: needs sorted by their latest day; the first unserved
  one gets a meeting on its latest allowed day, and that meeting also serves every other unserved
  need whose window holds the day, at most one need per rule (an event counts once per rule, for
  the earliest obligation that wants it). A rule marked ``separate`` gets meetings of its own.
  Without the per-day cap, busy days and weekday preferences this is the optimum (for needs
  whose windows of one rule are disjoint or equal, as calendar periods are); with them it is a
  greedy plan, units in code order.
* The engine has the last word: it is run again with the proposals held on their days, and a
  proposal serves exactly the obligations whose satisfying events include it (``late`` when
  only after due, ``short_margin`` when within the margin). An obligation still unmet is
  ``no_day``; it is given up and the placement redone (at most three passes), the later
  periods of its rule starting after its grace, so that it cannot take their meetings.

Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from scheduler.core.compliance import (
    EventFacts,
    Obligation,
    Status,
    UnitFacts,
    WaiverFacts,
    WaiverKey,
    evaluate,
)
from scheduler.core.periods import Period
from scheduler.core.placement import (
    Board,
    Need,
    PlannedFacts,
    Proposal,
    Target,
    Unplaced,
    preferred_weekdays,
    stab,
)
from scheduler.core.rules import CountRequirement, Rule

__all__ = ["Need", "Plan", "PlanOptions", "PlannedFacts", "Proposal", "Target", "Unplaced"]


@dataclass(frozen=True)
class PlanOptions:
    """``planner.margin_days`` and ``planner.per_day`` of config.yaml."""

    margin_days: int = 10
    per_day: int = 3


class Covered(NamedTuple):
    """An obligation served already by planned meetings (their ids)."""

    unit_id: int
    rule_id: str
    period: Period
    due: date
    meetings: tuple[int, ...]


@dataclass
class Plan:
    """What `plan_year` proposes, and what its coverage is."""

    proposals: list[Proposal] = field(default_factory=list)
    covered: list[Covered] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def served(self) -> list[tuple[int, Target]]:
        """Every (unit id, obligation) a proposal serves, once each."""
        seen: dict[tuple[int, str, str], tuple[int, Target]] = {}
        for proposal in self.proposals:
            for target in proposal.serves:
                key = (proposal.unit_id, target.rule_id, target.period.label)
                seen.setdefault(key, (proposal.unit_id, target))
        return list(seen.values())


def plannable_rules(rules: Iterable[Rule]) -> tuple[list[Rule], list[Rule]]:
    """The calendar count rules the planner places, and the rolling count rules it skips."""
    counted = [rule for rule in rules if isinstance(rule.requirement, CountRequirement)]
    return [r for r in counted if r.cadence is not None], [r for r in counted if r.rolling]


def plan_year(
    rules: Sequence[Rule],
    units: Sequence[UnitFacts],
    targets: Sequence[int],
    events: Iterable[EventFacts],
    waivers: Mapping[WaiverKey, WaiverFacts],
    planned: Sequence[PlannedFacts],
    is_workday: Callable[[date], bool],
    year: int,
    as_of: date,
    options: PlanOptions = PlanOptions(),
) -> Plan:
    """Propose meetings for the units ``targets`` (ids) for ``year``, as of ``as_of``.

    ``units`` is the whole tree (the county subtrees count every planned meeting in them);
    ``events`` the held events of the targets up to ``as_of``; ``planned`` every planned
    meeting (those dated on or after ``as_of`` count as evidence)."""
    calendar_rules, rolling = plannable_rules(rules)
    wanted = set(targets)
    chosen = [unit for unit in units if unit.id in wanted]
    held = list(events)
    projected = project(calendar_rules, chosen, held, waivers, planned, year, as_of)
    given_up: frozenset[tuple[int, str, str]] = frozenset()
    for _ in range(_PASSES):
        plan = Plan(skipped=[rule.id for rule in rolling])
        needs = _needs(calendar_rules, projected, year, as_of, options, plan, given_up)
        board = Board(units, planned, is_workday, options.per_day)
        for unit in sorted(chosen, key=lambda unit: unit.code):
            if needs.get(unit.id):
                _place_unit(unit, needs[unit.id], board, plan)
        codes = {unit.id: unit.code for unit in chosen}
        plan.proposals.sort(key=lambda p: (codes[p.unit_id], p.day))
        final = project(calendar_rules, chosen, held, waivers, planned, year, as_of, plan.proposals)
        plan = settle(plan, needs, final, options)
        missed = {
            (u.unit_id, u.rule_id, u.period.label) for u in plan.unplaced if u.reason == "no_day"
        }
        if missed <= given_up:
            break
        given_up |= missed
    return plan


# An obligation left without a day would take a later period's meeting in its grace: the
# planner gives it up and plans again, the later periods starting after its grace.
_PASSES = 3
_PROPOSED = -(10**12)  # ids of proposals as events: _PROPOSED - index


def settle(
    plan: Plan, needs: Mapping[int, list[Need]], final: Sequence[Obligation], options: PlanOptions
) -> Plan:
    """What each proposal serves, as the engine allocates it once the proposals are held: an
    obligation that needed meetings and is met lists the proposals among its evidence; one
    still unmet is ``no_day``. Proposals left serving nothing are dropped."""
    wanted = {(n.unit_id, n.rule.id, n.period.label) for group in needs.values() for n in group}
    serves: dict[int, list[Target]] = defaultdict(list)
    unplaced = list(plan.unplaced)
    for o in final:
        key = (o.unit_id, o.rule_id, o.period.label)
        if key not in wanted:
            continue
        if o.status in (Status.MET, Status.MET_LATE):
            # the first ``required`` events satisfied it; later ones only sit in its period
            for evidence in o.evidence[: int(o.required or 0)]:
                if evidence <= _PROPOSED:
                    serves[_PROPOSED - evidence].append(Target(o.rule_id, o.period, o.due))
        else:
            unplaced.append(Unplaced(o.unit_id, o.rule_id, o.period, o.due, "no_day"))
    margin = timedelta(days=options.margin_days)
    proposals = []
    for index, proposal in enumerate(plan.proposals):
        targets = tuple(sorted(serves[index], key=lambda t: (t.due, t.rule_id)))
        if targets:
            notes = [n for n in proposal.notes if n != "short_margin"]
            if proposal.day > min(t.due for t in targets):
                notes.insert(0, "late")
            elif proposal.day > min(t.due for t in targets) - margin:
                notes.insert(0, "short_margin")
            proposals.append(
                Proposal(proposal.unit_id, proposal.day, proposal.kinds, targets, tuple(notes))
            )
    return Plan(proposals, plan.covered, unplaced, plan.skipped)


def project(
    rules: Sequence[Rule],
    units: Sequence[UnitFacts],
    events: Iterable[EventFacts],
    waivers: Mapping[WaiverKey, WaiverFacts],
    planned: Sequence[PlannedFacts],
    year: int,
    as_of: date,
    proposals: Sequence[Proposal] = (),
) -> list[Obligation]:
    """The obligations as they will stand once the planned meetings are held: the engine run
    at the end of every window, with each planned meeting (id −id) as an event on its day, and
    each of ``proposals`` too (id ``_PROPOSED`` − its index)."""
    held = [event for event in events if event.day <= as_of]
    unit_ids = {unit.id for unit in units}
    future = [
        EventFacts(-meeting.id, meeting.unit_id, meeting.day, meeting.kinds)
        for meeting in planned
        if meeting.day >= as_of and meeting.unit_id in unit_ids
    ]
    future += [
        EventFacts(_PROPOSED - index, p.unit_id, p.day, frozenset(p.kinds))
        for index, p in enumerate(proposals)
    ]
    horizon = max([date(year, 12, 31), *(_lag_end(rule, date(year, 12, 31)) for rule in rules)])
    first = min(date(year, 1, 1), as_of) - timedelta(days=_longest_lag(rules, year))
    return evaluate(rules, units, [*held, *future], waivers, horizon, first, date(year, 12, 31))


def _lag_end(rule: Rule, period_end: date) -> date:
    return rule.grace.after(rule.due_of(period_end))


def _longest_lag(rules: Sequence[Rule], year: int) -> int:
    end = date(year, 1, 1)
    return max([0, *((_lag_end(rule, end) - end).days for rule in rules)]) + 1


def _needs(
    rules: Sequence[Rule],
    projected: Sequence[Obligation],
    year: int,
    as_of: date,
    options: PlanOptions,
    plan: Plan,
    given_up: frozenset[tuple[int, str, str]] = frozenset(),
) -> dict[int, list[Need]]:
    """The meetings each unit still needs, and (into ``plan``) what is covered, past due or
    ``given_up`` (no day; later periods of its rule start after its grace)."""
    by_rule = {rule.id: rule for rule in rules}
    shadow: dict[tuple[int, str], date] = {}
    needs: dict[int, list[Need]] = defaultdict(list)
    margin = timedelta(days=options.margin_days)
    for o in sorted(projected, key=lambda o: (o.unit_id, o.rule_id, o.period.start)):
        if o.status is Status.EXEMPT:
            continue
        key = (o.unit_id, o.rule_id)
        satisfied = o.status in (Status.MET, Status.MET_LATE)
        ends_in_year = o.period.end.year == year
        if satisfied:
            planned_ids = tuple(sorted(-e for e in o.evidence[: int(o.required or 0)] if e < 0))
            if ends_in_year and planned_ids:
                plan.covered.append(Covered(o.unit_id, o.rule_id, o.period, o.due, planned_ids))
            continue
        lost = (o.unit_id, o.rule_id, o.period.label) in given_up
        if o.due <= as_of or lost:
            shadow[key] = max(shadow.get(key, o.grace_end), o.grace_end)
            if ends_in_year:
                reason = "no_day" if lost else "past_due"
                plan.unplaced.append(Unplaced(o.unit_id, o.rule_id, o.period, o.due, reason))
            continue
        if not ends_in_year:
            continue
        earliest = max(o.period.start, as_of + timedelta(days=1))
        if key in shadow:
            earliest = max(earliest, shadow[key] + timedelta(days=1))
        missing = int((o.required or 0) - o.actual)
        rule = by_rule[o.rule_id]
        for copy in range(max(missing, 0)):
            needs[o.unit_id].append(
                Need(o.unit_id, rule, o.period, o.due, earliest, o.due - margin, copy)
            )
    return needs


# ----------------------------------------------------------------------------------------------
# Placing


def _place_unit(unit: UnitFacts, needs: list[Need], board: Board, plan: Plan) -> None:
    """Place one unit's needs on the board (what finds no day is settled by the engine)."""
    weekdays = preferred_weekdays(unit.attributes)
    shared = [need for need in needs if not need.rule.separate]
    classes = [shared] + [
        [need for need in needs if need.rule.id == rule_id]
        for rule_id in dict.fromkeys(need.rule.id for need in needs if need.rule.separate)
    ]
    for group in classes:
        for proposal, _ in stab(group, lambda day: board.free(unit.id, day), weekdays):
            if proposal is not None:
                board.take(unit.id, proposal.day)
                plan.proposals.append(proposal)


# ----------------------------------------------------------------------------------------------
# Moving a planned meeting


def move_problems(
    rules: Sequence[Rule],
    units: Sequence[UnitFacts],
    events: Iterable[EventFacts],
    waivers: Mapping[WaiverKey, WaiverFacts],
    planned: Sequence[PlannedFacts],
    meeting_id: int,
    day: date,
    is_workday: Callable[[date], bool],
    as_of: date,
    options: PlanOptions = PlanOptions(),
) -> list[tuple[str, str]]:
    """Why planned meeting ``meeting_id`` may not move to ``day``, as (reason, detail) pairs:
    ``past`` (not after ``as_of``), ``not_workday``, ``busy`` (the unit holds another planned
    meeting that day), ``cap`` (its county holds ``per_day`` already) and ``unserved`` for each
    obligation the meeting serves that the new day would leave unmet, or met only late where it
    was met on time. Empty: it may move."""
    meeting = next(p for p in planned if p.id == meeting_id)
    others = [p for p in planned if p.id != meeting_id]
    problems: list[tuple[str, str]] = []
    if day <= as_of:
        problems.append(("past", day.isoformat()))
    if not is_workday(day):
        problems.append(("not_workday", day.isoformat()))
    if any(p.unit_id == meeting.unit_id and p.day == day for p in others):
        problems.append(("busy", day.isoformat()))
    board = Board(units, others, is_workday, options.per_day)
    if board.load[(board.county.get(meeting.unit_id, meeting.unit_id), day)] >= options.per_day:
        problems.append(("cap", day.isoformat()))
    calendar_rules, _ = plannable_rules(rules)
    unit = [u for u in units if u.id == meeting.unit_id]
    held = list(events)
    years = sorted({meeting.day.year, day.year})
    moved = [*others, meeting._replace(day=day)]
    for year in years:
        before = project(calendar_rules, unit, held, waivers, planned, year, as_of)
        after = {
            _key(o): o for o in project(calendar_rules, unit, held, waivers, moved, year, as_of)
        }
        for o in before:
            served = -meeting_id in o.evidence[: int(o.required or 0)] and _met(o)
            if served and _RANK[after[_key(o)].status] < _RANK[o.status]:
                problems.append(("unserved", f"{o.rule_id} {o.period.label}"))
    return problems


def _key(o: Obligation) -> tuple[int, str, str]:
    return (o.unit_id, o.rule_id, o.period.label)


# how well an obligation is met: on time 2, late 1, any other status 0
_RANK: defaultdict[Status, int] = defaultdict(int, {Status.MET: 2, Status.MET_LATE: 1})


def _met(o: Obligation) -> bool:
    return o.status in (Status.MET, Status.MET_LATE)
