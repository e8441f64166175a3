"""Validation of imported rows (units, people, events): pure, all problems at once.

Each ``parse_*`` function takes a `Table` and what it must be checked against, and returns typed
rows or raises `InputError` listing every problem as ``FILE:ROW: field: what``.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any, TypeVar

from scheduler.core.jsontext import dumps_unicode
from scheduler.core.problems import InputError, Message, Problem, Refused, message_of
from scheduler.core.words import word

UNIT_COLUMNS = ("code", "name", "kind", "parent", "active_from", "active_to")
PEOPLE_COLUMNS = ("name", "email", "phone", "unit", "role", "from", "to")
EVENT_COLUMNS = ("unit", "kinds", "date", "time", "title", "attended", "amount", "ref")

# The Chinese column names accepted for each file's columns (DESIGN: "Column names in Chinese").
COLUMN_ALIASES: dict[str, dict[str, str]] = {
    "units": {"代码": "code", "名称": "name", "类型": "kind", "上级": "parent",
              "启用日期": "active_from", "停用日期": "active_to"},
    "people": {"姓名": "name", "邮箱": "email", "电话": "phone", "单位": "unit", "职务": "role",
               "起始日期": "from", "终止日期": "to"},
    "events": {"单位": "unit", "类型": "kinds", "日期": "date", "时间": "time", "标题": "title",
               "参加人": "attended", "金额": "amount", "编号": "ref"},
}  # fmt: skip
FILE_COLUMNS = {"units": UNIT_COLUMNS, "people": PEOPLE_COLUMNS, "events": EVENT_COLUMNS}
MOST_SUGGESTED = 5  # an unknown code is answered with at most this many close known codes

# The longest text each column may hold (the database's column sizes).
MAX_CHARS = {"code": 64, "parent": 64, "unit": 64, "kind": 64, "role": 64, "name": 200,
             "email": 320, "phone": 64, "title": 500, "ref": 200}  # fmt: skip

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_TIME = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)(?:[:：]([0-5]\d)(?:\.\d+)?)?$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

T = TypeVar("T")


@dataclass(frozen=True)
class Table:
    """The rows of one file: ``rows`` pairs each row's number with its cells by column name."""

    filename: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[int, dict[str, str]]]  # a tuple, or a stream read once (events)

    def problem(self, row: int, field: str | None, message: str | Message) -> Problem:
        return Problem(self.filename, row, field, message)

    def require_columns(self, required: tuple[str, ...], kind: str | None = None) -> None:
        """Refuse, in one problem naming them all (with their Chinese names when the file is
        a ``kind`` file), the columns the header row lacks."""
        missing = [column for column in required if column not in self.columns]
        if not missing:
            return
        names = {key: alias for alias, key in COLUMN_ALIASES.get(kind or "", {}).items()}
        named = [
            Message("column_named", column=column, alias=names[column])
            if column in names
            else Message("column", column=column)
            for column in missing
        ]
        key = "missing_columns" if len(missing) > 1 else "missing_column"
        raise InputError([self.problem(1, None, Message(key, columns=named))])

    def canonical(self, kind: str) -> Table:
        """This table with the Chinese column names of a ``kind`` file (``units``, ``people``,
        ``events``) read as their column names; a column named both ways is refused."""
        aliases = COLUMN_ALIASES[kind]
        if not any(column in aliases for column in self.columns):
            return self
        renamed = tuple(aliases.get(column, column) for column in self.columns)
        twice = sorted({c for c in renamed if renamed.count(c) > 1})
        if twice:
            both = [alias for alias, key in aliases.items() if key == twice[0]]
            message = Message("column_twice_alias", column=twice[0], alias=both[0])
            raise InputError([self.problem(1, twice[0], message)])
        rows: Iterable[tuple[int, dict[str, str]]] = (
            (number, {aliases.get(column, column): value for column, value in cells.items()})
            for number, cells in self.rows
        )
        if isinstance(self.rows, tuple | list):  # a stream stays a stream (read once)
            rows = tuple(rows)
        return Table(self.filename, renamed, rows)


def parse_day(text: str) -> date:
    """A date written 2020-10-16, 2020/10/16, 2020.10.16 or 2020年10月16日."""
    match = _DATE.match(text.strip())
    if not match:
        raise Refused(Message("bad_date", value=text))
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise Refused(Message("no_such_day", value=text)) from None


