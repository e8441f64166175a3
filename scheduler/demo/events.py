"""A year of invented evidence for the demo county, with the habits of real townships.

Each township follows a `Profile`: exemplary ones do every duty inside its period, steady ones
now and then skip one, late ones often do it in the first weeks of the next period, silent ones
record nothing at all for whole two-month periods. Funds are paid in instalments, some short of
the year's amount; federation chairs miss a party meeting now and then. Villages follow their
township. Pure: the caller passes the seeded `random.Random`; no clock. Rows are cells of the
events CSV (DESIGN.md): unit,kinds,date,time,title,attended,amount,ref.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from scheduler.core.workdays import Workdays

Row = dict[str, str]

FULL_FUNDS = {"township": 10_000, "village": 2_000}
MEETING_TIMES = ("08:30", "09:00", "10:00", "14:30", "15:00")
# chinese-calendar validates each date against its whole table: ask it once per day.
_is_workday = lru_cache(maxsize=4096)(Workdays().is_workday)


@dataclass(frozen=True)
class Profile:
    """How diligently a township (and the villages under it) keeps the rules."""

    name: str
    on_time: float  # a periodic duty is done inside its period …
    late: float  # … or else in the first weeks of the next period (otherwise: skipped)
    chair_present: float  # the federation chair attends a party meeting
    funds_in_full: float  # the year's funds are paid in full (otherwise 60–90 %)
    silent_periods: int  # consecutive two-month periods in which the township records nothing


PROFILES = {
    "exemplary": Profile("exemplary", 1.0, 0.0, 0.97, 1.0, 0),
    "steady": Profile("steady", 0.85, 0.08, 0.9, 0.8, 0),
    "late": Profile("late", 0.4, 0.45, 0.8, 0.6, 0),
    "silent": Profile("silent", 0.8, 0.05, 0.75, 0.5, 2),
}
PROFILE_SHARES = (("exemplary", 0.25), ("late", 0.2), ("silent", 0.15))  # the rest: steady


def assign_profiles(rng: random.Random, count: int) -> list[Profile]:
    """Profiles for ``count`` townships in the shares of PROFILE_SHARES, shuffled."""
    names: list[str] = []
    for name, share in PROFILE_SHARES:
        names += [name] * round(share * count)
    names = names[:count] + ["steady"] * max(0, count - len(names))
    rng.shuffle(names)
    return [PROFILES[name] for name in names]


def workday(rng: random.Random, first: date, last: date) -> date:
    """A random official workday in ``[first, last]`` (after ten misses, ``first`` itself)."""
    span = (last - first).days
    for _ in range(10):
        day = first + timedelta(days=rng.randint(0, max(span, 0)))
        if _is_workday(day):
            return day
    return first


@dataclass
class EventLog:
    """The events of one unit in one year, numbered by date when written out."""

    unit: str
    year: int
    last_day: date
    meetings: dict[date, set[str]] = field(default_factory=dict)
    attended: dict[date, str] = field(default_factory=dict)
    titles: dict[date, str] = field(default_factory=dict)
    others: list[Row] = field(default_factory=list)

    def meeting(self, day: date, title: str, kinds: tuple[str, ...] = ()) -> None:
        agenda = self.meetings.setdefault(day, set())
        agenda.update(kinds)
        if kinds or day not in self.titles:
            self.titles[day] = title

    def other(
        self, day: date, kinds: str, title: str, attended: str = "", amount: str = ""
    ) -> None:
        row = {"date": day.isoformat(), "kinds": kinds, "title": title}
        self.others.append({**row, "attended": attended, "amount": amount, "time": ""})

    def rows(self, rng: random.Random, meeting_kind: str) -> list[Row]:
        """Every event dated inside the year and up to ``last_day``, in date order, with refs."""
        found = [*self.others, *self._meeting_rows(rng, meeting_kind)]
        kept = [row for row in found if self._kept(row["date"])]
        kept.sort(key=lambda row: (row["date"], row["kinds"], row["title"]))
        return [
            {"unit": self.unit, **row, "ref": f"demo-{self.year}-{number:03d}"}
            for number, row in enumerate(kept, start=1)
        ]

    def _meeting_rows(self, rng: random.Random, meeting_kind: str) -> Iterator[Row]:
        for day in sorted(self.meetings):
            kinds = ";".join([meeting_kind, *sorted(self.meetings[day])])
            yield {
                "date": day.isoformat(),
                "kinds": kinds,
                "title": self.titles[day],
                "attended": self.attended.get(day, ""),
                "amount": "",
                "time": rng.choice(MEETING_TIMES),
            }

    def _kept(self, day: str) -> bool:
        return day.startswith(f"{self.year}-") and day <= self.last_day.isoformat()


def _duty_day(rng: random.Random, profile: Profile, first: date, last: date) -> date | None:
    """When a duty owed for ``[first, last]`` is done: inside it, a little late, or never."""
    draw = rng.random()
    if draw < profile.on_time:
        return workday(rng, first, last)
    if draw < profile.on_time + profile.late:
        return workday(rng, last + timedelta(days=3), last + timedelta(days=25))
    return None


def _periods(year: int, months: int) -> Iterator[tuple[date, date]]:
    for month in range(1, 13, months):
        start = date(year, month, 1)
        yield start, start + relativedelta(months=months) - timedelta(days=1)


def _instalments(rng: random.Random, total: int, year: int, pieces: int) -> list[tuple[date, int]]:
    """``total`` yuan in ``pieces`` payments (rounded to 500), the first in March–May."""
    amounts = [total // pieces // 500 * 500] * pieces
    amounts[-1] = total - sum(amounts[:-1])
    first = workday(rng, date(year, 3, 1), date(year, 5, 31))
    later = sorted(workday(rng, date(year, 6, 1), date(year, 11, 30)) for _ in amounts[1:])
    return list(zip([first, *later], amounts, strict=True))


def funding(rng: random.Random, log: EventLog, profile: Profile, full: int, payer: str) -> None:
    """The year's working funds, in one to three instalments, in full or short."""
    in_full = rng.random() < profile.funds_in_full
    share = 1.0 if in_full else rng.choice((0.6, 0.7, 0.8, 0.9))
    pieces = rng.choices((1, 2, 3), weights=(3, 5, 2))[0]
    total = full if in_full else max(500, round(full * share / 500) * 500)
    for number, (day, amount) in enumerate(_instalments(rng, total, log.year, pieces), 1):
        title = f"{payer}拨付{log.year}年度妇联工作经费(第{number}笔)"
        log.other(day, "funding", title, amount=str(amount))


