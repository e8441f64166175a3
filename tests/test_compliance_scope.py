"""Which obligations exist (scheduler.core.compliance): effective dates, the active life of units,
waivers, and events that carry several kinds."""

from __future__ import annotations

from datetime import date

from scheduler.core.compliance import Status, UnitFacts, WaiverFacts, evaluate
from scheduler.core.rules import RuleBook
from tests.facts import (
    EAST,
    HALF_YEAR_REPORT,
    LONG_AGO,
    event,
    obligations,
    rule_of,
    statuses,
    the,
)

# ----------------------------------------------------------------------------------------------
# Effective dates and the active life of units.


def test_a_rule_starting_mid_period_owes_from_the_next_whole_period(book: RuleBook) -> None:
    before_the_first_period = event(EAST, "2020-10-20", "hearing")
    found = obligations(
        book.rule("township-hearing"),
        "2021-01-01",
        [before_the_first_period],
        units=[EAST],
        last="2020-12-31",
    )
    assert statuses(found, EAST) == {"2020-B6": Status.MISSED}
    assert the(found, EAST, "2020-B6").evidence == ()


def test_a_township_merged_away_in_march_owes_nothing_for_march_april(book: RuleBook) -> None:
    merged = UnitFacts(5, "103", "南坪镇", "township", 1, LONG_AGO, date(2021, 3, 15))
    rules = {
        name: book.rule(name) for name in ("township-hearing", "township-study", "township-funding")
    }
    hearing = obligations(
        rules["township-hearing"], "2021-12-31", units=[merged], first="2021-01-01"
    )
    assert statuses(hearing, merged) == {"2021-B1": Status.MISSED}
    for name in ("township-study", "township-funding"):
        assert obligations(rules[name], "2021-12-31", units=[merged], first="2021-01-01") == []


def test_a_township_founded_mid_period_owes_from_its_first_whole_period(book: RuleBook) -> None:
    founded = UnitFacts(6, "104", "新城镇", "township", 1, date(2021, 2, 10))
    found = obligations(
        book.rule("township-hearing"),
        "2021-05-01",
        [event(founded, "2021-02-15", "hearing")],
        units=[founded],
        first="2021-01-01",
        last="2021-04-30",
    )
    assert statuses(found, founded) == {"2021-B2": Status.MISSED}


def test_attend_obligations_exist_only_inside_the_unit_life_and_from_the_effective_date(
    book: RuleBook,
) -> None:
    merged = UnitFacts(5, "103", "南坪镇", "township", 1, date(2020, 1, 1), date(2021, 3, 15))
    meetings = [
        event(merged, day, "party_meeting")
        for day in ("2020-10-15", "2020-10-16", "2021-03-15", "2021-03-16")
    ]
    found = obligations(
        book.rule("township-chair-attendance"), "2021-12-31", meetings, units=[merged]
    )
    assert list(statuses(found, merged)) == ["2020-10-16", "2021-03-15"]


def test_a_rule_with_an_end_date_owes_no_period_that_ends_after_it() -> None:
    rule = rule_of(
        HALF_YEAR_REPORT.replace("{from: 2021-01-01}", "{from: 2021-01-01, to: 2021-09-30}")
    )
    found = obligations(rule, "2022-12-31", units=[EAST], last="2022-12-31")
    assert list(statuses(found, EAST)) == ["2021-H1"]


# ----------------------------------------------------------------------------------------------
# Waivers and events of several kinds.


def test_a_waiver_makes_the_obligation_exempt_with_its_reason_and_approver(
    book: RuleBook,
) -> None:
    waiver = WaiverFacts("防汛救灾", "县妇联 王主席")
    found = obligations(
        book.rule("township-hearing"),
        "2021-05-10",
        units=[EAST],
        first="2021-01-01",
        waivers={(EAST.id, "township-hearing", "2021-B2"): waiver},
    )
    exempt = the(found, EAST, "2021-B2")
    assert (exempt.status, exempt.waiver, exempt.days_left) == (Status.EXEMPT, waiver, None)
    assert statuses(found, EAST)["2021-B1"] is Status.MISSED


def test_a_waiver_can_excuse_one_meeting_of_an_attend_rule(book: RuleBook) -> None:
    meeting = event(EAST, "2021-05-06", "party_meeting")
    waiver = WaiverFacts("主席病假", "县妇联")
    found = obligations(
        book.rule("township-chair-attendance"),
        "2021-12-31",
        [meeting],
        waivers={(EAST.id, "township-chair-attendance", "2021-05-06"): waiver},
    )
    assert the(found, EAST, "2021-05-06").status is Status.EXEMPT


def test_one_committee_meeting_of_several_kinds_counts_for_each_of_them(book: RuleBook) -> None:
    meeting = event(
        EAST,
        "2021-02-20",
        "hearing",
        "research",
        "study",
        "party_meeting",
        attended=["fulian_chair"],
    )
    rules = [
        book.rule(name)
        for name in (
            "township-hearing",
            "township-research",
            "township-study",
            "township-chair-attendance",
        )
    ]
    found = evaluate(
        rules, [EAST], [meeting], {}, date(2021, 3, 1), date(2021, 1, 1), date(2021, 3, 31)
    )
    served = {(o.rule_id, o.period.label): (o.status, o.evidence) for o in found}
    assert served == {
        ("township-hearing", "2021-B1"): (Status.MET, (meeting.id,)),
        ("township-research", "2021-B1"): (Status.MET, (meeting.id,)),
        ("township-study", "2021-Q1"): (Status.MET, (meeting.id,)),
        ("township-chair-attendance", "2021-02-20"): (Status.MET, (meeting.id,)),
        ("township-hearing", "2021-B2"): (Status.OPEN, ()),
        ("township-research", "2021-B2"): (Status.OPEN, ()),
    }


def test_an_event_of_another_kind_counts_for_nothing(book: RuleBook) -> None:
    found = obligations(
        book.rule("township-hearing"),
        "2021-03-01",
        [event(EAST, "2021-02-01", "research")],
        units=[EAST],
        last="2021-02-28",
    )
    assert the(found, EAST, "2021-B1").status is Status.MISSED
