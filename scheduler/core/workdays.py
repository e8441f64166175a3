"""Official Chinese workdays: the State Council's calendar plus the deployment's overrides.

Semantics:

* A day is a workday when chinese-calendar says so: Monday to Friday minus public holidays,
  plus the weekend days made workdays in exchange (调休, e.g. Saturday 2026-10-10 after National
  Day).
* ``workdays.holidays`` in config.yaml adds days off; ``workdays.workdays`` adds working days.
  An override wins over the official calendar; a day in both lists is a workday.
* For a year chinese-calendar does not cover (it ships 2004–2026), Monday to Friday are workdays
  and the overrides still apply; `uncovered_years` names such years so that start-up and
  ``huiqi doctor`` can warn that the official schedule is missing.

Pure: no clock, no I/O (chinese-calendar is a table in memory).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

_LONGEST_BREAK = 60  # no run of days off is this long; a guard against bad overrides


@dataclass(frozen=True)
class Workdays:
    """The official workday calendar with extra ``holidays`` and extra ``workdays``."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @classmethod
    def of(cls, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> Workdays:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_workday(self, day: date) -> bool:
        """True when people work on ``day`` (a local date)."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

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


@lru_cache(maxsize=256)
def covers(year: int) -> bool:
    """True when chinese-calendar holds the official schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 30))
    except NotImplementedError:
        return False
    return True


def uncovered_years(years: Iterable[int]) -> list[int]:
    """The ``years`` whose official schedule is missing (weekends only there), ascending."""
    return sorted(year for year in set(years) if not covers(year))
