"""The compliance engine (scheduler.core.compliance), fed plain facts: R1–R12 of the bundled
ruleset, then the allocation contract of DESIGN.md ("Which obligation an event serves")."""

from __future__ import annotations

from datetime import date

from scheduler.core.compliance import Status, UnitFacts
from scheduler.core.rules import RuleBook
from tests.facts import (
    BIMONTHLY_HEARING_WITH_GRACE,
    COUNTY,
    EAST,
    HALF_YEAR_REPORT,
    LONG_AGO,
    VILLAGE,
    WEST,
    event,
    obligations,
    rule_of,
    statuses,
    the,
)

# ----------------------------------------------------------------------------------------------
# R1–R12 on the bundled ruleset.


def test_r1_the_county_owes_one_conference_per_committee_term_from_the_first_whole_term(
    book: RuleBook,
) -> None:
    held = event(COUNTY, "2023-05-10", "conference")
    found = obligations(
        book.rule("county-conference"), "2024-01-01", [held], first="2016-01-01", last="2031-09-30"
    )
    assert statuses(found, COUNTY) == {
        "2021-10-01/2026-09-30": Status.MET,
        "2026-10-01/2031-09-30": Status.UPCOMING,
    }
    assert the(found, COUNTY, "2021-10-01/2026-09-30").evidence == (held.id,)
    assert {o.unit_id for o in found} == {COUNTY.id}


def test_r1_a_term_without_a_conference_is_missed_the_day_after_it_ends(book: RuleBook) -> None:
    rule = book.rule("county-conference")
    on_last_day = obligations(rule, "2026-09-30", first="2021-10-01", last="2026-09-30")
    day_after = obligations(rule, "2026-10-01", first="2021-10-01", last="2026-09-30")
    assert statuses(on_last_day, COUNTY) == {"2021-10-01/2026-09-30": Status.OPEN}
    assert statuses(day_after, COUNTY) == {"2021-10-01/2026-09-30": Status.MISSED}


def test_r2_the_standing_committee_studies_federation_work_each_half_year(book: RuleBook) -> None:
    found = obligations(
        book.rule("county-standing-study"),
        "2022-01-05",
        [event(COUNTY, "2021-03-10", "standing_study")],
        last="2022-06-30",
    )
    assert statuses(found, COUNTY) == {
        "2021-H1": Status.MET,
        "2021-H2": Status.MISSED,
        "2022-H1": Status.OPEN,
    }
    assert the(found, COUNTY, "2022-H1").days_left == 176


def test_r3_it_marks_a_skipped_bimonthly_hearing_missed_right_after_the_period(
    book: RuleBook,
) -> None:
    found = obligations(
        book.rule("township-hearing"),
        "2021-05-10",
        [event(EAST, "2021-02-10", "hearing")],
        first="2021-01-01",
    )
    assert list(statuses(found, EAST).items())[:4] == [
        ("2021-B1", Status.MET),
        ("2021-B2", Status.MISSED),
        ("2021-B3", Status.OPEN),
        ("2021-B4", Status.UPCOMING),
    ]
    assert statuses(found, WEST)["2021-B1"] is Status.MISSED
    assert {o.unit_id for o in found} == {EAST.id, WEST.id}


def test_r4_a_research_visit_in_every_two_months_meets_the_whole_year(book: RuleBook) -> None:
    visits = [event(EAST, f"2021-{month:02d}-15", "research") for month in (2, 3, 6, 8, 9, 12)]
    found = obligations(book.rule("township-research"), "2022-01-01", visits, first="2021-01-01")
    assert list(statuses(found, EAST)) == [f"2021-B{n}" for n in range(1, 7)]
    assert set(statuses(found, EAST).values()) == {Status.MET}