# ----------------------------------------------------------------------------------------------
# Townships


def township_events(
    rng: random.Random, unit: str, profile: Profile, year: int, last_day: date, level: str = "镇"
) -> list[Row]:
    """A township's year: party committee meetings with their agenda, research, reports, funds.

    ``level`` is 镇 (town) or 乡 (rural township), as meeting titles say."""
    log = EventLog(unit, year, last_day)
    meeting = f"{level}党委会议"
    _township_meetings(rng, log, meeting)
    studies = _township_studies(rng, log, profile, meeting)
    _township_hearings(rng, log, profile, studies, meeting)
    for first, last in _periods(year, 2):
        day = _duty_day(rng, profile, first, last)
        if day:
            log.other(
                day, "research", "党委调研妇联工作进展", attended="party_secretary;fulian_chair"
            )
    for half, (first, last) in enumerate(_periods(year, 6), start=1):
        day = _duty_day(rng, profile, first + relativedelta(months=5), last)
        if day:
            log.other(day, "report", f"向县委报告{year}年{'上下'[half - 1]}半年妇联工作")
    _attendance(rng, log, profile)
    _fall_silent(rng, log, profile)
    funding(rng, log, profile, FULL_FUNDS["township"], "县财政")
    return log.rows(rng, "party_meeting")


def _township_meetings(rng: random.Random, log: EventLog, meeting: str) -> None:
    for month in range(1, 13):
        first = date(log.year, month, 1)
        last = first + relativedelta(months=1) - timedelta(days=1)
        for _ in range(rng.choice((1, 2, 2, 3))):
            log.meeting(workday(rng, first, last), meeting)