def parse_time(text: str) -> str:
    """A time of day HH:MM (or HH:MM:SS as spreadsheets write it, the seconds dropped),
    normalised to two-digit hours."""
    match = _TIME.match(text.strip())
    if not match:
        raise Refused(Message("bad_time", value=text))
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_amount(text: str) -> Decimal:
    """A non-negative amount in yuan; thousands separators and a ¥/元 mark are allowed."""
    cleaned = text.replace(",", "").replace("，", "").strip().strip("¥￥元").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise Refused(Message("bad_amount", value=text)) from None
    if not amount.is_finite():
        raise Refused(Message("bad_amount", value=text))
    if amount < 0:
        raise Refused(Message("negative_amount", value=text))
    return amount.quantize(Decimal("0.01"))


def split_list(text: str) -> tuple[str, ...]:
    """A ``;``-separated list (``；`` and ``,`` also accepted), without empty items."""
    if not text:
        return ()
    parts = text.replace("；", ";").replace("，", ";").replace(",", ";").split(";")
    return tuple(dict.fromkeys(part for part in map(str.strip, parts) if part))


class _RowReader:
    """Collects problems while reading the cells of one row."""

    def __init__(
        self, table: Table, row: int, cells: Mapping[str, str], problems: list[Problem]
    ) -> None:
        self.table, self.row, self.cells, self.problems = table, row, cells, problems

    def fail(self, field: str | None, message: str | Message) -> None:
        self.problems.append(self.table.problem(self.row, field, message))

    def text(self, field: str, required: bool = False) -> str:
        value = self.cells.get(field, "")
        if required and not value:
            self.fail(field, Message("required"))
        longest = MAX_CHARS.get(field)
        if longest is not None and len(value) > longest:
            self.fail(field, Message("too_long", count=longest))
            return value[:longest]
        return value

    def parsed(self, field: str, parse: Callable[[str], T], required: bool = False) -> T | None:
        value = self.text(field, required)
        if not value:
            return None
        try:
            return parse(value)
        except ValueError as error:
            self.fail(field, message_of(error))
            return None

    def known(
        self, field: str, value: str, choices: Collection[str], what: str,
        titles: Mapping[str, str] | None = None,
    ) -> bool:  # fmt: skip
        """Whether ``value`` is one of a small vocabulary; else a problem listing it (by its
        Chinese ``titles`` where the reader reads Chinese)."""
        if value in choices:
            return True
        names = titles or {}
        known = [Message("term", name=key, title=names.get(key, key)) for key in sorted(choices)]
        self.fail(field, Message("unknown_choice", what=Message(what), value=value, known=known))
        return False

    def known_unit(self, field: str, code: str, codes: Collection[str]) -> bool:
        """Whether ``code`` is a known unit code; else a problem naming the closest codes."""
        if code in codes:
            return True
        self.fail(field, unknown_unit(code, codes))
        return False

    def term(self, field: str, value: str, vocabulary: Mapping[str, str], what: str) -> str:
        """The key of ``value``, written as a key or as one of its titles (``vocabulary`` maps
        both to the key); a problem listing the keys when it is neither."""
        if value in vocabulary:
            return vocabulary[value]
        titles: dict[str, str] = {}
        for text, key in vocabulary.items():
            if not text.isascii():
                titles.setdefault(key, text)
        self.known(field, value, set(vocabulary.values()), what, titles)
        return value

    def date_range(self, first: str, last: str) -> tuple[date | None, date | None]:
        start, end = self.parsed(first, parse_day), self.parsed(last, parse_day)
        if start and end and end < start:
            self.fail(last, Message("before_start", end=end, field=first, start=start))
        return start, end


def unknown_unit(code: str, codes: Collection[str], what: str = "unit") -> Message:
    """The problem of an unknown unit code, naming the closest known codes (at most
    `MOST_SUGGESTED`), never all of them."""
    close = closest(code, codes)
    if close:
        return Message("unknown_code_closest", what=Message(what), value=code, closest=close)
    return Message("unknown_code", what=Message(what), value=code)


def closest(code: str, codes: Collection[str]) -> list[str]:
    """The known codes most like ``code``, at most `MOST_SUGGESTED`: those that start with it
    (a township's code without its village digits), else the most alike by difflib's ratio."""
    longer = sorted(known for known in codes if code and known.startswith(code))
    if longer:
        return longer[:MOST_SUGGESTED]
    return difflib.get_close_matches(code, list(codes), n=MOST_SUGGESTED, cutoff=0.6)