def test_r5_the_quarterly_study_is_open_with_its_days_left_in_the_current_quarter(
    book: RuleBook,
) -> None:
    found = obligations(
        book.rule("township-study"),
        "2021-07-01",
        [event(EAST, "2021-03-31", "study")],
        first="2021-01-01",
    )
    assert statuses(found, EAST) == {
        "2021-Q1": Status.MET,
        "2021-Q2": Status.MISSED,
        "2021-Q3": Status.OPEN,
        "2021-Q4": Status.UPCOMING,
    }
    assert the(found, EAST, "2021-Q3").days_left == 91


def test_r6_a_report_sent_after_the_half_year_counts_for_the_next_one(book: RuleBook) -> None:
    reports = [event(EAST, "2021-06-30", "report"), event(EAST, "2022-01-03", "report")]
    found = obligations(book.rule("township-report"), "2022-01-10", reports, last="2022-06-30")
    assert statuses(found, EAST) == {
        "2021-H1": Status.MET,
        "2021-H2": Status.MISSED,
        "2022-H1": Status.MET,
    }
    assert the(found, EAST, "2022-H1").evidence == (reports[1].id,)


def test_r7_each_county_committee_meeting_needs_the_county_federation_chair(
    book: RuleBook,
) -> None:
    present = event(COUNTY, "2021-03-01", "party_meeting", attended=["fulian_chair"])
    absent = event(COUNTY, "2021-04-01", "party_meeting", attended=["party_secretary"])
    elsewhere = event(EAST, "2021-04-02", "party_meeting")
    found = obligations(
        book.rule("county-chair-attendance"), "2021-12-31", [present, absent, elsewhere]
    )
    assert statuses(found, COUNTY) == {"2021-03-01": Status.MET, "2021-04-01": Status.MISSED}
    met = the(found, COUNTY, "2021-03-01")
    assert (met.period.start, met.period.end, met.due) == (date(2021, 3, 1),) * 3
    assert (met.required, met.actual, met.evidence, met.days_left) == (1, 1, (present.id,), None)
    assert the(found, COUNTY, "2021-04-01").actual == 0
    assert {o.unit_id for o in found} == {COUNTY.id}


def test_r8_each_township_committee_meeting_needs_the_township_federation_chair(
    book: RuleBook,
) -> None:
    meetings = [
        event(EAST, "2021-05-06", "party_meeting", attended=["fulian_chair", "clerk"]),
        event(WEST, "2021-05-07", "party_meeting", attended=["clerk"]),
    ]
    found = obligations(book.rule("township-chair-attendance"), "2021-12-31", meetings)
    assert statuses(found, EAST) == {"2021-05-06": Status.MET}
    assert statuses(found, WEST) == {"2021-05-07": Status.MISSED}


def test_r9_each_village_branch_meeting_needs_the_village_federation_chair(
    book: RuleBook,
) -> None:
    meetings = [
        event(VILLAGE, "2021-06-01", "branch_meeting", attended=["fulian_chair"]),
        event(VILLAGE, "2021-07-01", "branch_meeting"),
        event(VILLAGE, "2021-07-02", "party_meeting"),
    ]
    found = obligations(book.rule("village-chair-attendance"), "2021-12-31", meetings)
    assert statuses(found, VILLAGE) == {"2021-06-01": Status.MET, "2021-07-01": Status.MISSED}


def test_r10_the_county_owes_one_yuan_per_woman_a_year(book: RuleBook) -> None:
    payments = [
        event(COUNTY, "2021-03-01", "funding", amount=50000),
        event(COUNTY, "2021-09-01", "funding", amount=30000),
    ]
    found = obligations(book.rule("county-funding"), "2022-01-05", payments)
    paid = the(found, COUNTY, "2021")
    assert (paid.status, paid.required, paid.actual) == (Status.MET, 80000, 80000)
    assert paid.evidence == tuple(p.id for p in payments)


