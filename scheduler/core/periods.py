"""Calendar arithmetic: durations, cadences, periods and their labels.

Pure functions over `datetime.date`; no clock, no I/O.

Semantics (the contract of DESIGN.md):

* A `Duration` is ``N days|weeks|months|years``. Adding months or years keeps the day of the
  month and clamps to the month's last day, as ``dateutil.relativedelta`` does:
  31 January + 1 month = 28 February (29 in a leap year); 29 February + 1 year = 28 February.
* A calendar cadence (``month``, ``N months``, ``quarter``, ``half-year``, ``year``,
  ``N years``) cuts the calendar into buckets aligned to 1 January. For month counts that divide
  12 every year starts a bucket; other counts (``5 months``) and ``N years`` chain from
  1 January of an anchor year (the rule's effective year), so the buckets still partition time.
* A ``term NAME`` cadence cuts time into consecutive terms of ``years`` length aligned to the
  term's ``start``, backwards and forwards.
* Periods are inclusive: ``start`` and ``end`` are both days of the period.
* Labels: ``2020-07`` (1 month), ``2020-B4`` (2 months, Jul–Aug), ``2020-Q3``, ``2020-H2``,
  ``2020`` (a year), otherwise the ISO interval ``2021-10-01/2026-09-30``; one day is
  ``2021-03-18``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta

DurationUnit = Literal["days", "weeks", "months", "years"]

_DURATION = re.compile(r"^\s*(\d+)\s*(day|week|month|year)s?\s*$")
_LABEL_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_LABEL_BUCKET = re.compile(r"^(\d{4})-([BQH])(\d)$")
_LABEL_YEAR = re.compile(r"^(\d{4})$")
_LABEL_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_LABEL_INTERVAL = re.compile(r"^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})$")
_BUCKET_LETTER = {2: "B", 3: "Q", 6: "H"}


@dataclass(frozen=True, order=True)
class Duration:
    """A length of calendar time, e.g. ``Duration(2, "months")``."""

    count: int
    unit: DurationUnit

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``"15 days"``, ``"1 month"``, ``"2 years"``; raise ValueError otherwise."""
        match = _DURATION.match(str(text))
        if not match:
            raise ValueError(
                f"bad duration {text!r}: expected 'N days', 'N weeks', 'N months' or 'N years'"
            )
        return cls(int(match.group(1)), f"{match.group(2)}s")  # type: ignore[arg-type]

    def after(self, day: date) -> date:
        """The date this duration after ``day`` (month ends clamp)."""
        return day + self._delta()

    def before(self, day: date) -> date:
        """The date this duration before ``day`` (month ends clamp)."""
        return day - self._delta()

    def _delta(self) -> relativedelta | timedelta:
        if self.unit == "days":
            return timedelta(days=self.count)
        if self.unit == "weeks":
            return timedelta(weeks=self.count)
        if self.unit == "months":
            return relativedelta(months=self.count)
        return relativedelta(years=self.count)

    def __str__(self) -> str:
        unit = self.unit if self.count != 1 else self.unit[:-1]
        return f"{self.count} {unit}"


