"""``huiqi export --format jsonl`` and ``huiqi import-all``: every table as JSON lines.

The file is one JSON object a line (keys sorted, UTF-8, no spaces): a header
``{"huiqi": "export", "format": 1, "revisions": [...], "secrets": false}``, then one
``{"table": NAME, "row": {...}}`` per row, table by table in dependency order (parents first),
rows in primary-key order, then ``{"end": {"rows": N}}``. The tables are the models' (every
``scheduler.store.models*`` module, so tables added later are included by themselves); the
scheduler's own job store is not (the daemon writes it anew). Dates and times are ISO text (aware
times in UTC), decimals are text, JSON columns are JSON.

Secrets stay out unless ``with_secrets``: a column marked ``info={"secret": True}`` (password
hashes) is written as null and imported as an empty hash that opens no account (set a new
password with ``huiqi users passwd``); a table so marked (browser sessions) is left out. API and
feed tokens are stored only as hashes, and are exported as such.

`import_all` loads such a file into an empty database in one transaction: a bad line, an
unknown table or column, a refused row or a missing end line (a truncated file) writes nothing.
Exporting the imported database gives the same bytes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    Table,
    Time,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from scheduler.core.problems import Message, single
from scheduler.store import schema
from scheduler.store.database import migrate

FORMAT = 1
BATCH = 1000


@dataclass
class DumpSummary:
    """Rows written or loaded, per table."""

    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def tables(self) -> int:
        """The tables with a row."""
        return sum(1 for count in self.rows.values() if count)

    def __str__(self) -> str:
        return f"{self.total} rows in {self.tables} tables"


def _line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def secret_table(table: Table) -> bool:
    return bool(table.info.get("secret"))


def secret_column(column: Column[Any]) -> bool:
    return bool(column.info.get("secret"))


# ----------------------------------------------------------------------------------------------
# Export


def export(engine: Engine, out: IO[str], with_secrets: bool = False) -> DumpSummary:
    """Write every table of the database to ``out``, in one read transaction."""
    summary = DumpSummary()
    with engine.connect() as connection, connection.begin():
        header = {"huiqi": "export", "format": FORMAT, "secrets": with_secrets,
                  "revisions": list(schema.revisions(connection))}  # fmt: skip
        out.write(_line(header))
        present = set(inspect(connection).get_table_names())
        for table in schema.tables():
            if table.name not in present or (secret_table(table) and not with_secrets):
                continue
            summary.rows[table.name] = 0
            for row in _rows(connection, table, with_secrets):
                out.write(_line({"table": table.name, "row": row}))
                summary.rows[table.name] += 1
        out.write(_line({"end": {"rows": summary.total}}))
    return summary


def _rows(connection: Connection, table: Table, with_secrets: bool) -> Iterator[dict[str, Any]]:
    hidden = {c.name for c in table.columns if secret_column(c) and not with_secrets}
    query = select(table).order_by(*table.primary_key.columns).execution_options(yield_per=BATCH)
    for row in connection.execute(query).mappings():
        yield {name: None if name in hidden else encode(value) for name, value in row.items()}


def encode(value: Any) -> Any:
    """A column value as JSON."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


# ----------------------------------------------------------------------------------------------
# Import


