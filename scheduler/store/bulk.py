"""Many rows into one table inside the caller's transaction, at the driver's speed.

`insert_columns` binds each value with the column type's own SQLAlchemy bind processor (so the
stored text of a date, a timestamp or a JSON value is what an ORM or Core insert would store)
and hands the rows to the driver whole: PostgreSQL's ``COPY … FROM STDIN`` through psycopg 3,
elsewhere one DBAPI ``executemany`` of a prepared ``INSERT``. What Core's ``executemany`` adds
on top (a dictionary of parameters built and checked per row) is what this leaves out. The
values come a column at a time: a value every row shares is bound once, a column of days once
for each day, and a column the caller gives as the driver takes it (``raw``) not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date
from itertools import repeat
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

# The types whose equal values a processor binds alike, so that each is bound once (not
# datetime: equal instants in two zones bind apart; not bool, int and float: True == 1 == 1.0).
_BY_VALUE = frozenset({date, str, type(None)})


def insert_columns(
    session: Session | Connection, table: Table, columns: Mapping[str, Sequence[Any]],
    same: Mapping[str, Any] | None = None, raw: Collection[str] = (),
) -> None:  # fmt: skip
    """Insert rows into ``table`` given by column: ``columns`` maps column names to their
    values (each sequence as long, one value a row), ``same`` to the one value of every row.
    The values of the columns named in ``raw`` are handed to the driver as they are."""
    count = len(next(iter(columns.values()))) if columns else 0
    if not count:
        return
    connection = _connection(session)
    dialect = connection.dialect
    names = [*columns, *(same or {})]
    bound: list[Iterable[Any]] = []
    for name, values in columns.items():
        bind = None if name in raw else table.c[name].type._cached_bind_processor(dialect)
        bound.append(values if bind is None else _bind_all(bind, values))
    for name, value in (same or {}).items():
        bind = table.c[name].type._cached_bind_processor(dialect)
        bound.append(repeat(value if bind is None else bind(value), count))
    rows = list(zip(*bound, strict=True))
    quote = dialect.identifier_preparer.quote  # a column may be a keyword ("end")
    into = f"{quote(table.name)} ({', '.join(map(quote, names))})"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(connection, into, rows)
        return
    marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {into} VALUES ({marks})", rows)


def reserve_ids(session: Session | Connection, table: Table, count: int) -> list[int]:
    """``count`` new ids of ``table`` (an integer ``id`` key), so that its rows go in with
    `insert_columns` (no RETURNING): PostgreSQL's sequence of the column hands them out; on
    SQLite the caller's transaction writes, so it holds the write lock and the ids after the
    highest are free."""
    connection = _connection(session)
    if connection.dialect.name == "postgresql":
        sequence = func.nextval(func.pg_get_serial_sequence(table.name, "id"))
        numbers = select(sequence).select_from(func.generate_series(1, count))
        return list(connection.execute(numbers).scalars())
    highest = connection.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(highest + 1, highest + 1 + count))


def _connection(session: Session | Connection) -> Connection:
    return session if isinstance(session, Connection) else session.connection()


def _bind_all(bind: Callable[[Any], Any], values: Sequence[Any]) -> Iterable[Any]:
    """``values`` bound by ``bind``, each distinct one once when their types allow it."""
    if set(map(type, values)) <= _BY_VALUE:
        known = {value: bind(value) for value in set(values)}
        return map(known.__getitem__, values)
    return map(bind, values)


def _copy(connection: Connection, into: str, values: list[tuple]) -> None:
    """The rows through psycopg 3's ``COPY`` in text form into ``into`` (the table and its
    columns), in the connection's transaction."""
    import psycopg

    raw: Any = connection.connection.dbapi_connection
    statement = f"COPY {into} FROM STDIN"
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except psycopg.IntegrityError as error:  # as Core would raise it: the callers catch that
        raise IntegrityError(statement, None, error) from error