def vocabulary(terms: Collection[str] | Mapping[str, Any]) -> dict[str, str]:
    """Each key of ``terms`` and, for a mapping to titles (``Text``: ``zh``, ``en``), each
    title, mapped to its key: kinds and roles may be written as the ruleset names them."""
    names = {key: key for key in terms}
    if isinstance(terms, Mapping):
        for key, title in terms.items():
            for text in (getattr(title, "zh", None), getattr(title, "en", None)):
                if isinstance(text, str) and text:
                    names.setdefault(text, key)
    return names


def _rows(table: Table, kind: str) -> list[tuple[int, Mapping[str, str]]]:
    table = table.canonical(kind)
    table.require_columns(FILE_COLUMNS[kind], kind)
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
    table: Table,
    unit_kinds: Collection[str],
    existing_parents: Mapping[str, str | None],
    unit_kind_titles: Mapping[str, str] | None = None,
) -> list[UnitRow]:
    """Unit rows checked for kinds, dates, duplicate codes, missing parents and cycles.

    ``existing_parents`` maps the codes already in the database to their parent codes;
    ``unit_kind_titles`` maps names of unit kinds (e.g. 乡镇) to the kinds they name.
    """
    problems: list[Problem] = []
    result: list[UnitRow] = []
    seen: set[str] = set()
    kinds = {**vocabulary(unit_kinds), **(unit_kind_titles or {})}
    for number, cells in _rows(table, "units"):
        read = _RowReader(table, number, cells, problems)
        code, name, kind = read.text("code", True), read.text("name", True), read.text("kind", True)
        if code in seen:
            read.fail("code", Message("duplicate_code", value=code))
        seen.add(code)
        if kind:
            kind = read.term("kind", kind, kinds, "unit_kind")
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
            message = unknown_unit(row.parent, parents, "parent_unit")
            problems.append(table.problem(row.row, "parent", message))
            continue
        seen = {row.code}
        ancestor = row.parent
        while ancestor:
            if ancestor in seen:
                message = Message("own_ancestor", code=row.code, via=ancestor)
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
    table: Table, roles: Collection[str] | Mapping[str, Any], unit_codes: Collection[str]
) -> list[PersonRow]:
    """People rows checked for known units and roles (a role by its key or title), e-mail
    addresses and dates."""
    problems: list[Problem] = []
    result = []
    names = vocabulary(roles)
    for number, cells in _rows(table, "people"):
        read = _RowReader(table, number, cells, problems)
        name, unit, role = read.text("name", True), read.text("unit", True), read.text("role", True)
        email = read.text("email") or None
        if email and not _EMAIL.match(email):
            read.fail("email", Message("bad_email", value=email))
        if unit:
            read.known_unit("unit", unit, unit_codes)
        if role:
            role = read.term("role", role, names, "role")
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

    def describe(self, language: str) -> str:
        """The counts in words of ``language``: 新建 1 条，更新 0 条，不变 2 条."""
        counts = {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}
        return word("cli.import_summary", language).format(**counts)


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
    key: str = field(init=False, repr=False, compare=False)  # `event_key` of the row
    digest: str = field(init=False, repr=False, compare=False)  # `event_digest` of the row

    def __post_init__(self) -> None:
        # computed once here: every row an import keeps needs both
        key = event_key(self.ref, self.day, self.time, self.kinds, self.title)
        object.__setattr__(self, "key", key)
        digest = event_digest(
            self.day, self.time, self.title, self.amount, self.kinds, self.attended
        )
        object.__setattr__(self, "digest", digest)


def event_digest(
    day: date, time: str | None, title: str, amount: Decimal | None, kinds: Collection[str],
    attended: Collection[str],
) -> str:  # fmt: skip
    """What an event says (date, time, title, amount, kinds, roles that attended; not its ref),
    as a SHA-256 in hex: a re-imported row whose digest is its current event's is unchanged.
    The hashed text is ``json.dumps([date, time, title, amount, kinds, roles],
    ensure_ascii=False)``: the kinds and roles sorted, the amount with two decimals."""
    money = "" if amount is None else f"{Decimal(amount):.2f}"
    parts = [day.isoformat(), time or "", title, money, _sorted(kinds), _sorted(attended)]
    return hashlib.sha256(dumps_unicode(parts).encode()).hexdigest()


