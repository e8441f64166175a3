"""Validation of imported rows (units, people, events): pure, all problems at once.

Each ``parse_*`` function takes a `Table` and what it must be checked against, and returns typed
rows or raises `InputError` listing every problem as ``FILE:ROW: field: what``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, TypeVar

from scheduler.core.problems import InputError, Problem

UNIT_COLUMNS = ("code", "name", "kind", "parent", "active_from", "active_to")
PEOPLE_COLUMNS = ("name", "email", "phone", "unit", "role", "from", "to")
EVENT_COLUMNS = ("unit", "kinds", "date", "time", "title", "attended", "amount", "ref")

# The longest text each column may hold (the database's column sizes).
MAX_CHARS = {"code": 64, "parent": 64, "unit": 64, "kind": 64, "role": 64, "name": 200,
             "email": 320, "phone": 64, "title": 500, "ref": 200}  # fmt: skip

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_TIME = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

T = TypeVar("T")


@dataclass(frozen=True)
class Table:
    """The rows of one file: ``rows`` pairs each row's number with its cells by column name."""

    filename: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[int, dict[str, str]]]  # a tuple, or a stream read once (events)

    def problem(self, row: int, field: str | None, message: str) -> Problem:
        return Problem(self.filename, row, field, message)

    def require_columns(self, required: tuple[str, ...]) -> None:
        missing = [column for column in required if column not in self.columns]
        if missing:
            raise InputError(
                [self.problem(1, missing[0], f"missing column {missing[0]!r} in the header row")]
            )


def parse_day(text: str) -> date:
    """A date written 2020-10-16, 2020/10/16, 2020.10.16 or 2020年10月16日."""
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"bad date {text!r}: expected YYYY-MM-DD")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise ValueError(f"bad date {text!r}: no such day") from None


def parse_time(text: str) -> str:
    """A time of day HH:MM, normalised to two-digit hours."""
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"bad time {text!r}: expected HH:MM")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_amount(text: str) -> Decimal:
    """A non-negative amount in yuan; thousands separators and a ¥/元 mark are allowed."""
    cleaned = text.replace(",", "").replace("，", "").strip().strip("¥￥元").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"bad amount {text!r}: expected a number") from None
    if not amount.is_finite():
        raise ValueError(f"bad amount {text!r}: expected a number")
    if amount < 0:
        raise ValueError(f"negative amount {text!r}")
    return amount.quantize(Decimal("0.01"))


def split_list(text: str) -> tuple[str, ...]:
    """A ``;``-separated list (``；`` and ``,`` also accepted), without empty items."""
    parts = re.split(r"[;；,，]", text)
    return tuple(dict.fromkeys(part.strip() for part in parts if part.strip()))


class _RowReader:
    """Collects problems while reading the cells of one row."""

    def __init__(
        self, table: Table, row: int, cells: Mapping[str, str], problems: list[Problem]
    ) -> None:
        self.table, self.row, self.cells, self.problems = table, row, cells, problems

    def fail(self, field: str | None, message: str) -> None:
        self.problems.append(self.table.problem(self.row, field, message))

    def text(self, field: str, required: bool = False) -> str:
        value = self.cells.get(field, "")
        if required and not value:
            self.fail(field, "is required")
        longest = MAX_CHARS.get(field)
        if longest is not None and len(value) > longest:
            self.fail(field, f"longer than {longest} characters")
            return value[:longest]
        return value

    def parsed(self, field: str, parse: Callable[[str], T], required: bool = False) -> T | None:
        value = self.text(field, required)
        if not value:
            return None
        try:
            return parse(value)
        except ValueError as error:
            self.fail(field, str(error))
            return None

    def known(self, field: str, value: str, choices: Collection[str], what: str) -> bool:
        if value in choices:
            return True
        listed = ", ".join(sorted(choices))
        self.fail(field, f"unknown {what} {value!r} (known: {listed})")
        return False

    def date_range(self, first: str, last: str) -> tuple[date | None, date | None]:
        start, end = self.parsed(first, parse_day), self.parsed(last, parse_day)
        if start and end and end < start:
            self.fail(last, f"{end} is before {first} {start}")
        return start, end


def _rows(table: Table, columns: tuple[str, ...]) -> list[tuple[int, Mapping[str, str]]]:
    table.require_columns(columns)
    return list(table.rows)


def _done(problems: list[Problem], rows: list[T]) -> list[T]:
    if problems:
        raise InputError(problems)
    return rows


# ----------------------------------------------------------------------------------------------
# Units