def test_r10_the_required_amount_follows_the_county_female_population(book: RuleBook) -> None:
    larger = UnitFacts(
        1, "100", "示例县", "county", None, LONG_AGO, None, {"female_population": 120000}
    )
    payments = [event(larger, "2021-03-01", "funding", amount=80000)]
    found = obligations(book.rule("county-funding"), "2022-01-05", payments, units=[larger])
    short = the(found, larger, "2021")
    assert (short.status, short.required, short.actual) == (Status.MISSED, 120000, 80000)


def test_r11_a_township_paid_in_instalments_is_met_on_the_day_the_sum_reaches_ten_thousand(
    book: RuleBook,
) -> None:
    payments = [
        event(EAST, "2021-04-01", "funding", amount=6000),
        event(EAST, "2021-12-31", "funding", amount=4000),
        event(WEST, "2021-06-01", "funding", amount=9999),
    ]
    found = obligations(book.rule("township-funding"), "2022-01-05", payments)
    assert statuses(found, EAST) == {"2021": Status.MET}
    assert the(found, EAST, "2021").actual == 10000
    assert statuses(found, WEST)["2021"] is Status.MISSED


def test_r11_the_first_funding_year_is_2021_in_a_year_that_began_before_the_policy(
    book: RuleBook,
) -> None:
    found = obligations(book.rule("township-funding"), "2020-12-31", last="2020-12-31")
    assert found == []


def test_r12_each_village_owes_two_thousand_yuan_a_year(book: RuleBook) -> None:
    found = obligations(
        book.rule("village-funding"),
        "2021-08-01",
        [event(VILLAGE, "2021-05-01", "funding", amount=2000)],
        first="2021-01-01",
    )
    assert statuses(found, VILLAGE) == {"2021": Status.MET}
    assert {o.unit_id for o in found} == {VILLAGE.id}
    assert the(found, VILLAGE, "2021").required == 2000


# ----------------------------------------------------------------------------------------------
# Which obligation an event serves: due offsets, grace, surplus, as_of.


def test_a_half_year_report_filed_in_july_counts_for_h1_and_not_also_for_h2() -> None:
    report = event(EAST, "2021-07-10", "report")
    found = obligations(rule_of(HALF_YEAR_REPORT), "2021-08-01", [report], units=[EAST])
    first_half, second_half = the(found, EAST, "2021-H1"), the(found, EAST, "2021-H2")
    assert (first_half.status, first_half.due, first_half.evidence) == (
        Status.MET,
        date(2021, 7, 15),
        (report.id,),
    )
    assert (second_half.status, second_half.evidence, second_half.actual) == (Status.OPEN, (), 0)


def test_a_second_july_report_goes_to_h2_once_h1_is_satisfied() -> None:
    reports = [event(EAST, "2021-07-05", "report"), event(EAST, "2021-07-12", "report")]
    found = obligations(rule_of(HALF_YEAR_REPORT), "2021-08-01", reports, units=[EAST])
    assert the(found, EAST, "2021-H1").evidence == (reports[0].id,)
    assert the(found, EAST, "2021-H2").evidence == (reports[1].id,)
    assert statuses(found, EAST) == {"2021-H1": Status.MET, "2021-H2": Status.MET}


def test_a_report_after_the_due_offset_no_longer_counts_for_the_past_half_year() -> None:
    report = event(EAST, "2021-07-16", "report")
    found = obligations(rule_of(HALF_YEAR_REPORT), "2021-08-01", [report], units=[EAST])
    assert statuses(found, EAST) == {"2021-H1": Status.MISSED, "2021-H2": Status.MET}


def test_it_marks_a_bimonthly_hearing_met_late_when_held_within_grace() -> None:
    hearing = event(EAST, "2021-03-05", "hearing")
    found = obligations(
        rule_of(BIMONTHLY_HEARING_WITH_GRACE), "2021-04-01", [hearing], units=[EAST]
    )
    late = the(found, EAST, "2021-B1")
    assert (late.status, late.evidence, late.grace_end) == (
        Status.MET_LATE,
        (hearing.id,),
        date(2021, 3, 10),
    )
    assert the(found, EAST, "2021-B2").evidence == ()