def _sorted(labels: Collection[str]) -> list[str]:
    """``sorted(set(labels))``, quicker for one label or none."""
    return list(labels) if len(labels) < 2 else sorted(set(labels))


def event_key(
    ref: str | None, day: date, time: str | None, kinds: Collection[str], title: str
) -> str:
    """What makes an event the same event at its unit: its ``ref``, or without one its natural
    key (date, time, kinds, title). The database keeps one current event per (unit, key), so a
    re-imported row replaces or leaves its event instead of doubling it. A SHA-256 in hex of
    ``json.dumps(["ref", ref])`` or ``json.dumps(["row", date, time, *kinds, title])``
    (``ensure_ascii=False``, the kinds sorted)."""
    if ref:
        text = f'["ref", {encode_basestring(ref)}]'  # dumps_unicode(["ref", ref])
    else:
        text = dumps_unicode(["row", day.isoformat(), time or "", *_sorted(kinds), title.strip()])
    return hashlib.sha256(text.encode()).hexdigest()


def parse_events(
    table: Table,
    event_kinds: Collection[str] | Mapping[str, Any],
    roles: Collection[str] | Mapping[str, Any],
    units: Mapping[str, UnitSpan],
) -> list[EventRow]:
    """Event rows checked for known units, kinds and roles (kinds and roles by key or title),
    dates inside the unit's active
    life, times, non-negative amounts, and each event once in the file (refs unique; a row
    without ref unique by date, time, kinds and title)."""
    parser = EventParser(table, event_kinds, roles, units)
    rows = parser.feed(parser.table.rows)
    parser.finish()
    return rows


class EventParser:
    """`parse_events` a part of the file at a time: `feed` checks rows and returns the good
    ones, remembering what the file's later rows are checked against (refs, natural keys) and
    every problem; `finish` raises them all at once."""

    def __init__(
        self, table: Table, event_kinds: Collection[str] | Mapping[str, Any],
        roles: Collection[str] | Mapping[str, Any], units: Mapping[str, UnitSpan],
    ) -> None:  # fmt: skip
        table = table.canonical("events")  # Chinese column names read as theirs
        table.require_columns(FILE_COLUMNS["events"], "events")
        self.table, self.units = table, units
        self.kind_names, self.role_names = vocabulary(event_kinds), vocabulary(roles)
        self.problems: list[Problem] = []
        self.refs: dict[str, set[str]] = {}  # by unit: what a long file keeps of each row
        self.seen: dict[tuple[str, str], int] = {}  # rows without ref, by (unit, key)
        self.known_kinds: dict[str, tuple[str, ...]] = {}  # a kinds cell read before: its keys
        self.known_roles: dict[str, tuple[str, ...]] = {}  # an attended cell read before

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
        """The row when it has no problem, else None with its problems noted."""
        row = self._plain(number, cells)
        return row if row is not None else self._checked(number, cells)

    def _plain(self, number: int, cells: Mapping[str, str]) -> EventRow | None:
        """The row when every cell is plainly good (the row `_checked` returns without a
        problem), else None, and then `_checked` reads the row again and names its problems.
        The quick way for most of a file: a cell text seen before is not parsed again. Only a
        row it returns is remembered (its ref, or its key without ref)."""
        get = cells.get
        unit, day_text, ref = get("unit", ""), get("date", ""), get("ref", "")
        title, time_text, amount_text = get("title", ""), get("time", ""), get("amount", "")
        span = self.units.get(unit)
        if (
            span is None or not unit or not day_text or ":" in day_text or "：" in day_text
            or len(unit) > MAX_CHARS["unit"] or len(ref) > MAX_CHARS["ref"]
            or len(title) > MAX_CHARS["title"]
        ):  # fmt: skip
            return None  # unknown unit, no date, a date with its time, a text too long
        kinds = _keys(get("kinds", ""), self.kind_names, self.known_kinds)
        roles = get("attended", "")
        attended = _keys(roles, self.role_names, self.known_roles) if roles else ()
        if not kinds or attended is None:
            return None
        try:
            day = _parse_day(day_text)
            time = _parse_time(time_text) if time_text else None
            amount = _parse_amount(amount_text) if amount_text else None
        except ValueError:
            return None
        if (span.active_from and day < span.active_from) or (
            span.active_to and day > span.active_to
        ):
            return None
        refs = self.refs.get(unit)
        if ref and refs is not None and ref in refs:
            return None
        row = EventRow(number, unit, kinds, day, time, title, attended, amount, ref or None)
        if ref:
            self.refs.setdefault(unit, set()).add(ref)
            return row
        where = (unit, row.key)
        if where in self.seen:
            return None
        self.seen[where] = number
        return row

    def _checked(self, number: int, cells: Mapping[str, str]) -> EventRow | None:
        """The row read cell by cell, every problem noted; None when it has one."""
        units, problems = self.units, self.problems
        before = len(problems)
        split, conflict = _moment_split(cells)
        read = _RowReader(self.table, number, split, problems)
        if conflict:
            read.fail("time", Message("two_times", date=cells["date"], time=cells["time"]))
        unit = read.text("unit", True)
        if unit:
            read.known_unit("unit", unit, units)
        kinds = split_list(read.text("kinds", True))
        kinds = _unique(read.term("kinds", kind, self.kind_names, "event_kind") for kind in kinds)
        attended = split_list(read.text("attended"))
        attended = _unique(
            read.term("attended", role, self.role_names, "role") for role in attended
        )
        day = read.parsed("date", parse_day, required=True)
        if day and unit in units:
            _check_active(read, units[unit], day)
        ref = read.text("ref") or None
        if ref:
            refs = self.refs.setdefault(unit, set())
            if ref in refs:
                read.fail("ref", Message("ref_twice", ref=ref, unit=unit))
            refs.add(ref)
        time, amount = read.parsed("time", parse_time), read.parsed("amount", parse_amount)
        if len(problems) != before or not day:
            return None
        title = read.text("title")
        row = EventRow(number, unit, kinds, day, time, title, attended, amount, ref)
        _check_once(read, row, self.seen)
        return row