@dataclass
class _Loader:
    """The state of one import: the batch being gathered and the links set at the end."""

    connection: Connection
    filename: str
    tables: dict[str, Table]
    summary: DumpSummary = field(default_factory=DumpSummary)
    batch_table: Table | None = None
    batch: list[dict[str, Any]] = field(default_factory=list)
    links: list[tuple[Table, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    later: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    keys: set[Any] = field(default_factory=set)
    held: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: Table, row: dict[str, Any]) -> None:
        if self.batch_table is not table:
            self.flush()
            self.release()
            self.batch_table = table
        elif len(self.batch) >= BATCH:
            self.flush()
        if table.name not in self.seen:
            self.seen.append(table.name)
            self.later[table.name] = _later_links(table, self.seen, self.tables)
            self.keys = set()
        self.summary.rows[table.name] = self.summary.rows.get(table.name, 0) + 1
        if self._waiting(table, row):
            self.held.append(row)  # it names a row of its table not loaded yet: see `release`
            return
        self.keys.add(tuple(row.get(c.name) for c in table.primary_key.columns))
        linked = {
            name: row[name]
            for name, own in self.later[table.name]
            if row.get(name) is not None and not own
        }
        if linked:
            key = {c.name: row[c.name] for c in table.primary_key.columns}
            self.links.append((table, key, linked))
            row = {**row, **dict.fromkeys(linked)}
        self.batch.append(row)

    def _waiting(self, table: Table, row: dict[str, Any]) -> bool:
        return any(
            own and row.get(name) is not None and (row[name],) not in self.keys
            for name, own in self.later[table.name]
        )

    def release(self) -> None:
        """Insert the held rows of the current table, each once the rows of its table it names
        are in (a superseded event after its newer version, a child after its parent), so no
        reference is ever left empty on the way: an event is never current twice."""
        table = self.batch_table
        pending, self.held = self.held, []
        while table is not None and pending:
            ready = [row for row in pending if not self._waiting(table, row)]
            if not ready:  # a reference to a row the file does not hold: the database says so
                ready = pending
            pending = [row for row in pending if all(row is not r for r in ready)]
            for row in ready:
                self.keys.add(tuple(row.get(c.name) for c in table.primary_key.columns))
                self.add_links(table, row)
            self._execute(table, partial(self.connection.execute, table.insert(), ready))

    def add_links(self, table: Table, row: dict[str, Any]) -> None:
        """Defer the row's references to tables not loaded yet (set by `link` at the end)."""
        linked = {
            name: row[name]
            for name, own in self.later[table.name]
            if row.get(name) is not None and not own
        }
        if linked:
            key = {c.name: row[c.name] for c in table.primary_key.columns}
            self.links.append((table, key, linked))
            row.update(dict.fromkeys(linked))

    def flush(self) -> None:
        if self.batch_table is not None and self.batch:
            table = self.batch_table
            self._execute(table, partial(self.connection.execute, table.insert(), self.batch))
        self.batch = []

    def link(self) -> None:
        """Set the references to rows of tables that came later."""
        self.flush()
        self.release()
        for table, key, values in self.links:
            where = [table.c[name] == value for name, value in key.items()]
            statement = table.update().where(*where).values(values)
            self._execute(table, partial(self.connection.execute, statement))

    def _execute(self, table: Table, run: Callable[[], object]) -> None:
        try:
            run()
        except IntegrityError as error:
            first = str(error.orig).strip().splitlines()[0]
            refused = Message("dump_row_refused", table=table.name, reason=first)
            raise single(refused, self.filename) from None


def _later_links(table: Table, seen: list[str], tables: dict[str, Table]) -> list[tuple[str, bool]]:
    """Columns referring to this table or one not loaded yet: a value naming a row not loaded
    yet (a newer version of an event, a parent listed after its child) is inserted empty and
    set at the end."""
    names = []
    for column in table.columns:
        for key in column.foreign_keys:
            target = key.column.table.name
            if target == table.name:
                names.append((column.name, True))
            elif target in tables and target not in seen:
                names.append((column.name, False))
    return names


def import_all(engine: Engine, source: Path) -> DumpSummary:
    """Load an export into an empty database (created or migrated first), in one transaction."""
    name = str(source)
    migrate(engine)
    tables = {table.name: table for table in schema.tables()}
    with engine.connect() as connection, connection.begin():
        filled = schema.filled_tables(connection)
        if filled:
            refusal = Message("import_all_holds_data", data=schema.holds_data(filled))
            raise single(refusal, name)
        loader = _Loader(connection, name, tables)
        try:
            with source.open(encoding="utf-8") as lines:
                _load_lines(loader, lines)
        except OSError as error:
            raise single(Message("cannot_read", reason=error.strerror), name) from None
        except UnicodeDecodeError:
            raise single(Message("not_utf8"), name) from None
        loader.link()
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection, tables.values())
    return loader.summary


