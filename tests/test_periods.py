"""Calendar arithmetic: durations, calendar buckets, terms and their labels
(scheduler.core.periods)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import dropwhile, islice, pairwise

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from scheduler.core.periods import (
    CalendarCadence,
    Duration,
    Period,
    TermCadence,
    day_period,
    parse_calendar_cadence,
    period_of_label,
)

DAYS = st.dates(min_value=date(1901, 1, 1), max_value=date(2199, 12, 31))
YEARS = st.integers(min_value=1901, max_value=2199)
# Every calendar size a rule can name: divisors of 12, other month counts, and N years.
MONTH_COUNTS = st.sampled_from([1, 2, 3, 4, 6, 12, 5, 7, 9, 11, 24, 36, 60])
LETTER_LABELS = {
    1: r"^\d{4}-\d{2}$",
    2: r"^\d{4}-B[1-6]$",
    3: r"^\d{4}-Q[1-4]$",
    6: r"^\d{4}-H[12]$",
    12: r"^\d{4}$",
}


def first_periods(
    cadence: CalendarCadence | TermCadence, day: date, anchor: int, count: int = 30
) -> list[Period]:
    return list(islice(cadence.periods_from(day, anchor), count))


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


# ----------------------------------------------------------------------------------------------
# Calendar buckets: properties.


@given(months=MONTH_COUNTS, day=DAYS, anchor=YEARS)
def test_calendar_buckets_follow_each_other_without_gap_or_overlap(
    months: int, day: date, anchor: int
) -> None:
    periods = first_periods(CalendarCadence(months), day, anchor)
    for period, following in pairwise(periods):
        assert period.start <= period.end
        assert following.start == period.end + timedelta(days=1)


@given(months=MONTH_COUNTS, day=DAYS, anchor=YEARS)
def test_each_calendar_bucket_is_whole_months_on_the_grid_of_its_anchor(
    months: int, day: date, anchor: int
) -> None:
    for period in first_periods(CalendarCadence(months), day, anchor, count=6):
        assert period.start.day == 1
        assert period.end == period.start + relativedelta(months=months) - timedelta(days=1)
        grid_origin = date(anchor if 12 % months else period.start.year, 1, 1)
        assert months_between(grid_origin, period.start) % months == 0


@given(months=MONTH_COUNTS, day=DAYS, anchor=YEARS)
def test_the_first_bucket_is_the_earliest_that_starts_on_or_after_the_given_day(
    months: int, day: date, anchor: int
) -> None:
    first = first_periods(CalendarCadence(months), day, anchor, count=1)[0]
    assert first.start >= day
    assert first.start - relativedelta(months=months) < day


@given(months=MONTH_COUNTS, earlier=DAYS, gap=st.integers(0, 20_000), anchor=YEARS)
def test_buckets_are_the_same_grid_whatever_day_they_are_listed_from(
    months: int, earlier: date, gap: int, anchor: int
) -> None:
    late = first_periods(CalendarCadence(months), earlier + timedelta(days=gap), anchor, count=3)
    walked = CalendarCadence(months).periods_from(earlier, anchor)
    from_earlier = list(islice(dropwhile(lambda p: p.start < late[0].start, walked), 3))
    assert from_earlier == late


@given(months=st.sampled_from([1, 2, 3, 6, 12]), day=DAYS)
def test_every_january_starts_a_bucket_when_the_size_divides_a_year(months: int, day: date) -> None:
    january = date(day.year + 1, 1, 1)
    starts = {p.start for p in first_periods(CalendarCadence(months), day, 1901, count=13)}
    assert january in starts


@given(months=MONTH_COUNTS, day=DAYS, anchor=YEARS)
def test_calendar_labels_round_trip_through_period_of_label(
    months: int, day: date, anchor: int
) -> None:
    for period in first_periods(CalendarCadence(months), day, anchor, count=4):
        assert period_of_label(period.label) == (period.start, period.end)
        if months in LETTER_LABELS:
            assert re.match(LETTER_LABELS[months], period.label)
        else:
            assert period.label == f"{period.start.isoformat()}/{period.end.isoformat()}"


@given(day=DAYS)
def test_a_day_label_round_trips(day: date) -> None:
    period = day_period(day)
    assert (period.start, period.end, period.label) == (day, day, day.isoformat())
    assert period_of_label(period.label) == (day, day)


# ----------------------------------------------------------------------------------------------
# Terms.


TERM_STARTS = st.one_of(
    DAYS,
    st.sampled_from([date(2020, 2, 29), date(2021, 1, 31), date(2021, 10, 1), date(2024, 2, 29)]),
)


@given(start=TERM_STARTS, years=st.integers(min_value=1, max_value=6), day=DAYS)
def test_terms_are_aligned_to_the_term_start_and_never_drift(
    start: date, years: int, day: date
) -> None:
    for period in first_periods(TermCadence("board", start, years), day, 0, count=8):
        index, remainder = divmod(period.start.year - start.year, years)
        assert remainder == 0
        assert period.start == start + relativedelta(years=index * years)


@given(start=TERM_STARTS, years=st.integers(min_value=1, max_value=6), day=DAYS)
def test_terms_follow_each_other_without_gap_and_the_first_starts_on_or_after_the_day(
    start: date, years: int, day: date
) -> None:
    periods = first_periods(TermCadence("board", start, years), day, 0, count=8)
    index = (periods[0].start.year - start.year) // years
    assert periods[0].start >= day > start + relativedelta(years=(index - 1) * years)
    for period, following in pairwise(periods):
        assert following.start == period.end + timedelta(days=1)
        assert period_of_label(period.label) == (period.start, period.end)


def test_a_five_year_term_is_listed_from_its_start_with_an_iso_interval_label() -> None:
    terms = first_periods(
        TermCadence("county_committee", date(2021, 10, 1), 5), date(2020, 10, 16), 0, count=2
    )
    assert [term.label for term in terms] == ["2021-10-01/2026-09-30", "2026-10-01/2031-09-30"]


def test_terms_before_the_declared_start_are_aligned_to_it_too() -> None:
    terms = first_periods(
        TermCadence("county_committee", date(2021, 10, 1), 5), date(2010, 1, 1), 0, count=3
    )
    assert [term.start for term in terms] == [
        date(2011, 10, 1),
        date(2016, 10, 1),
        date(2021, 10, 1),
    ]


def test_a_term_starting_on_29_february_comes_back_to_29_february_in_leap_years() -> None:
    terms = first_periods(TermCadence("leap", date(2020, 2, 29), 1), date(2019, 6, 1), 0, 6)
    assert [term.label for term in terms] == [
        "2020-02-29/2021-02-27",
        "2021-02-28/2022-02-27",
        "2022-02-28/2023-02-27",
        "2023-02-28/2024-02-28",
        "2024-02-29/2025-02-27",
        "2025-02-28/2026-02-27",
    ]


# ----------------------------------------------------------------------------------------------
# Durations and month-end clamping.


@pytest.mark.parametrize(
    ("text", "day", "after"),
    [
        ("1 month", date(2021, 1, 31), date(2021, 2, 28)),
        ("1 month", date(2020, 1, 31), date(2020, 2, 29)),
        ("1 month", date(2021, 3, 31), date(2021, 4, 30)),
        ("1 year", date(2020, 2, 29), date(2021, 2, 28)),
        ("4 years", date(2020, 2, 29), date(2024, 2, 29)),
        ("2 months", date(2020, 12, 31), date(2021, 2, 28)),
        ("15 days", date(2021, 6, 30), date(2021, 7, 15)),
        ("2 weeks", date(2021, 12, 25), date(2022, 1, 8)),
        ("0 days", date(2021, 6, 30), date(2021, 6, 30)),
    ],
)
def test_a_duration_after_a_day_clamps_to_the_end_of_a_short_month(
    text: str, day: date, after: date
) -> None:
    assert Duration.parse(text).after(day) == after


def test_a_duration_before_a_day_clamps_too() -> None:
    assert Duration.parse("1 month").before(date(2021, 3, 31)) == date(2021, 2, 28)
    assert Duration.parse("14 days").before(date(2021, 1, 5)) == date(2020, 12, 22)


@given(day=DAYS, count=st.integers(min_value=0, max_value=48))
def test_adding_months_keeps_the_day_or_lands_on_the_last_day_of_the_month(
    day: date, count: int
) -> None:
    later = Duration(count, "months").after(day)
    assert months_between(day, later) == count
    last_day = (later.replace(day=1) + relativedelta(months=1) - timedelta(days=1)).day
    assert later.day == min(day.day, last_day)


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("15 days", Duration(15, "days")),
        ("1 day", Duration(1, "days")),
        ("2 weeks", Duration(2, "weeks")),
        ("1 month", Duration(1, "months")),
        ("2 months", Duration(2, "months")),
        (" 5 years ", Duration(5, "years")),
    ],
)
def test_durations_parse_singular_and_plural_units(text: str, duration: Duration) -> None:
    assert Duration.parse(text) == duration
    assert Duration.parse(str(duration)) == duration


@pytest.mark.parametrize("text", ["", "days", "2 fortnights", "-1 days", "1.5 months", "two days"])
def test_a_malformed_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        Duration.parse(text)


# ----------------------------------------------------------------------------------------------
# Cadences and labels: plain examples.


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("month", 1),
        ("2 months", 2),
        ("quarter", 3),
        ("half-year", 6),
        ("year", 12),
        ("5 months", 5),
        ("1 year", 12),
        ("2 years", 24),
    ],
)
def test_calendar_cadences_parse_to_month_counts(text: str, months: int) -> None:
    assert parse_calendar_cadence(text) == CalendarCadence(months)


@pytest.mark.parametrize("text", ["fortnight", "0 months", "14 days", "2 weeks", "term"])
def test_a_cadence_that_is_not_whole_months_or_years_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bad cadence"):
        parse_calendar_cadence(text)


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        ("2020-07", date(2020, 7, 1), date(2020, 7, 31)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),
        ("2020-B4", date(2020, 7, 1), date(2020, 8, 31)),
        ("2021-B1", date(2021, 1, 1), date(2021, 2, 28)),
        ("2020-Q3", date(2020, 7, 1), date(2020, 9, 30)),
        ("2020-H2", date(2020, 7, 1), date(2020, 12, 31)),
        ("2020", date(2020, 1, 1), date(2020, 12, 31)),
        ("2021-10-01/2026-09-30", date(2021, 10, 1), date(2026, 9, 30)),
        ("2021-03-18", date(2021, 3, 18), date(2021, 3, 18)),
    ],
)
def test_each_label_form_names_its_inclusive_dates(label: str, start: date, end: date) -> None:
    assert period_of_label(label) == (start, end)


@pytest.mark.parametrize(
    "label",
    [
        "2020-B7",
        "2020-Q0",
        "2020-Q5",
        "2020-H3",
        "2020-13",
        "2020-7",
        "20",
        "2020-X1",
        "2021-02-30",
        "2022-01-01/2021-12-31",
        "H2-2020",
        "",
    ],
)
def test_a_malformed_label_is_refused_with_the_label_named(label: str) -> None:
    with pytest.raises(ValueError, match=f"bad period label {label!r}"):
        period_of_label(label)


@pytest.mark.parametrize(
    ("cadence", "labels"),
    [
        ("month", ["2020-11", "2020-12", "2021-01"]),
        ("2 months", ["2020-B6", "2021-B1", "2021-B2"]),
        ("quarter", ["2021-Q1", "2021-Q2", "2021-Q3"]),
        ("half-year", ["2021-H1", "2021-H2", "2022-H1"]),
        ("year", ["2021", "2022", "2023"]),
        ("4 months", ["2021-01-01/2021-04-30", "2021-05-01/2021-08-31", "2021-09-01/2021-12-31"]),
    ],
)
def test_a_rule_starting_mid_period_begins_with_the_next_whole_bucket(
    cadence: str, labels: list[str]
) -> None:
    periods = first_periods(parse_calendar_cadence(cadence), date(2020, 10, 16), 2020, count=3)
    assert [period.label for period in periods] == labels


def test_five_month_buckets_chain_from_january_of_the_anchor_year_and_cross_the_year() -> None:
    periods = first_periods(CalendarCadence(5), date(2020, 1, 1), 2020, count=3)
    assert [period.label for period in periods] == [
        "2020-01-01/2020-05-31",
        "2020-06-01/2020-10-31",
        "2020-11-01/2021-03-31",
    ]
    assert first_periods(CalendarCadence(5), date(2021, 2, 1), 2020, count=1)[0].start == date(
        2021, 4, 1
    )


def test_two_year_buckets_chain_from_the_anchor_year() -> None:
    periods = first_periods(parse_calendar_cadence("2 years"), date(2021, 3, 1), 2020, count=2)
    assert [period.label for period in periods] == [
        "2022-01-01/2023-12-31",
        "2024-01-01/2025-12-31",
    ]


def test_a_period_holds_its_own_first_and_last_day_and_overlaps_by_one_day() -> None:
    period = Period(date(2021, 1, 1), date(2021, 2, 28), "2021-B1")
    assert date(2021, 1, 1) in period and date(2021, 2, 28) in period
    assert date(2021, 3, 1) not in period and "2021-01-15" not in period
    assert period.overlaps(date(2021, 2, 28), date(2021, 12, 31))
    assert not period.overlaps(date(2021, 3, 1), date(2021, 12, 31))