@dataclass(frozen=True)
class UnitRow:
    row: int
    code: str
    name: str
    kind: str
    parent: str | None
    active_from: date | None
    active_to: date | None
    attributes: dict[str, Any]


def parse_units(
    table: Table, unit_kinds: Collection[str], existing_parents: Mapping[str, str | None]
) -> list[UnitRow]:
    """Unit rows checked for kinds, dates, duplicate codes, missing parents and cycles.

    ``existing_parents`` maps the codes already in the database to their parent codes.
    """
    problems: list[Problem] = []
    result: list[UnitRow] = []
    seen: set[str] = set()
    for number, cells in _rows(table, UNIT_COLUMNS):
        read = _RowReader(table, number, cells, problems)
        code, name, kind = read.text("code", True), read.text("name", True), read.text("kind", True)
        if code in seen:
            read.fail("code", f"duplicate unit code {code!r}")
        seen.add(code)
        if kind:
            read.known("kind", kind, unit_kinds, "unit kind")
        active_from, active_to = read.date_range("active_from", "active_to")
        attributes = {
            column: _attribute(value)
            for column, value in cells.items()
            if column not in UNIT_COLUMNS and value
        }
        parent = read.text("parent") or None
        result.append(UnitRow(number, code, name, kind, parent, active_from, active_to, attributes))
    _check_tree(table, result, existing_parents, problems)
    return _done(problems, result)


def _attribute(value: str) -> Any:
    for convert in (int, float):
        try:
            return convert(value.replace(",", ""))
        except ValueError:
            continue
    return value


def _check_tree(
    table: Table,
    rows: list[UnitRow],
    existing_parents: Mapping[str, str | None],
    problems: list[Problem],
) -> None:
    parents = dict(existing_parents)
    parents.update({row.code: row.parent for row in rows})
    for row in rows:
        if row.parent and row.parent not in parents:
            problems.append(table.problem(row.row, "parent", f"unknown parent unit {row.parent!r}"))
            continue
        seen = {row.code}
        ancestor = row.parent
        while ancestor:
            if ancestor in seen:
                message = f"unit {row.code!r} would be its own ancestor (via {ancestor!r})"
                problems.append(table.problem(row.row, "parent", message))
                break
            seen.add(ancestor)
            ancestor = parents.get(ancestor)


# ----------------------------------------------------------------------------------------------
# People


@dataclass(frozen=True)
class PersonRow:
    row: int
    name: str
    email: str | None
    phone: str | None
    unit: str
    role: str
    valid_from: date | None
    valid_to: date | None


def parse_people(
    table: Table, roles: Collection[str], unit_codes: Collection[str]
) -> list[PersonRow]:
    """People rows checked for known units and roles, e-mail addresses and dates."""
    problems: list[Problem] = []
    result = []
    for number, cells in _rows(table, PEOPLE_COLUMNS):
        read = _RowReader(table, number, cells, problems)
        name, unit, role = read.text("name", True), read.text("unit", True), read.text("role", True)
        email = read.text("email") or None
        if email and not _EMAIL.match(email):
            read.fail("email", f"bad e-mail address {email!r}")
        if unit:
            read.known("unit", unit, unit_codes, "unit")
        if role:
            read.known("role", role, roles, "role")
        start, end = read.date_range("from", "to")
        phone = read.text("phone") or None
        result.append(PersonRow(number, name, email, phone, unit, role, start, end))
    return _done(problems, result)


# ----------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True)
class RowOutcome:
    """What an import does with one row: ``created``, ``updated`` or ``unchanged``."""

    row: int
    subject: str
    outcome: str


