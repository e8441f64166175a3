"""The annual assessment (scheduler.core.assessment): each rule weighed once per unit and year,
late and exempt obligations as the ruleset says, ranks only among units of one kind."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core.access import Principal, Role
from scheduler.core.assessment import (
    CENT,
    UnitScore,
    assess,
    may_read_scores,
    score_rule,
    scored_kinds,
    sees_ranks,
    without_ranks,
)
from scheduler.core.compliance import Obligation, Status, UnitFacts, WaiverFacts
from scheduler.core.periods import day_period
from scheduler.core.ruleparse import parse_rulebook
from scheduler.core.rules import Rule, RuleBook, Scoring
from tests.facts import COUNTY, EAST, LONG_AGO, UNITS, VILLAGE, WEST, event, obligations

OTHER_VILLAGE = UnitFacts(5, "10201", "西河村", "village", 3, LONG_AGO)
GRACE_RULES = """\
ruleset: graced
title: {zh: 宽限, en: Graced}
unit_kinds: [county, township, village]
roles: {chair: {zh: 主席, en: Chair}}
event_kinds: {visit: {zh: 走访, en: Visit}}
assessment: {late_credit: 0.25}
rules:
  - id: quarterly-visit
    title: {zh: 每季度走访, en: Quarterly visit}
    cite: 每季度至少走访1次
    applies_to: [township]
    every: quarter
    require: {count: visit, at_least: 1}
    grace: 20 days
    effective: {from: 2021-01-01}
    points: 8