ZERO_DAYS = Duration(0, "days")


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of local dates with its label."""

    start: date
    end: date
    label: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def overlaps(self, first: date, last: date) -> bool:
        """True when the period shares at least one day with ``[first, last]``."""
        return self.start <= last and first <= self.end


def day_period(day: date) -> Period:
    """The one-day period of an attendance obligation."""
    return Period(day, day, day.isoformat())


def interval_label(start: date, end: date) -> str:
    """ISO interval label ``start/end``."""
    return f"{start.isoformat()}/{end.isoformat()}"


@dataclass(frozen=True)
class CalendarCadence:
    """Buckets of ``months`` months aligned to 1 January (years are multiples of 12)."""

    months: int

    def periods_from(self, first_start: date, anchor_year: int) -> Iterator[Period]:
        """Buckets in order, starting with the first one that starts on or after ``first_start``."""
        start = self._first_bucket_start(first_start, anchor_year)
        while True:
            end = start + relativedelta(months=self.months) - timedelta(days=1)
            yield Period(start, end, self._label(start, end))
            start = end + timedelta(days=1)

    def _first_bucket_start(self, day: date, anchor_year: int) -> date:
        if 12 % self.months == 0:
            anchor_year = day.year
        anchor = date(anchor_year, 1, 1)
        elapsed = (day.year - anchor.year) * 12 + day.month - 1
        index = elapsed // self.months
        start = anchor + relativedelta(months=index * self.months)
        if start < day:
            start += relativedelta(months=self.months)
        return start

    def _label(self, start: date, end: date) -> str:
        if self.months == 1:
            return f"{start.year}-{start.month:02d}"
        if self.months == 12:
            return f"{start.year}"
        letter = _BUCKET_LETTER.get(self.months)
        if letter:
            return f"{start.year}-{letter}{(start.month - 1) // self.months + 1}"
        return interval_label(start, end)


@dataclass(frozen=True)
class TermCadence:
    """Consecutive terms of ``years`` years aligned to ``start``."""

    name: str
    start: date
    years: int

    def periods_from(self, first_start: date, anchor_year: int = 0) -> Iterator[Period]:
        """Terms in order, starting with the first that starts on or after ``first_start``.

        Term k starts ``k × years`` years from ``start``, always counted from ``start`` itself
        (a 29 February start gives 28 February in common years and 29 February again in leap
        years, never drifting), and ends the day before term k + 1 starts.
        """
        index = (first_start.year - self.start.year) // self.years - 1
        while self._start_of(index) < first_start:
            index += 1
        while True:
            start, end = self._start_of(index), self._start_of(index + 1) - timedelta(days=1)
            yield Period(start, end, interval_label(start, end))
            index += 1

    def _start_of(self, index: int) -> date:
        return self.start + relativedelta(years=index * self.years)


Cadence = CalendarCadence | TermCadence


def parse_calendar_cadence(text: str) -> CalendarCadence:
    """Parse ``month``, ``N months``, ``quarter``, ``half-year``, ``year``, ``N years``."""
    word = str(text).strip()
    named = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}
    if word in named:
        return CalendarCadence(named[word])
    try:
        duration = Duration.parse(word)
    except ValueError:
        duration = Duration(0, "days")
    if duration.count < 1 or duration.unit not in ("months", "years"):
        raise ValueError(
            f"bad cadence {text!r}: expected month, N months, quarter, half-year, year, "
            "N years or term NAME"
        )
    months = duration.count if duration.unit == "months" else duration.count * 12
    return CalendarCadence(months)


class BadLabel(ValueError):
    """A malformed period label: ``label`` and ``reason`` (English) kept apart, so that the
    refusal can be said in the reader's language."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"bad period label {label!r}: {reason}")
        self.label, self.reason = label, reason


def period_of_label(label: str) -> tuple[date, date]:
    """The inclusive (start, end) a label names; raise `BadLabel` for a malformed label."""
    try:
        return _parse_label(label)
    except ValueError as error:
        raise BadLabel(label, str(error)) from None


def _parse_label(label: str) -> tuple[date, date]:
    if match := _LABEL_INTERVAL.match(label):
        start, end = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
        if end < start:
            raise ValueError("end before start")
        return start, end
    if match := _LABEL_DAY.match(label):
        day = date.fromisoformat(label)
        return day, day
    if match := _LABEL_MONTH.match(label):
        return _bucket(int(match.group(1)), int(match.group(2)), 1)
    if match := _LABEL_YEAR.match(label):
        return _bucket(int(match.group(1)), 1, 12)
    if match := _LABEL_BUCKET.match(label):
        months = {"B": 2, "Q": 3, "H": 6}[match.group(2)]
        index = int(match.group(3))
        if not 1 <= index <= 12 // months:
            raise ValueError("bucket index out of range")
        return _bucket(int(match.group(1)), (index - 1) * months + 1, months)
    raise ValueError("expected 2020-07, 2020-B4, 2020-Q3, 2020-H2, 2020, a date or start/end")


def _bucket(year: int, month: int, months: int) -> tuple[date, date]:
    start = date(year, month, 1)
    return start, start + relativedelta(months=months) - timedelta(days=1)
