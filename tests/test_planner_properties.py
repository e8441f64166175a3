"""Properties of the year planner over random rulesets of count rules and random years."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from itertools import combinations, pairwise

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduler.core.compliance import EventFacts, Status, UnitFacts, evaluate
from scheduler.core.periods import Period
from scheduler.core.placement import Need, PlannedFacts, stab
from scheduler.core.planner import PlanOptions, plan_year, project
from scheduler.core.ruleparse import parse_rulebook
from scheduler.core.rules import RuleBook
from scheduler.core.workdays import Workdays

CALENDAR = Workdays.of()
KINDS = ("talk", "study", "walk")
CADENCES = ("month", "2 months", "quarter", "half-year", "year")
COUNTY = UnitFacts(1, "1", "县", "county", None)
TOWNS = tuple(UnitFacts(n, str(n), f"镇{n}", "township", 1) for n in (2, 3, 4))
UNITS = (COUNTY, *TOWNS)

HEAD = """\
ruleset: random
title: {zh: 随机, en: Random}
unit_kinds: [county, township]
roles: {chair: {zh: 主席, en: Chair}}
event_kinds: {talk: {zh: 汇报, en: Talk}, study: {zh: 研究, en: Study}, walk: {zh: 走访, en: Walk}}
rules:
"""


@st.composite
def rulebooks(draw: st.DrawFn) -> RuleBook:
    lines = [HEAD]
    for number in range(draw(st.integers(1, 4))):
        due = draw(st.sampled_from(["period end", "+5 days", "+15 days"]))
        lines.append(
            f"  - id: rule-{number}\n"
            f"    title: {{zh: 规则{number}, en: Rule {number}}}\n"
            f"    cite: 第{number}条\n"
            f"    applies_to: [township]\n"
            f"    every: {draw(st.sampled_from(CADENCES))}\n"
            f"    require: {{count: {draw(st.sampled_from(KINDS))}, "
            f"at_least: {draw(st.integers(1, 2))}}}\n"
            f"    due: {due}\n"
            f"    grace: {draw(st.sampled_from(['0 days', '10 days']))}\n"
            f"    separate: {str(draw(st.booleans())).lower()}\n"
            f"    effective: {{from: 2000-01-01}}\n"
        )
    return parse_rulebook([("random.yaml", "".join(lines))])


cases = st.tuples(
    rulebooks(),
    st.integers(2004, 2030),
    st.integers(-20, 360),
    st.integers(1, 3),
    st.integers(0, 20),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases)
def test_every_placeable_need_is_served_inside_its_window_on_a_workday_within_the_cap(
    case: tuple[RuleBook, int, int, int, int],
) -> None:
    book, year, offset, per_day, margin = case
    as_of = date(year, 1, 1) + timedelta(days=offset)
    options = PlanOptions(margin, per_day)
    targets = [unit.id for unit in TOWNS]
    plan = plan_year(
        book.rules, UNITS, targets, [], {}, [], CALENDAR.is_workday, year, as_of, options
    )
    per_unit_day = Counter((p.unit_id, p.day) for p in plan.proposals)
    assert max(per_unit_day.values(), default=0) == 1
    assert max(Counter(p.day for p in plan.proposals).values(), default=0) <= per_day
    projected = project(book.rules, TOWNS, [], {}, [], year, as_of)
    settled = (Status.MET, Status.MET_LATE, Status.EXEMPT)
    open_ = [o for o in projected if o.period.end.year == year and o.status not in settled]
    needs = sum(int((o.required or 0) - o.actual) for o in open_ if o.due > as_of)
    assert len(plan.proposals) <= needs  # never more than one meeting per missing event
    served = Counter(
        (p.unit_id, t.rule_id, t.period.label) for p in plan.proposals for t in p.serves
    )
    unplaced = {(u.unit_id, u.rule_id, u.period.label) for u in plan.unplaced}
    for o in open_:
        key = (o.unit_id, o.rule_id, o.period.label)
        missing = int((o.required or 0) - o.actual)
        assert served[key] == missing or key in unplaced
    for proposal in plan.proposals:
        assert CALENDAR.is_workday(proposal.day) and proposal.day > as_of
        assert len({t.rule_id for t in proposal.serves}) == len(proposal.serves)
        for target in proposal.serves:
            assert target.period.start <= proposal.day <= target.due or "late" in proposal.notes
            if not {"short_margin", "late"} & set(proposal.notes):
                assert proposal.day <= target.due - timedelta(days=margin)
    _check_the_engine_agrees(book, plan.proposals, plan.served(), year)


def _check_the_engine_agrees(book: RuleBook, proposals: list, served: list, year: int) -> None:
    """Held as proposed, the meetings make every obligation they serve met (on time)."""
    events = [
        EventFacts(n, p.unit_id, p.day, frozenset(p.kinds)) for n, p in enumerate(proposals, 1)
    ]
    found = evaluate(
        book.rules, UNITS, events, {}, date(year + 1, 12, 31), date(year, 1, 1), date(year, 12, 31)
    )
    status = {(o.unit_id, o.rule_id, o.period.label): o.status for o in found}
    for unit_id, target in served:
        assert status[(unit_id, target.rule_id, target.period.label)] in (
            Status.MET,
            Status.MET_LATE,
        )


# ----------------------------------------------------------------------------------------------
# Small cases against the brute-force optimum


@st.composite
def small_cases(draw: st.DrawFn) -> tuple[list[Need], frozenset[date]]:
    """Needs of up to three rules in a fortnight, and the days that are free: each rule cuts
    the fortnight into periods (as a cadence does), each period owing one or two meetings."""
    start = date(2026, 3, 2)
    rule_book = parse_rulebook([("r.yaml", HEAD + "".join(_rule(n) for n in range(3)))])
    needs = []
    for rule in rule_book.rules[: draw(st.integers(1, 3))]:
        cuts = sorted(draw(st.sets(st.integers(1, 13), max_size=3)))
        bounds = [0, *cuts, 14]
        for first, after in pairwise(bounds):
            period = Period(start + timedelta(days=first), start + timedelta(days=after - 1), "p")
            for copy in range(draw(st.integers(0, 2))):
                needs.append(Need(2, rule, period, period.end, period.start, period.end, copy))
    assume(0 < len(needs) <= 7)
    free = draw(st.sets(st.integers(0, 13), min_size=3))
    return needs, frozenset(start + timedelta(days=n) for n in free)


def _rule(number: int) -> str:
    return (
        f"  - id: r{number}\n    title: {{zh: 规则, en: Rule}}\n    cite: 条\n"
        f"    applies_to: [township]\n    every: month\n"
        f"    require: {{count: {KINDS[number]}, at_least: 1}}\n"
        "    effective: {from: 2000-01-01}\n"
    )


def optimum(needs: list[Need], free: frozenset[date]) -> int | None:
    """The fewest free days to which every need can be matched (inside its window, one need
    per rule a day), by trying every set of days; None when no set works."""
    days = sorted(free)
    for size in range(1, len(needs) + 1):
        for chosen in combinations(days, size):
            if _matches(needs, chosen, {}):
                return size
    return None


def _matches(needs: list[Need], days: tuple[date, ...], used: dict[tuple[date, str], bool]) -> bool:
    if not needs:
        return True
    need, rest = needs[0], needs[1:]
    for day in days:
        key = (day, need.rule.id)
        if need.earliest <= day <= need.latest and key not in used:
            used[key] = True
            if _matches(rest, days, used):
                return True
            del used[key]
    return False


@settings(max_examples=200, deadline=None)
@given(small_cases())
def test_on_small_cases_the_plan_has_the_fewest_meetings_possible(
    case: tuple[list[Need], frozenset[date]],
) -> None:
    needs, free = case
    results = list(stab(needs, lambda day: day in free))
    best = optimum(needs, free)
    assume(best is not None)
    assert all(proposal is not None for proposal, _ in results)
    assert len(results) == best


busy_cases = st.tuples(
    rulebooks(),
    st.integers(2020, 2028),
    st.lists(st.tuples(st.sampled_from(TOWNS), st.integers(0, 364)), max_size=25),
    st.lists(st.sets(st.integers(1, 7), max_size=3), min_size=3, max_size=3),
    st.integers(1, 3),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(busy_cases)
def test_planned_meetings_keep_their_days_and_preferred_weekdays_are_kept_when_possible(
    case: tuple[RuleBook, int, list[tuple[UnitFacts, int]], list[set[int]], int],
) -> None:
    book, year, busy, weekdays, per_day = case
    towns = tuple(
        UnitFacts(
            t.id, t.code, t.name, t.kind, 1, None, None, {"meeting_weekdays": "".join(map(str, w))}
        )
        for t, w in zip(TOWNS, weekdays, strict=True)
    )
    units = (COUNTY, *towns)
    start = date(year, 1, 1)
    planned = [
        PlannedFacts(n, town.id, start + timedelta(days=offset), frozenset({"conference"}))
        for n, (town, offset) in enumerate(busy, 1)
    ]
    as_of = start - timedelta(days=1)
    options = PlanOptions(10, per_day)
    plan = plan_year(
        book.rules, units, [t.id for t in towns], [], {}, planned, CALENDAR.is_workday, year,
        as_of, options,
    )  # fmt: skip
    held = {(p.unit_id, p.day) for p in planned}
    load = Counter(p.day for p in planned)
    for proposal in plan.proposals:
        assert (proposal.unit_id, proposal.day) not in held
        preferred = weekdays[proposal.unit_id - 2]
        if preferred and "other_weekday" not in proposal.notes:
            assert proposal.day.isoweekday() in preferred
    proposed = Counter(p.day for p in plan.proposals)
    for day, count in proposed.items():
        assert load[day] + count <= per_day
