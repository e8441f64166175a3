"""Official Chinese workdays around real holidays: the official table (2004–2026), the holidays
package's rules beyond it, imported notices and config overrides."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.core.workdays import (
    Notice,
    Source,
    Workdays,
    coverage,
    coverage_lines,
    covers,
    uncovered_years,
)

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


def test_a_year_beyond_the_official_table_is_named() -> None:
    assert covers(2026)
    assert not covers(2027)
    assert uncovered_years([2027, 2026, 2027]) == [2027]
    assert OFFICIAL.year_source(2026) is Source.OFFICIAL
    assert OFFICIAL.year_source(2027) is Source.RULES
    assert OFFICIAL.rule_only_years([2026, 2027]) == [2027]


def test_the_spring_festival_2027_with_its_eve_is_off_by_the_holidays_rules() -> None:
    festival = [date(2027, 2, d) for d in range(5, 11)]  # Eve (Fri 02-05) to Wed 02-10
    assert not any(OFFICIAL.is_workday(day) for day in festival)
    assert OFFICIAL.is_workday(date(2027, 2, 4)) and OFFICIAL.is_workday(date(2027, 2, 11))
    assert OFFICIAL.previous_workday(date(2027, 2, 8)) == date(2027, 2, 4)
    assert OFFICIAL.day_source(date(2027, 2, 8)) == (False, Source.RULES)


def test_labour_day_and_national_day_2027_are_off_by_the_holidays_rules() -> None:
    assert not any(OFFICIAL.is_workday(date(2027, 5, d)) for d in range(1, 5))
    assert OFFICIAL.is_workday(date(2027, 5, 6))
    assert not any(OFFICIAL.is_workday(date(2027, 10, d)) for d in range(1, 6))
    assert OFFICIAL.next_workday(date(2027, 10, 1)) == date(2027, 10, 6)


NOTICE_2027 = Notice(
    2027,
    "2027年节假日安排",
    days_off=frozenset([*(date(2027, 2, d) for d in range(5, 13)), date(2027, 10, 6)]),
    workdays=frozenset([date(2027, 2, 20), date(2027, 10, 9)]),
)


def test_an_imported_notice_replaces_the_rules_for_its_year() -> None:
    workdays = Workdays.of(notices=[NOTICE_2027])
    assert workdays.year_source(2027) is Source.NOTICE
    assert not workdays.is_workday(date(2027, 2, 11))  # a rules workday, off by the notice
    assert workdays.is_workday(date(2027, 2, 20))  # a Saturday made a workday (调休)
    assert workdays.is_workday(date(2027, 10, 4))  # off by the rules, the notice says nothing
    assert workdays.day_source(date(2027, 10, 9)) == (True, Source.NOTICE)
    assert workdays.rule_only_years([2026, 2027, 2028]) == [2028]


def test_config_overrides_win_over_an_imported_notice() -> None:
    workdays = Workdays.of([date(2027, 2, 20)], [date(2027, 2, 11)], [NOTICE_2027])
    assert workdays.day_source(date(2027, 2, 20)) == (False, Source.OVERRIDE)
    assert workdays.day_source(date(2027, 2, 11)) == (True, Source.OVERRIDE)


def test_the_days_of_note_are_weekdays_off_and_working_weekends_with_their_source() -> None:
    noted = Workdays.of(notices=[NOTICE_2027]).days_of_note(2027)
    assert [(d.day, d.working) for d in noted][:3] == [
        (date(2027, 2, 5), False),
        (date(2027, 2, 8), False),
        (date(2027, 2, 9), False),
    ]
    assert (date(2027, 2, 20), True) in [(d.day, d.working) for d in noted]
    assert {d.source for d in noted} == {Source.NOTICE}
    official = {d.day: d.working for d in OFFICIAL.days_of_note(2026)}
    assert official[date(2026, 10, 10)] is True and official[date(2026, 10, 1)] is False


def test_coverage_lines_say_where_each_year_comes_from() -> None:
    lines, rule_only = coverage_lines(Workdays.of(notices=[NOTICE_2027]), [2026, 2027, 2028])
    assert lines[0].startswith("2026: chinese-calendar")
    assert lines[1] == "2027: the imported notice (2027年节假日安排)"
    assert lines[2].startswith("2028: the holidays package")
    assert rule_only == [2028]
    said, _ = coverage(Workdays.of(notices=[NOTICE_2027]), [2026, 2027, 2028])
    assert [line.said("zh") for line in said] == [
        "2026年：chinese-calendar 的官方日历表",
        "2027年：已导入的国务院通知《2027年节假日安排》",
        "2028年：仅 holidays 包的法定节假日（调休上班日未知）",
    ]


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