def test_it_marks_a_bimonthly_hearing_overdue_within_grace_with_negative_days_left() -> None:
    found = obligations(rule_of(BIMONTHLY_HEARING_WITH_GRACE), "2021-03-05", units=[EAST])
    overdue = the(found, EAST, "2021-B1")
    assert (overdue.status, overdue.days_left) == (Status.OVERDUE, -5)


def test_it_marks_a_bimonthly_hearing_missed_after_grace() -> None:
    rule = rule_of(BIMONTHLY_HEARING_WITH_GRACE)
    assert statuses(obligations(rule, "2021-03-10", units=[EAST]), EAST)["2021-B1"] is (
        Status.OVERDUE
    )
    assert statuses(obligations(rule, "2021-03-11", units=[EAST]), EAST)["2021-B1"] is (
        Status.MISSED
    )


def test_a_hearing_in_grace_serves_the_current_period_once_the_past_one_is_met() -> None:
    hearings = [event(EAST, "2021-02-10", "hearing"), event(EAST, "2021-03-05", "hearing")]
    found = obligations(rule_of(BIMONTHLY_HEARING_WITH_GRACE), "2021-04-01", hearings, units=[EAST])
    assert the(found, EAST, "2021-B1").evidence == (hearings[0].id,)
    assert the(found, EAST, "2021-B2").evidence == (hearings[1].id,)
    assert statuses(found, EAST)["2021-B2"] is Status.MET


def test_surplus_hearings_are_evidence_of_the_period_holding_their_date(book: RuleBook) -> None:
    hearings = [event(EAST, day, "hearing") for day in ("2021-01-05", "2021-02-20", "2021-02-27")]
    found = obligations(book.rule("township-hearing"), "2021-03-01", hearings, units=[EAST])
    first = the(found, EAST, "2021-B1")
    assert (first.status, first.actual, first.evidence) == (
        Status.MET,
        3,
        tuple(h.id for h in hearings),
    )


def test_a_surplus_report_in_the_due_offset_is_evidence_of_its_own_half_year() -> None:
    reports = [event(EAST, day, "report") for day in ("2021-05-01", "2021-07-05", "2021-07-10")]
    found = obligations(rule_of(HALF_YEAR_REPORT), "2021-08-01", reports, units=[EAST])
    assert the(found, EAST, "2021-H1").evidence == (reports[0].id,)
    assert the(found, EAST, "2021-H2").evidence == (reports[1].id, reports[2].id)


def test_events_dated_after_as_of_do_not_exist_yet(book: RuleBook) -> None:
    tomorrow = event(EAST, "2021-02-11", "hearing")
    found = obligations(book.rule("township-hearing"), "2021-02-10", [tomorrow], units=[EAST])
    pending = the(found, EAST, "2021-B1")
    assert (pending.status, pending.actual, pending.evidence, pending.days_left) == (
        Status.OPEN,
        0,
        (),
        18,
    )


def test_a_met_obligation_is_closed_even_before_its_period_ends(book: RuleBook) -> None:
    found = obligations(
        book.rule("township-hearing"),
        "2021-01-20",
        [event(EAST, "2021-01-20", "hearing")],
        units=[EAST],
    )
    met = the(found, EAST, "2021-B1")
    assert (met.status, met.days_left) == (Status.MET, None)
    assert the(found, EAST, "2021-B2").days_left == 100  # upcoming: 2021-04-30 - 2021-01-20


def test_only_obligations_overlapping_the_asked_dates_are_listed(book: RuleBook) -> None:
    found = obligations(
        book.rule("township-hearing"),
        "2021-12-31",
        units=[EAST],
        first="2021-04-30",
        last="2021-05-01",
    )
    assert list(statuses(found, EAST)) == ["2021-B2", "2021-B3"]