def _load_lines(loader: _Loader, lines: IO[str]) -> None:
    number = 0
    for number, raw in enumerate(lines, start=1):
        item = _parse(raw, loader.filename, number)
        if number == 1:
            _check_header(item, loader.filename)
        elif "end" in item:
            _check_end(item, loader.summary, loader.filename, number)
            return
        else:
            table, row = _row(item, loader, number)
            loader.add(table, row)
    raise single(Message("export_truncated", number=number), loader.filename)


def _parse(raw: str, filename: str, number: int) -> dict[str, Any]:
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as error:
        raise single(Message("not_json", reason=error.msg), filename, number) from None
    if not isinstance(item, dict):
        raise single(Message("not_json_object"), filename, number)
    return item


def _check_header(item: dict[str, Any], filename: str) -> None:
    if item.get("huiqi") != "export":
        raise single(Message("not_an_export"), filename, 1)
    if item.get("format") != FORMAT:
        found = repr(item.get("format"))
        raise single(Message("export_format", found=found, expected=FORMAT), filename, 1)
    strange = schema.unknown(tuple(item.get("revisions") or ()))
    if strange:
        raise single(Message("export_newer", revisions=schema.describe(strange)), filename, 1)


def _check_end(item: dict[str, Any], summary: DumpSummary, filename: str, number: int) -> None:
    expected = (item.get("end") or {}).get("rows")
    if expected != summary.total:
        counts = Message("export_end_count", expected=expected, total=summary.total)
        raise single(counts, filename, number)


def _row(item: dict[str, Any], loader: _Loader, number: int) -> tuple[Table, dict[str, Any]]:
    name, cells = item.get("table"), item.get("row")
    table = loader.tables.get(str(name))
    if table is None or not isinstance(cells, dict):
        unknown = Message("unknown_table", name=name, shown=repr(name))
        raise single(unknown, loader.filename, number, "table")
    row = {}
    for key, value in cells.items():
        if key not in table.columns:
            unknown = Message("unknown_column", name=key)
            raise single(unknown, loader.filename, number, f"{table.name}")
        row[key] = _decode(table.columns[key], value, loader.filename, number)
    return table, row


def _decode(column: Column[Any], value: Any, filename: str, number: int) -> Any:
    """A JSON value as the column's Python value; a secret left out becomes an empty text."""
    if value is None:
        return "" if secret_column(column) and not column.nullable else None
    kind = column.type
    try:
        return _convert(kind, value)
    except (TypeError, ValueError, InvalidOperation):
        where = f"{column.table.name}.{column.name}"
        shown = json.dumps(value, ensure_ascii=False)[:60]
        invalid = Message("not_a_valid_value", kind=type(kind).__name__.lower(), value=shown)
        raise single(invalid, filename, number, where) from None


def _convert(kind: Any, value: Any) -> Any:
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(_text(value))
    if isinstance(kind, Date):
        return date.fromisoformat(_text(value))
    if isinstance(kind, Time):
        return time.fromisoformat(_text(value))
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        return Decimal(_text(value))
    if isinstance(kind, Boolean):
        return _typed(value, bool)
    if isinstance(kind, Integer):
        return _typed(value, int)
    if isinstance(kind, LargeBinary):
        return base64.b64decode(_text(value), validate=True)
    if isinstance(kind, JSON):
        return value
    if isinstance(kind, Float):
        return float(value)
    return _text(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise TypeError(value)
    return value


def _reset_sequences(connection: Connection, tables: Any) -> None:
    """Move each serial primary key's sequence past the imported ids."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if (
            len(keys) != 1
            or not isinstance(keys[0].type, Integer)
            or keys[0].autoincrement is False
        ):
            continue
        column = keys[0]
        sequence = connection.execute(
            select(func.pg_get_serial_sequence(table.name, column.name))
        ).scalar()
        if sequence is None:
            continue
        top = connection.execute(select(func.max(column))).scalar()
        connection.execute(
            text("SELECT setval(:sequence, :value, :called)"),
            {"sequence": sequence, "value": top or 1, "called": top is not None},
        )
