"""Rolling windows (``within: D``) and the allocation rule as properties
(scheduler.core.compliance)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core.compliance import EventFacts, Obligation, Status, UnitFacts, evaluate
from scheduler.core.periods import CalendarCadence, Duration
from scheduler.core.rules import CountRequirement, Rule
from tests.facts import EAST, event, obligations, rule_of

MONTHLY_VISIT = """
    within: 1 month
    require: {count: hearing, at_least: 1}
    effective: {from: 2021-01-31}
"""
SATISFIED = (Status.MET, Status.MET_LATE)


def windows(found: list[Obligation]) -> list[tuple[str, Status]]:
    return [(o.period.label, o.status) for o in found]


# ----------------------------------------------------------------------------------------------
# Examples.


def test_rolling_windows_chain_from_each_hearing_and_from_each_missed_due() -> None:
    hearings = [event(EAST, day, "hearing") for day in ("2021-02-20", "2021-03-31", "2021-05-15")]
    found = obligations(rule_of(MONTHLY_VISIT), "2021-07-01", hearings, units=[EAST])
    assert windows(found) == [
        ("2021-01-31/2021-02-28", Status.MET),
        ("2021-02-20/2021-03-20", Status.MISSED),
        ("2021-03-20/2021-04-20", Status.MET),
        ("2021-03-31/2021-04-30", Status.MISSED),
        ("2021-04-30/2021-05-30", Status.MET),
        ("2021-05-15/2021-06-15", Status.MISSED),
        ("2021-06-15/2021-07-15", Status.OPEN),
    ]
    assert [o.evidence for o in found if o.status is Status.MET] == [(h.id,) for h in hearings]
    assert found[-1].days_left == 14


def test_the_first_rolling_window_opens_when_the_unit_starts_if_after_the_rule() -> None:
    founded = UnitFacts(7, "105", "新区", "township", 1, date(2021, 3, 10))
    rule = rule_of(MONTHLY_VISIT.replace("1 month", "2 months"))
    found = obligations(rule, "2021-04-01", units=[founded])
    assert windows(found) == [("2021-03-10/2021-05-10", Status.OPEN)]


def test_a_rolling_window_met_in_grace_is_met_late_and_the_next_opens_on_that_day() -> None:
    rule = rule_of(MONTHLY_VISIT + "grace: 10 days")
    found = obligations(rule, "2021-03-20", [event(EAST, "2021-03-05", "hearing")], units=[EAST])
    assert windows(found) == [
        ("2021-01-31/2021-02-28", Status.MET_LATE),
        ("2021-03-05/2021-04-05", Status.OPEN),
    ]
    assert found[0].grace_end == date(2021, 3, 10)


def test_a_rolling_window_missed_after_grace_gives_way_to_one_opened_on_its_due() -> None:
    rule = rule_of(MONTHLY_VISIT + "grace: 10 days")
    found = obligations(rule, "2021-03-20", [event(EAST, "2021-03-15", "hearing")], units=[EAST])
    assert windows(found) == [
        ("2021-01-31/2021-02-28", Status.MISSED),
        ("2021-02-28/2021-03-28", Status.MET),
        ("2021-03-15/2021-04-15", Status.OPEN),
    ]


def test_rolling_windows_cross_the_year_without_resetting() -> None:
    rule = rule_of(MONTHLY_VISIT.replace("2021-01-31", "2020-12-15"))
    found = obligations(rule, "2021-02-20", units=[EAST])
    assert windows(found) == [
        ("2020-12-15/2021-01-15", Status.MISSED),
        ("2021-01-15/2021-02-15", Status.MISSED),
        ("2021-02-15/2021-03-15", Status.OPEN),
    ]


def test_a_unit_merged_away_owes_no_rolling_window_that_ends_after_it() -> None:
    merged = replace(EAST, active_to=date(2021, 4, 10))
    found = obligations(rule_of(MONTHLY_VISIT), "2021-12-31", units=[merged])
    assert [o.period.end for o in found] == [date(2021, 2, 28), date(2021, 3, 28)]


# ----------------------------------------------------------------------------------------------
# Properties.

BASE_ROLLING = rule_of(MONTHLY_VISIT)
BASE_CALENDAR = rule_of(
    "every: month\nrequire: {count: hearing, at_least: 1}\neffective: {from: 2021-01-01}"
)
DURATIONS = st.one_of(
    st.builds(Duration, st.integers(1, 60), st.just("days")),
    st.builds(Duration, st.integers(1, 8), st.just("weeks")),
    st.builds(Duration, st.integers(1, 3), st.just("months")),
)
DAY_OFFSETS = st.lists(st.integers(min_value=-30, max_value=500), max_size=25)
ORIGIN = date(2021, 1, 1)


def facts(offsets: list[int]) -> list[EventFacts]:
    return [
        EventFacts(n, EAST.id, ORIGIN + timedelta(days=offset), frozenset({"hearing"}))
        for n, offset in enumerate(sorted(offsets), start=1)
    ]


def run(
    rule: Rule, events: list[EventFacts], as_of: date, unit: UnitFacts = EAST
) -> list[Obligation]:
    return evaluate([rule], [unit], events, {}, as_of, date(2020, 1, 1), date(2023, 12, 31))


def days_of(events: list[EventFacts]) -> dict[int, date]:
    return {e.id: e.day for e in events}


@settings(max_examples=150, deadline=None)
@given(
    within=DURATIONS,
    effective=st.integers(0, 60),
    unit_start=st.integers(-60, 60),
    offsets=DAY_OFFSETS,
    as_of=st.integers(0, 480),
    at_least=st.integers(1, 2),
)
def test_rolling_windows_chain_without_gaps(
    within: Duration, effective: int, unit_start: int, offsets: list[int], as_of: int, at_least: int
) -> None:
    rule = replace(
        BASE_ROLLING,
        rolling=within,
        requirement=CountRequirement("hearing", at_least),
        effective_from=ORIGIN + timedelta(days=effective),
    )
    unit = replace(EAST, active_from=ORIGIN + timedelta(days=unit_start))
    events, today = facts(offsets), ORIGIN + timedelta(days=as_of)
    found = run(rule, events, today, unit)
    opening = max(rule.effective_from, unit.active_from or rule.effective_from)
    if opening > today:
        assert found == []
        return
    day = days_of(events)
    assert found[0].period.start == opening
    for window in found:
        assert window.period.end == window.due == within.after(window.period.start)
    for earlier, later in pairwise(found):
        closed_on = day[earlier.evidence[-1]] if earlier.status in SATISFIED else earlier.due
        assert later.period.start == closed_on <= earlier.period.end
    assert found[-1].status in (Status.OPEN, Status.OVERDUE) and found[-1].days_left is not None
    counted = [e.id for e in events if opening <= e.day <= today]
    assert sorted(i for o in found for i in o.evidence) == counted


@settings(max_examples=150, deadline=None)
@given(
    months=st.sampled_from([1, 2, 3, 6, 5]),
    due=st.integers(0, 40),
    grace=st.integers(0, 40),
    offsets=DAY_OFFSETS,
    as_of=st.integers(0, 540),
    at_least=st.integers(1, 3),
)
def test_each_event_serves_exactly_one_calendar_obligation_and_never_skips_a_wanting_one(
    months: int, due: int, grace: int, offsets: list[int], as_of: int, at_least: int
) -> None:
    rule = replace(
        BASE_CALENDAR,
        cadence=CalendarCadence(months),
        due_offset=Duration(due, "days") if due else None,
        grace=Duration(grace, "days"),
        requirement=CountRequirement("hearing", at_least),
    )
    events, today = facts(offsets), ORIGIN + timedelta(days=as_of)
    found = run(rule, events, today)
    day = days_of(events)
    served = [i for o in found for i in o.evidence]
    assert sorted(served) == [e.id for e in events if ORIGIN <= e.day <= today]
    for obligation in found:
        on_time = [i for i in obligation.evidence if day[i] <= obligation.due]
        in_time = [i for i in obligation.evidence if day[i] <= obligation.grace_end]
        assert obligation.due == rule.due_of(obligation.period.end)
        if obligation.status is Status.MET:
            assert len(on_time) >= at_least
        elif obligation.status is Status.MET_LATE:
            assert len(on_time) < at_least <= len(in_time)
        else:
            assert len(obligation.evidence) < at_least
            earlier_or_own = {
                i for o in found if o.period.start <= obligation.period.start for i in o.evidence
            }
            wanted = [
                e.id
                for e in events
                if obligation.period.start <= e.day <= min(obligation.grace_end, today)
            ]
            assert set(wanted) <= earlier_or_own