@dataclass(frozen=True)
class ImportSummary:
    """What an import changed, in total and row by row; ``ids`` are the events its rows stand
    for, in row order."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: tuple[int, ...] = ()
    rows: tuple[RowOutcome, ...] = ()

    @classmethod
    def of(cls, outcomes: Sequence[RowOutcome], ids: tuple[int, ...] = ()) -> ImportSummary:
        counts = Counter(outcome.outcome for outcome in outcomes)
        total = (counts["created"], counts["updated"], counts["unchanged"])
        return cls(*total, ids=ids, rows=tuple(outcomes))

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass(frozen=True)
class UnitSpan:
    """What event validation needs to know of a unit."""

    active_from: date | None
    active_to: date | None


@dataclass(frozen=True)
class EventRow:
    row: int
    unit: str
    kinds: tuple[str, ...]
    day: date
    time: str | None
    title: str
    attended: tuple[str, ...]
    amount: Decimal | None
    ref: str | None

    @cached_property
    def key(self) -> str:
        return event_key(self.ref, self.day, self.time, self.kinds, self.title)

    @cached_property
    def digest(self) -> str:
        return event_digest(self.day, self.time, self.title, self.amount, self.kinds, self.attended)


def event_digest(
    day: date, time: str | None, title: str, amount: Decimal | None, kinds: Collection[str],
    attended: Collection[str],
) -> str:  # fmt: skip
    """What an event says (date, time, title, amount, kinds, roles that attended; not its ref),
    as a SHA-256 in hex: a re-imported row whose digest is its current event's is unchanged."""
    money = "" if amount is None else f"{Decimal(amount):.2f}"
    parts = [day.isoformat(), time or "", title, money, sorted(set(kinds)), sorted(set(attended))]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def event_key(
    ref: str | None, day: date, time: str | None, kinds: Collection[str], title: str
) -> str:
    """What makes an event the same event at its unit: its ``ref``, or without one its natural
    key (date, time, kinds, title). The database keeps one current event per (unit, key), so a
    re-imported row replaces or leaves its event instead of doubling it. A SHA-256 in hex."""
    parts = ["ref", ref] if ref else ["row", day.isoformat(), time or "", *sorted(set(kinds))]
    parts += [] if ref else [title.strip()]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def parse_events(
    table: Table,
    event_kinds: Collection[str],
    roles: Collection[str],
    units: Mapping[str, UnitSpan],
) -> list[EventRow]:
    """Event rows checked for known units, kinds and roles, dates inside the unit's active
    life, times, non-negative amounts, and each event once in the file (refs unique; a row
    without ref unique by date, time, kinds and title)."""
    parser = EventParser(table, event_kinds, roles, units)
    rows = parser.feed(table.rows)
    parser.finish()
    return rows


class EventParser:
    """`parse_events` a part of the file at a time: `feed` checks rows and returns the good
    ones, remembering what the file's later rows are checked against (refs, natural keys) and
    every problem; `finish` raises them all at once."""

    def __init__(
        self, table: Table, event_kinds: Collection[str], roles: Collection[str],
        units: Mapping[str, UnitSpan],
    ) -> None:  # fmt: skip
        table.require_columns(EVENT_COLUMNS)
        self.table, self.event_kinds, self.roles, self.units = table, event_kinds, roles, units
        self.problems: list[Problem] = []
        self.refs: set[tuple[str, str]] = set()
        self.seen: dict[tuple[str, str], int] = {}

    def feed(self, rows: Iterable[tuple[int, Mapping[str, str]]]) -> list[EventRow]:
        """The rows of ``rows`` that have no problem."""
        result = []
        for number, cells in rows:
            row = self._row(number, cells)
            if row is not None:
                result.append(row)
        return result

    def finish(self) -> None:
        """Raise `InputError` with every problem found so far, if any."""
        if self.problems:
            raise InputError(self.problems)

    def _row(self, number: int, cells: Mapping[str, str]) -> EventRow | None:
        units, problems = self.units, self.problems
        read = _RowReader(self.table, number, cells, problems)
        before = len(problems)
        unit = read.text("unit", True)
        if unit:
            read.known("unit", unit, units, "unit")
        kinds = split_list(read.text("kinds", True))
        for kind in kinds:
            read.known("kinds", kind, self.event_kinds, "event kind")
        attended = split_list(read.text("attended"))
        for role in attended:
            read.known("attended", role, self.roles, "role")
        day = read.parsed("date", parse_day, required=True)
        if day and unit in units:
            _check_active(read, units[unit], day)
        ref = read.text("ref") or None
        if ref and (unit, ref) in self.refs:
            read.fail("ref", f"ref {ref!r} appears twice for unit {unit!r} in this file")
        self.refs.add((unit, ref or ""))
        time, amount = read.parsed("time", parse_time), read.parsed("amount", parse_amount)
        if len(problems) != before or not day:
            return None
        title = read.text("title")
        row = EventRow(number, unit, kinds, day, time, title, attended, amount, ref)
        _check_once(read, row, self.seen)
        return row


def _check_once(read: _RowReader, row: EventRow, seen: dict[tuple[str, str], int]) -> None:
    """A row without ref that repeats an earlier row's date, time, kinds and title is refused."""
    first = seen.setdefault((row.unit, row.key), row.row)
    if first != row.row and not row.ref:
        read.fail("title", f"the same event as row {first} (date, time, kinds, title); add a ref")


def _check_active(read: _RowReader, span: UnitSpan, day: date) -> None:
    if span.active_from and day < span.active_from:
        read.fail("date", f"{day} is before the unit became active ({span.active_from})")
    if span.active_to and day > span.active_to:
        read.fail("date", f"{day} is after the unit ceased ({span.active_to})")
