"""Reading a year's official holiday arrangement (the State Council's notice) from a small file.

CSV or XLSX, one row per day or run of days: ``date`` (日期: a date, or an ISO interval
``2027-02-05/2027-02-11``), ``kind`` (类型: ``off``/休/放假 for a day off,
``work``/班/上班 for an adjusted working weekend day), optionally ``name`` (名称, the holiday).
YAML: ``year``, ``title``, ``days_off`` and ``workdays``, each a list of dates or ISO intervals
(``2027-02-05/2027-02-11``). Every date lies in one year; a working day must be a Saturday or a
Sunday (weekdays work anyway); no day appears twice. Errors name the file, row or line, and
field, and nothing is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from scheduler.core.problems import InputError, Message, Problem, Refused, message_of, single
from scheduler.core.records import Table, parse_day
from scheduler.core.workdays import Notice
from scheduler.core.yamlsource import LineIndex, YamlSourceError, parse_yaml

COLUMN_ALIASES = {"日期": "date", "类型": "kind", "名称": "name"}
KINDS = {
    "off": False, "休": False, "放假": False, "休息": False,
    "work": True, "班": True, "上班": True, "调休上班": True,
}  # fmt: skip
_YAML_KEYS = ("year", "title", "days_off", "workdays")


def notice_from_table(table: Table, year: int | None, title: str | None) -> Notice:
    """The notice one row per day describes (``year`` checked when given)."""
    columns = set(_cells(dict.fromkeys(table.columns, "")))
    missing = [name for name in ("date", "kind") if name not in columns]
    if missing:
        raise InputError([table.problem(1, name, _missing(name)) for name in missing])
    rows = [(row, _cells(cells)) for row, cells in table.rows]
    days: list[tuple[int, str, date, bool]] = []
    problems: list[Problem] = []
    for row, cells in rows:
        kind = cells.get("kind", "").strip().lower()
        if kind not in KINDS:
            unknown = Message("unknown_day_kind", value=kind)
            problems.append(table.problem(row, "kind", unknown))
            continue
        try:
            days.extend((row, "date", day, KINDS[kind]) for day in _expand(cells["date"]))
        except ValueError as error:
            problems.append(table.problem(row, "date", message_of(error)))
    return _notice(table.filename, days, problems, year, title)


def notice_from_yaml(text: str, filename: str) -> Notice:
    """The notice a YAML file describes."""
    try:
        data, lines = parse_yaml(text, filename)
    except YamlSourceError as error:
        raise single(error.message, filename, error.line) from None
    if not isinstance(data, dict):
        raise single(Message("notice_mapping"), filename, 1)
    unknown = [key for key in data if key not in _YAML_KEYS]
    if unknown:
        key = Message("unknown_key", value=unknown[0])
        raise single(key, filename, lines.line_of((unknown[0],)))
    year = data.get("year")
    if not isinstance(year, int):
        raise single(Message("year_number"), filename, lines.line_of(("year",)))
    days, problems = _yaml_days(data, lines, filename)
    return _notice(filename, days, problems, year, data.get("title"))


def _yaml_days(
    data: dict[str, Any], lines: LineIndex, filename: str
) -> tuple[list[tuple[int, str, date, bool]], list[Problem]]:
    days: list[tuple[int, str, date, bool]] = []
    problems: list[Problem] = []
    for key, working in (("days_off", False), ("workdays", True)):
        items = data.get(key) or []
        if not isinstance(items, list):
            line = lines.line_of((key,))
            problems.append(Problem(filename, line, key, Message("expected_list")))
            continue
        for index, item in enumerate(items):
            line = lines.line_of((key, index))
            try:
                days.extend((line, key, day, working) for day in _expand(item))
            except ValueError as error:
                problems.append(Problem(filename, line, key, message_of(error)))
    return days, problems


def _expand(item: Any) -> Iterator[date]:
    """A date, or every date of an ISO interval ``A/B`` (both ends included)."""
    if isinstance(item, date):
        yield item
        return
    first, _, last = str(item).partition("/")
    start = parse_day(first.strip())
    end = parse_day(last.strip()) if last else start
    if end < start:
        raise Refused(Message("interval_backwards", value=item))
    while start <= end:
        yield start
        start += timedelta(days=1)


def _notice(
    filename: str,
    days: list[tuple[int, str, date, bool]],
    problems: list[Problem],
    year: int | None,
    title: str | None,
) -> Notice:
    if not days and not problems:
        raise single(Message("no_days"), filename)
    year = year or (days[0][2].year if days else None)
    seen: dict[date, int] = {}
    for where, field, day, working in days:
        problem = _check(day, working, year, seen)
        if problem:
            problems.append(Problem(filename, where, field, problem))
        seen.setdefault(day, where)
    if problems or year is None:
        raise InputError(problems)
    off = frozenset(day for _, _, day, working in days if not working)
    work = frozenset(day for _, _, day, working in days if working)
    return Notice(year, (title or "").strip() or f"{year}年节假日安排", off, work)


def _check(day: date, working: bool, year: int | None, seen: dict[date, int]) -> Message | None:
    if day.year != year:
        return Message("day_not_in_year", day=day.isoformat(), year=year)
    if day in seen:
        return Message("day_twice", day=day.isoformat(), first=seen[day])
    if working and day.weekday() < 5:
        return Message("weekday_workday", day=day.isoformat())
    return None


def _missing(name: str) -> Message:
    return Message("missing_column", columns=Message("column", column=name))


def _cells(cells: dict[str, str]) -> dict[str, str]:
    return {COLUMN_ALIASES.get(k.strip(), k.strip().lower()): v for k, v in cells.items()}
