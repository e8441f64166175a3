"""The year planner's core: fewest meetings, on workdays, inside every window it serves."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from scheduler.core.compliance import EventFacts, Status, UnitFacts, evaluate
from scheduler.core.placement import county_roots, preferred_weekdays
from scheduler.core.planner import Plan, PlannedFacts, PlanOptions, move_problems, plan_year
from scheduler.core.ruleparse import parse_rulebook
from scheduler.core.rules import RuleBook
from scheduler.core.workdays import Workdays
from tests.facts import COUNTY, EAST, UNITS, VILLAGE, WEST, event

CALENDAR = Workdays.of()
JAN_1 = date(2026, 1, 1)
DEFAULTS = PlanOptions()


def township(unit_id: int, code: str, **attributes: object) -> UnitFacts:
    return UnitFacts(
        unit_id, code, f"镇{code}", "township", COUNTY.id, date(2000, 1, 1), None, attributes
    )


def plan_of(
    book: RuleBook,
    as_of: date = JAN_1,
    units: tuple[UnitFacts, ...] = UNITS,
    events: list[EventFacts] | None = None,
    planned: list[PlannedFacts] | None = None,
    options: PlanOptions = DEFAULTS,
    workdays: Workdays = CALENDAR,
    year: int = 2026,
) -> Plan:
    targets = [unit.id for unit in units]
    return plan_year(
        book.rules, units, targets, events or [], {}, planned or [], workdays.is_workday, year,
        as_of, options,
    )  # fmt: skip


def at(plan: Plan, unit: UnitFacts) -> list[tuple[date, tuple[str, ...]]]:
    return [(p.day, tuple(f"{t.rule_id} {t.period.label}" for t in p.serves))
            for p in plan.proposals if p.unit_id == unit.id]  # fmt: skip


def test_it_plans_a_township_year_of_the_bundled_rules_in_twelve_meetings(book: RuleBook) -> None:
    plan = plan_of(book)
    meetings = at(plan, EAST)
    assert len(meetings) == 12  # six committee meetings (hearings) and six research visits
    research = [m for m in meetings if any("research" in s for s in m[1])]
    assert len(research) == 6 and all(len(served) == 1 for _, served in research)
    first = meetings[1]
    assert first == (
        date(2026, 2, 14),  # Saturday, a working day of the 2026 Spring Festival (调休)
        ("township-hearing 2026-B1", "township-study 2026-Q1", "township-report 2026-H1"),
    )
    assert not plan.unplaced and at(plan, COUNTY) == [
        # the term's conference joins the half-year study; 19 June is the Dragon Boat Festival
        (
            date(2026, 6, 18),
            ("county-standing-study 2026-H1", "county-conference 2021-10-01/2026-09-30"),
        ),
        (date(2026, 12, 21), ("county-standing-study 2026-H2",)),
    ]
    assert at(plan, VILLAGE) == []  # villages owe attendance and funds, no counted meeting


def test_each_meeting_lies_on_a_workday_margin_days_before_the_due_dates_it_serves(
    book: RuleBook,
) -> None:
    plan = plan_of(book)
    for proposal in plan.proposals:
        assert CALENDAR.is_workday(proposal.day)
        for target in proposal.serves:
            assert target.period.start <= proposal.day <= target.due - timedelta(days=10)


def test_the_meetings_make_every_obligation_they_serve_met(book: RuleBook) -> None:
    plan = plan_of(book)
    events = [
        EventFacts(n, p.unit_id, p.day, frozenset(p.kinds)) for n, p in enumerate(plan.proposals, 1)
    ]
    found = evaluate(book.rules, UNITS, events, {}, date(2027, 1, 31), JAN_1, date(2026, 12, 31))
    status = {(o.unit_id, o.rule_id, o.period.label): o.status for o in found}
    for unit_id, target in plan.served():
        assert status[(unit_id, target.rule_id, target.period.label)] is Status.MET


def test_held_events_and_planned_meetings_count_so_replanning_adds_only_what_is_missing(
    book: RuleBook,
) -> None:
    held = [event(EAST, "2026-01-20", "hearing", "study")]
    planned = [PlannedFacts(7, EAST.id, date(2026, 4, 10), frozenset({"hearing", "study"}))]
    plan = plan_of(book, as_of=date(2026, 2, 1), events=held, planned=planned)
    served = [s for _, group in at(plan, EAST) for s in group]
    for already in ("township-hearing 2026-B1", "township-study 2026-Q1"):
        assert already not in served
    assert "township-hearing 2026-B2" not in served and "township-study 2026-Q2" not in served
    covered = {
        (c.rule_id, c.period.label): c.meetings for c in plan.covered if c.unit_id == EAST.id
    }
    assert covered == {("township-hearing", "2026-B2"): (7,), ("township-study", "2026-Q2"): (7,)}
    assert date(2026, 4, 10) not in [day for day, _ in at(plan, EAST)]


def test_an_obligation_past_due_and_unmet_is_reported_not_placed(book: RuleBook) -> None:
    plan = plan_of(book, as_of=date(2026, 3, 5), units=(COUNTY, EAST))
    unplaced = {
        (u.rule_id, u.period.label, u.reason) for u in plan.unplaced if u.unit_id == EAST.id
    }
    assert ("township-hearing", "2026-B1", "past_due") in unplaced
    assert ("township-study", "2026-Q1", "past_due") not in unplaced  # due 31 March


def test_it_comes_as_close_to_the_margin_as_it_can_when_the_due_date_is_near(
    book: RuleBook,
) -> None:
    plan = plan_of(book, as_of=date(2026, 3, 25), units=(COUNTY, EAST))
    study = next(p for p in plan.proposals if any(t.period.label == "2026-Q1" for t in p.serves))
    assert study.day == date(2026, 3, 26) and study.notes == ("short_margin",)


def test_preferred_weekdays_are_kept(book: RuleBook) -> None:
    east = township(EAST.id, EAST.code, meeting_weekdays="2;4")
    plan = plan_of(book, units=(COUNTY, east))
    days = [p.day for p in plan.proposals if p.unit_id == east.id]
    assert days and all(day.isoweekday() in (2, 4) for day in days)


def test_no_county_holds_more_than_per_day_planned_meetings_a_day(book: RuleBook) -> None:
    units = (COUNTY, *(township(10 + n, f"2{n:02d}") for n in range(6)))
    existing = [PlannedFacts(99, COUNTY.id, date(2026, 2, 13), frozenset({"conference"}))]
    plan = plan_of(book, units=units, planned=existing, options=PlanOptions(per_day=2))
    load = Counter(p.day for p in plan.proposals) + Counter({date(2026, 2, 13): 1})
    assert max(load.values()) == 2
    assert len(plan.proposals) == 2 + 6 * 12  # the cap moves meetings, it adds none


def test_what_has_no_allowed_day_is_reported(book: RuleBook) -> None:
    all_off = Workdays.of(holidays=[JAN_1 + timedelta(days=n) for n in range(400)])
    plan = plan_of(book, units=(COUNTY, EAST), workdays=all_off)
    assert not plan.proposals
    assert {u.reason for u in plan.unplaced} == {"no_day"}


def test_a_separate_rule_never_shares_its_meeting() -> None:
    book = parse_rulebook([("r.yaml", RULES.format(separate="true"))])
    plan = plan_of(book, units=(COUNTY, EAST))
    assert all(len(p.serves) == 1 for p in plan.proposals) and len(plan.proposals) == 8
    shared = plan_of(parse_rulebook([("r.yaml", RULES.format(separate="false"))]), units=(EAST,))
    assert len(shared.proposals) == 4


def test_rolling_rules_are_named_not_planned() -> None:
    text = RULES.format(separate="false").replace(
        "every: quarter\n    require: {count: walk", "within: 3 months\n    require: {count: walk"
    )
    plan = plan_of(parse_rulebook([("r.yaml", text)]), units=(EAST,))
    assert plan.skipped == ["visit"] and len(plan.proposals) == 4


def test_an_at_least_two_rule_gets_two_days_per_period() -> None:
    book = parse_rulebook(
        [
            (
                "r.yaml",
                RULES.format(separate="false").replace(
                    "at_least: 1}\n    separate", "at_least: 2}\n    separate"
                ),
            )
        ]
    )
    plan = plan_of(book, units=(EAST,))
    per_quarter = Counter(
        t.period.label for p in plan.proposals for t in p.serves if t.rule_id == "visit"
    )
    assert set(per_quarter.values()) == {2}
    assert len({p.day for p in plan.proposals}) == len(plan.proposals)


RULES = """\
ruleset: r
title: {{zh: 规则, en: Rules}}
unit_kinds: [county, township, village]
roles: {{chair: {{zh: 主席, en: Chair}}}}
event_kinds:
  talk: {{zh: 汇报, en: Talk}}
  walk: {{zh: 走访, en: Walk}}
