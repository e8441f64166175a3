"""Official Chinese workdays around real holidays, with config overrides and uncovered years."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.core.workdays import Workdays, covers, uncovered_years

OFFICIAL = Workdays()


def test_national_day_2026_is_seven_days_off() -> None:
    days = [date(2026, 10, d) for d in range(1, 8)]
    assert not any(OFFICIAL.is_workday(day) for day in days)
    assert OFFICIAL.is_workday(date(2026, 9, 30))
    assert OFFICIAL.is_workday(date(2026, 10, 8))


def test_the_saturday_after_national_day_2026_is_an_adjusted_workday() -> None:
    assert date(2026, 10, 10).weekday() == 5
    assert OFFICIAL.is_workday(date(2026, 10, 10))
    assert not OFFICIAL.is_workday(date(2026, 10, 11))


def test_a_day_in_the_holiday_moves_back_to_the_last_workday_before_it() -> None:
    assert OFFICIAL.previous_workday(date(2026, 10, 5)) == date(2026, 9, 30)
    assert OFFICIAL.previous_workday(date(2026, 9, 30)) == date(2026, 9, 30)
    assert OFFICIAL.next_workday(date(2026, 10, 4)) == date(2026, 10, 8)


def test_overrides_add_days_off_and_working_days() -> None:
    workdays = Workdays.of(holidays=[date(2026, 9, 30)], workdays=[date(2026, 10, 11)])
    assert not workdays.is_workday(date(2026, 9, 30))
    assert workdays.previous_workday(date(2026, 10, 5)) == date(2026, 9, 29)
    assert workdays.is_workday(date(2026, 10, 11))


def test_a_year_without_the_official_calendar_has_weekends_only_and_is_named() -> None:
    assert covers(2026)
    assert not covers(2027)
    assert uncovered_years([2027, 2026, 2027]) == [2027]
    assert OFFICIAL.is_workday(date(2027, 10, 1))  # a Friday: National Day unknown there
    assert not OFFICIAL.is_workday(date(2027, 10, 2))


def test_overrides_fill_in_an_uncovered_year() -> None:
    workdays = Workdays.of(holidays=[date(2027, 10, 1)], workdays=[date(2027, 10, 9)])
    assert not workdays.is_workday(date(2027, 10, 1))
    assert workdays.is_workday(date(2027, 10, 9))
    assert workdays.previous_workday(date(2027, 10, 3)) == date(2027, 9, 30)


@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2028, 12, 31)))
def test_the_previous_workday_is_the_nearest_workday_not_after_the_day(day: date) -> None:
    found = OFFICIAL.previous_workday(day)
    assert found <= day
    assert OFFICIAL.is_workday(found)
    between = [found + timedelta(days=n) for n in range(1, (day - found).days + 1)]
    assert not any(OFFICIAL.is_workday(other) for other in between)