"""


def made(rule: Rule, unit: UnitFacts, statuses: Iterable[Status]) -> list[Obligation]:
    """Obligations of ``unit`` under ``rule`` with these statuses, one a day from 2021-01-01."""
    found = []
    for number, status in enumerate(statuses):
        day = day_period(date(2021, 1, 1) + timedelta(days=number))
        nothing = (Decimal(1), Decimal(0), (), None)
        found.append(Obligation(unit.id, rule.id, day, day.end, day.end, status, *nothing))
    return found


def line_of(lines: Sequence[UnitScore], unit: UnitFacts) -> UnitScore:
    return next(line for line in lines if line.unit == unit)


def test_two_villages_with_one_attendance_rate_and_different_meeting_counts_score_alike_on_r9(
    book: RuleBook,
) -> None:
    r9 = book.rule("village-chair-attendance")
    events = []
    for village, meetings in ((VILLAGE, 4), (OTHER_VILLAGE, 12)):
        for number in range(meetings):
            attended = ["fulian_chair"] if number % 4 else []
            day = f"2021-{number % 12 + 1:02d}-{number // 12 + 10}"
            events.append(event(village, day, "branch_meeting", attended=attended))
    found = obligations(r9, "2021-12-31", events, units=[*UNITS, OTHER_VILLAGE], first="2021-01-01")
    card = assess([r9], [*UNITS, OTHER_VILLAGE], found, "village")
    few, many = (line_of(card.lines, v).rules[0] for v in (VILLAGE, OTHER_VILLAGE))
    assert (few.due, few.met, many.due, many.met) == (4, 3, 12, 9)
    assert few.earned == many.earned == (r9.points * 3 / 4).quantize(CENT)
    assert line_of(card.lines, VILLAGE).rank == line_of(card.lines, OTHER_VILLAGE).rank == 1


def test_a_township_with_5_of_6_hearings_on_time_earns_five_sixths_of_r3s_points(
    book: RuleBook,
) -> None:
    r3 = book.rule("township-hearing")
    events = [event(EAST, f"2021-{month:02d}-10", "hearing") for month in (1, 3, 5, 7, 9)]
    found = obligations(r3, "2022-01-15", events, first="2021-01-01", last="2021-12-31")
    score = score_rule(r3, [o for o in found if o.unit_id == EAST.id])
    assert (score.due, score.met, score.met_late, score.missed) == (6, 5, 0, 1)
    assert score.earned == (r3.points * 5 / 6).quantize(CENT)


def test_late_counts_the_rulesets_late_credit_and_exempt_leaves_the_count() -> None:
    rule = parse_rulebook([("graced.yaml", GRACE_RULES)]).rule("quarterly-visit")
    events = [event(EAST, "2021-02-01", "visit"), event(EAST, "2021-07-10", "visit")]
    waivers = {(EAST.id, rule.id, "2021-Q3"): WaiverFacts("防汛", "县妇联")}
    found = obligations(rule, "2022-02-01", events, first="2021-01-01", waivers=waivers)
    score = score_rule(rule, [o for o in found if o.unit_id == EAST.id])
    assert (score.due, score.met, score.met_late, score.missed, score.exempt) == (3, 1, 1, 1, 1)
    assert rule.score.late_credit == Decimal("0.25")
    assert score.earned == (rule.points * (1 + Decimal("0.25")) / 3).quantize(CENT)


def test_the_bundled_rules_earn_a_share_of_their_points_with_late_at_half(book: RuleBook) -> None:
    assert {rule.score for rule in book.rules} == {Scoring(late_credit=Decimal("0.5"))}
    r3 = book.rule("township-hearing")
    statuses = [Status.MET, Status.MET_LATE, Status.MISSED, Status.MISSED]
    assert score_rule(r3, made(r3, EAST, statuses)).earned == (
        r3.points * Decimal("1.5") / 4
    ).quantize(CENT)


def test_obligations_not_yet_due_do_not_count_and_a_rule_with_none_due_adds_no_points(
    book: RuleBook,
) -> None:
    rules = [book.rule("township-hearing"), book.rule("township-report")]
    events = [event(EAST, "2021-02-10", "hearing")]
    found = [
        o for rule in rules for o in obligations(rule, "2021-05-10", events, first="2021-01-01")
    ]
    line = line_of(assess(rules, UNITS, found, "township").lines, EAST)
    hearing, report = line.rules
    assert (hearing.due, hearing.met, hearing.missed) == (2, 1, 1)
    assert (report.due, report.counted, report.earned) == (0, False, 0)
    assert line.possible == rules[0].points and line.total == hearing.earned


def test_a_deduction_rule_loses_its_points_per_missed_obligation_never_below_its_floor(
    book: RuleBook,
) -> None:
    rule = dataclasses.replace(
        book.rule("township-hearing"),
        points=Decimal(10),
        score=Scoring(Decimal("0.5"), deduct=Decimal(3), floor=Decimal(2)),
    )
    one_missed_one_late = [Status.MET, Status.MISSED, Status.MET_LATE, Status.OPEN]
    assert score_rule(rule, made(rule, EAST, one_missed_one_late)).earned == 10 - 3 * Decimal("1.5")
    assert score_rule(rule, made(rule, EAST, [Status.MISSED] * 4)).earned == 2
    assert score_rule(rule, made(rule, EAST, [Status.UPCOMING])).counted is False


def test_units_are_ranked_only_among_their_kind_and_equal_units_share_a_rank(
    book: RuleBook,
) -> None:
    r3, r9 = book.rule("township-hearing"), book.rule("village-chair-attendance")
    third = UnitFacts(6, "103", "南岭镇", "township", 1, LONG_AGO)
    fourth = UnitFacts(7, "104", "北川镇", "township", 1, LONG_AGO)
    units = [*UNITS, third, fourth]
    found = [
        *made(r3, EAST, [Status.MET, Status.MISSED]),
        *made(r3, WEST, [Status.MISSED, Status.MET]),
        *made(r3, third, [Status.MET, Status.MET]),
        *made(r9, VILLAGE, [Status.MET]),
    ]
    card = assess(book.rules, units, found, "township")
    assert [(line.unit.code, line.rank) for line in card.lines] == [
        ("103", 1), ("101", 2), ("102", 2), ("104", None)
    ]  # fmt: skip
    assert {rule.id for rule in card.rules} == {
        rule.id for rule in book.rules if "township" in rule.applies_to
    }
    assert [line.rank for line in without_ranks(card).lines] == [None] * 4


def test_the_default_kind_is_the_most_numerous_one_that_rules_score(book: RuleBook) -> None:
    villages = [UnitFacts(10 + n, f"1010{n}", "村", "village", 2, LONG_AGO) for n in range(3)]
    workshops = [UnitFacts(20 + n, f"w{n}", "车间", "workshop", 2, LONG_AGO) for n in range(5)]
    units = [COUNTY, EAST, WEST, *villages, *workshops]
    assert scored_kinds(book.rules, units, book.unit_kinds) == ["village", "township", "county"]
    assert scored_kinds(book.rules, [EAST], book.unit_kinds) == ["township"]


def test_the_scores_are_for_admins_and_for_clerks_only_when_the_deployment_says_so() -> None:
    admin = Principal(1, "a", "", Role.ADMIN, None)
    clerk = Principal(2, "c", "", Role.CLERK, EAST.id)
    viewer = Principal(3, "v", "", Role.VIEWER, COUNTY.id)
    assert [may_read_scores(user, "admins") for user in (admin, clerk, viewer)] == [
        True, False, False
    ]  # fmt: skip
    assert [may_read_scores(user, "clerks") for user in (admin, clerk, viewer)] == [
        True, True, False
    ]  # fmt: skip
    assert [sees_ranks(user) for user in (admin, clerk)] == [True, False]


STATUS_COUNTS = st.fixed_dictionaries(
    {status: st.integers(0, 5) for status in Status}
)  # how many obligations of each status


@settings(max_examples=150, deadline=None)
@given(
    counts=st.lists(STATUS_COUNTS, min_size=4, max_size=4),
    points=st.lists(st.integers(1, 40).map(lambda n: Decimal(n) / 2), min_size=2, max_size=2),
    late_credit=st.sampled_from([Decimal(0), Decimal("0.25"), Decimal("0.5"), Decimal(1)]),
    scaled=st.integers(0, 3),
    k=st.integers(2, 9),
)
def test_scaling_the_obligations_of_a_rule_by_k_with_the_same_rates_leaves_every_score_unchanged(
    book: RuleBook,
    counts: list[dict[Status, int]],
    points: list[Decimal],
    late_credit: Decimal,
    scaled: int,
    k: int,
) -> None:
    rules = [
        dataclasses.replace(book.rule(rule_id), points=weight, score=Scoring(late_credit))
        for rule_id, weight in zip(("township-hearing", "township-study"), points, strict=True)
    ]
    cells = [(unit, rule) for unit in (EAST, WEST) for rule in rules]

    def card(times: int) -> list[tuple[object, ...]]:
        found = []
        for position, ((unit, rule), tally) in enumerate(zip(cells, counts, strict=True)):
            factor = times if position == scaled else 1
            found += made(rule, unit, [s for s, n in tally.items() for _ in range(n * factor)])
        lines = assess(rules, UNITS, found, "township").lines
        return [
            (line.unit.code, line.rank, line.total, line.possible, *(r.earned for r in line.rules))
            for line in lines
        ]

    assert card(k) == card(1)
