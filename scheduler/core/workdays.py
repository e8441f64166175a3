"""Official Chinese workdays: where each year's schedule comes from, and the deployment's overrides.

Semantics, for one local date, the first source that speaks wins:

1. ``workdays.workdays`` / ``workdays.holidays`` in config.yaml (source ``override``): an extra
   working day or day off; a day in both lists is a workday.
2. An imported notice of that year (source ``notice``, ``huiqi workdays import``): the State
   Council's arrangement as published, its days off and its adjusted working weekends (调休);
   every other day of that year is a workday from Monday to Friday.
3. chinese-calendar's table (source ``official``), which ships 2004–2026: Monday to Friday minus
   public holidays, plus the weekend days made workdays in exchange (Saturday 2026-10-10).
4. Beyond that table (source ``rules``): Monday to Friday minus the statutory holidays the
   ``holidays`` package computes by rule for China (Spring Festival with its Eve, Tomb-Sweeping,
   Labour Day, Dragon Boat, Mid-Autumn, National Day). The adjusted working weekends are only
   known once the State Council publishes them, so such a year is named by `rule_only_years`
   and start-up and ``huiqi doctor`` warn until its notice is imported.

Pure: no clock, no I/O (both calendars are tables or rules in memory).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import chinese_calendar

from scheduler.core.problems import Message

_LONGEST_BREAK = 60  # no run of days off is this long; a guard against bad overrides


class Source(StrEnum):
    """Where a day's or a year's schedule comes from, strongest first."""

    OVERRIDE = "override"
    NOTICE = "notice"
    OFFICIAL = "official"
    RULES = "rules"


@dataclass(frozen=True)
class Notice:
    """A year's official arrangement as published: its days off and working weekends."""

    year: int
    title: str
    days_off: frozenset[date]
    workdays: frozenset[date]


@dataclass(frozen=True)
class DayOfNote:
    """A day that breaks the weekday rule: a weekday off or a working weekend day."""

    day: date
    working: bool
    source: Source


@dataclass(frozen=True)
class Workdays:
    """The workday calendar: overrides, imported notices, the official table, the rules."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    notices: tuple[Notice, ...] = ()
    _by_year: dict[int, Notice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_year", {notice.year: notice for notice in self.notices})

    @classmethod
    def of(
        cls,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        notices: Iterable[Notice] = (),
    ) -> Workdays:
        return cls(frozenset(holidays), frozenset(workdays), tuple(notices))

    def is_workday(self, day: date) -> bool:
        """True when people work on ``day`` (a local date)."""
        return self.day_source(day)[0]

    def day_source(self, day: date) -> tuple[bool, Source]:
        """Whether ``day`` is a workday, and which source says so."""
        if day in self.workdays:
            return True, Source.OVERRIDE
        if day in self.holidays:
            return False, Source.OVERRIDE
        notice = self._by_year.get(day.year)
        if notice is not None:
            return _by_notice(notice, day), Source.NOTICE
        if covers(day.year):
            return bool(chinese_calendar.is_workday(day)), Source.OFFICIAL
        return day.weekday() < 5 and day not in statutory_holidays(day.year), Source.RULES

    def year_source(self, year: int) -> Source:
        """Where ``year``'s schedule comes from (overrides aside)."""
        if year in self._by_year:
            return Source.NOTICE
        return Source.OFFICIAL if covers(year) else Source.RULES

    def notice_of(self, year: int) -> Notice | None:
        return self._by_year.get(year)

    def days_of_note(self, year: int) -> list[DayOfNote]:
        """``year``'s weekdays off and working weekend days, in date order."""
        return [
            DayOfNote(day, working, source)
            for day in _days_of(year)
            for working, source in [self.day_source(day)]
            if working != (day.weekday() < 5)
        ]

    def previous_workday(self, day: date) -> date:
        """``day`` itself when it is a workday, else the last workday before it."""
        for back in range(_LONGEST_BREAK):
            candidate = day - timedelta(days=back)
            if self.is_workday(candidate):
                return candidate
        raise ValueError(f"no workday in the {_LONGEST_BREAK} days up to {day}")

    def next_workday(self, day: date) -> date:
        """``day`` itself when it is a workday, else the first workday after it."""
        for ahead in range(_LONGEST_BREAK):
            candidate = day + timedelta(days=ahead)
            if self.is_workday(candidate):
                return candidate
        raise ValueError(f"no workday in the {_LONGEST_BREAK} days from {day}")

    def rule_only_years(self, years: Iterable[int]) -> list[int]:
        """The ``years`` that rest on the ``holidays`` package's rules alone, ascending."""
        return sorted(year for year in set(years) if self.year_source(year) is Source.RULES)


def _by_notice(notice: Notice, day: date) -> bool:
    if day in notice.workdays:
        return True
    return day.weekday() < 5 and day not in notice.days_off


def _days_of(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


@lru_cache(maxsize=256)
def covers(year: int) -> bool:
    """True when chinese-calendar holds the official schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 30))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> frozenset[date]:
    """China's statutory days off in ``year`` by the ``holidays`` package's rules (with the
    observed days it adds after a holiday that falls on a weekend)."""
    import holidays  # only for years beyond chinese-calendar's table: it is slow to import

    return frozenset(holidays.country_holidays("CN", years=year))


def coverage(workdays: Workdays, years: Iterable[int]) -> tuple[list[Message], list[int]]:
    """One line per year saying where its workdays come from (the imported notice, named;
    chinese-calendar's table; the ``holidays`` package's rules alone), and the years resting on
    those rules alone (whose notice should be imported)."""
    years = sorted(set(years))
    lines = []
    for year in years:
        notice = workdays.notice_of(year)
        source = Message(f"year_source.{workdays.year_source(year)}")
        if notice:
            lines.append(Message("year_source_line_notice", year=year, source=source,
                                 title=notice.title))  # fmt: skip
        else:
            lines.append(Message("year_source_line", year=year, source=source))
    return lines, workdays.rule_only_years(years)


def coverage_lines(workdays: Workdays, years: Iterable[int]) -> tuple[list[str], list[int]]:
    """`coverage` in English (the logs)."""
    lines, rule_only = coverage(workdays, years)
    return [str(line) for line in lines], rule_only


def uncovered_years(years: Iterable[int]) -> list[int]:
    """The ``years`` chinese-calendar's table does not hold, ascending."""
    return sorted(year for year in set(years) if not covers(year))
