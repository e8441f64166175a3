"""Many rows into one table inside the caller's transaction, at the driver's speed.

`insert_rows` binds each value with the column type's own SQLAlchemy bind processor (so the
stored text of a date, a timestamp or a JSON value is what an ORM or Core insert would store)
and hands the rows to the driver whole: PostgreSQL's ``COPY … FROM STDIN`` through psycopg 3,
elsewhere one DBAPI ``executemany`` of a prepared ``INSERT``. What Core's ``executemany`` adds
on top (a dictionary of parameters built and checked per row) is what this leaves out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each with the same keys, column names of ``table``) into ``table``."""
    if not rows:
        return
    connection = session.connection()
    names = list(rows[0])
    values = _bound(connection, table, names, rows)
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        _copy(connection, table.name, names, values)
        return
    columns = ", ".join(names)
    marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", values)


def _bound(
    connection: Connection, table: Table, names: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> list[tuple[Any, ...]]:  # fmt: skip
    """Each row's values in the order of ``names``, bound by their columns' processors: a
    column at a time, so that the loops run in C (``map``, ``zip``)."""
    dialect = connection.dialect
    columns: list[Iterable[Any]] = []
    for name in names:
        values: Iterable[Any] = map(itemgetter(name), rows)
        bind = table.c[name].type._cached_bind_processor(dialect)
        columns.append(values if bind is None else map(bind, values))
    return list(zip(*columns, strict=True))


def _copy(connection: Connection, table: str, names: Sequence[str], values: list[tuple]) -> None:
    """The rows through psycopg 3's ``COPY`` in text form, in the connection's transaction."""
    import psycopg

    raw: Any = connection.connection.dbapi_connection
    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN"
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except psycopg.IntegrityError as error:  # as Core would raise it: the callers catch that
        raise IntegrityError(statement, None, error) from error