def _township_studies(
    rng: random.Random, log: EventLog, profile: Profile, meeting: str
) -> list[date]:
    days = []
    for first, last in _periods(log.year, 3):
        day = _duty_day(rng, profile, first, last)
        if day:
            log.meeting(day, f"{meeting}(专题研究妇联工作)", ("study",))
            days.append(day)
    return days


def _township_hearings(
    rng: random.Random, log: EventLog, profile: Profile, studies: list[date], meeting: str
) -> None:
    """One hearing per two months; now and then the same meeting also holds the study."""
    for first, last in _periods(log.year, 2):
        day = _duty_day(rng, profile, first, last)
        same = [study for study in studies if first <= study <= last]
        if day and same and rng.random() < 0.35:
            day = same[0]
        if day:
            log.meeting(day, f"{meeting}(听取妇联工作汇报)", ("hearing",))


def _attendance(rng: random.Random, log: EventLog, profile: Profile) -> None:
    """The secretary chairs every meeting; the federation chair comes when she reports, and
    otherwise now and then misses one."""
    for day, agenda in log.meetings.items():
        present = "hearing" in agenda or rng.random() < profile.chair_present
        log.attended[day] = "party_secretary;fulian_chair" if present else "party_secretary"


def _fall_silent(rng: random.Random, log: EventLog, profile: Profile) -> None:
    """Drop everything the township itself records in its silent two-month periods."""
    if not profile.silent_periods:
        return
    start = rng.randrange(0, 6 - profile.silent_periods + 1) * 2 + 1
    months = range(start, start + 2 * profile.silent_periods)
    for day in [day for day in log.meetings if day.month in months]:
        del log.meetings[day]
    log.others = [row for row in log.others if int(row["date"][5:7]) not in months]


# ----------------------------------------------------------------------------------------------
# Villages and the county


def village_events(
    rng: random.Random, unit: str, profile: Profile, year: int, last_day: date
) -> list[Row]:
    """A village's year: a branch meeting or two a month, and its funds."""
    log = EventLog(unit, year, last_day)
    presence = min(1.0, max(0.3, profile.chair_present + rng.uniform(-0.12, 0.08)))
    for month in range(1, 13):
        first = date(year, month, 1)
        last = first + relativedelta(months=1) - timedelta(days=1)
        for _ in range(1 if rng.random() < 0.75 else 2):
            day = workday(rng, first, last)
            log.meeting(day, "村党支部会议")
            present = rng.random() < presence
            log.attended[day] = "party_secretary;fulian_chair" if present else "party_secretary"
    funding(rng, log, profile, FULL_FUNDS["village"], "县财政")
    return log.rows(rng, "branch_meeting")


def county_events(
    rng: random.Random, unit: str, women: int, year: int, last_day: date
) -> list[Row]:
    """The county's year: standing committee meetings (two of them studying federation work),
    the women's work conference in March, and the county federation's funds."""
    log = EventLog(unit, year, last_day)
    for month in range(1, 13):
        first = date(year, month, 1)
        last = first + relativedelta(months=1) - timedelta(days=1)
        for _ in range(rng.choice((2, 2, 3))):
            day = workday(rng, first, last)
            log.meeting(day, "县委常委会会议")
            present = rng.random() < 0.9
            log.attended[day] = "party_secretary;fulian_chair" if present else "party_secretary"
    for first, last in _periods(year, 6):
        day = workday(rng, first + relativedelta(months=2), last)
        log.meeting(day, "县委常委会会议(专题研究妇联工作)", ("standing_study",))
        log.attended[day] = "party_secretary;fulian_chair"
    conference = workday(rng, date(year, 3, 2), date(year, 3, 10))
    title = f"全县{year}年妇女工作会议"
    log.other(conference, "conference", title, attended="party_secretary;fulian_chair")
    county_profile = Profile("county", 1.0, 0.0, 0.9, 0.4, 0)
    funding(rng, log, county_profile, women, "县财政")
    return log.rows(rng, "party_meeting")