_MOMENT = re.compile(r"^(?P<day>\S+)\s+(?P<clock>\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)$")


def _moment_split(cells: Mapping[str, str]) -> tuple[Mapping[str, str], bool]:
    """A date cell that carries a time of day (Excel's date-and-time cell, 2021-03-12 09:30)
    read as its date and, in the time column, its time; other rows as they are. The flag
    says the time column names another time (two answers to one question)."""
    found = _MOMENT.match(cells.get("date", "").strip())
    clock = _clock_of(found["clock"]) if found else ""
    if not found or not clock:
        return cells, False
    given = cells.get("time", "").strip()
    split = {**cells, "date": found["day"], "time": clock}
    return split, bool(given) and _clock_of(given) != clock


def _clock_of(text: str) -> str:
    """``text`` as HH:MM when it is a time of day, else empty."""
    try:
        return parse_time(text) if text.strip() else ""
    except ValueError:
        return ""


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


KNOWN_CELLS = 4_096  # the cell texts an event parser keeps the reading of, for each column
_parse_day = lru_cache(maxsize=KNOWN_CELLS)(parse_day)  # a refused text raises each time
_parse_time = lru_cache(maxsize=KNOWN_CELLS)(parse_time)
_parse_amount = lru_cache(maxsize=KNOWN_CELLS)(parse_amount)


def _keys(
    text: str, names: Mapping[str, str], known: dict[str, tuple[str, ...]]
) -> tuple[str, ...] | None:
    """The keys of the ``;``-list ``text`` when each item is a key or title in ``names``, else
    None (also for a list of no item); ``known`` keeps what texts read before gave."""
    keys = known.get(text)
    if keys is not None:
        return keys
    items = split_list(text)
    if not items or any(item not in names for item in items):
        return None
    keys = _unique(names[item] for item in items)
    if len(known) < KNOWN_CELLS:
        known[text] = keys
    return keys


def _check_once(read: _RowReader, row: EventRow, seen: dict[tuple[str, str], int]) -> None:
    """A row without ref that repeats an earlier row's date, time, kinds and title is refused
    (a row with a ref is another event, or its ref is refused twice already)."""
    if row.ref:
        return
    first = seen.setdefault((row.unit, row.key), row.row)
    if first != row.row:
        read.fail("title", Message("same_event", row=first))


def _check_active(read: _RowReader, span: UnitSpan, day: date) -> None:
    if span.active_from and day < span.active_from:
        read.fail("date", Message("before_active", day=day, active_from=span.active_from))
    if span.active_to and day > span.active_to:
        read.fail("date", Message("after_ceased", day=day, active_to=span.active_to))