rules:
  - id: talk
    title: {{zh: 汇报, en: Talk}}
    cite: 每季度汇报
    applies_to: [township]
    every: quarter
    require: {{count: talk, at_least: 1}}
    effective: {{from: 2020-01-01}}
  - id: visit
    title: {{zh: 走访, en: Visit}}
    cite: 每季度走访
    applies_to: [township]
    every: quarter
    require: {{count: walk, at_least: 1}}
    separate: {separate}
    effective: {{from: 2020-01-01}}
"""


@pytest.mark.parametrize(
    ("value", "days"),
    [("1;3", {1, 3}), (13, {1, 3}), ("2 4", {2, 4}), ("周", set()), (None, set())],
)
def test_meeting_weekdays_are_read_from_the_unit_attribute(value: object, days: set[int]) -> None:
    attributes = {} if value is None else {"meeting_weekdays": value}
    assert preferred_weekdays(attributes) == days


def test_a_unit_belongs_to_its_nearest_county() -> None:
    roots = county_roots(UNITS)
    assert roots == {
        COUNTY.id: COUNTY.id,
        EAST.id: COUNTY.id,
        WEST.id: COUNTY.id,
        VILLAGE.id: COUNTY.id,
    }


def test_a_planned_meeting_may_not_move_off_a_workday_onto_a_busy_day_or_out_of_its_window(
    book: RuleBook,
) -> None:
    planned = [
        PlannedFacts(1, EAST.id, date(2026, 2, 13), frozenset({"hearing", "study"})),
        PlannedFacts(2, EAST.id, date(2026, 2, 12), frozenset({"research"})),
    ]

    def problems(day: str) -> list[tuple[str, str]]:
        return move_problems(
            book.rules, UNITS, [], {}, planned, 1, date.fromisoformat(day), CALENDAR.is_workday,
            JAN_1,
        )  # fmt: skip

    assert problems("2026-02-11") == []
    assert problems("2026-02-15") == [("not_workday", "2026-02-15")]  # the Spring Festival
    assert problems("2026-02-12") == [("busy", "2026-02-12")]
    assert problems("2026-03-02") == [("unserved", "township-hearing 2026-B1")]
    assert problems("2025-12-31") == [
        ("past", "2025-12-31"),
        ("unserved", "township-hearing 2026-B1"),
        ("unserved", "township-study 2026-Q1"),
    ]
