"""The schema as a whole: every model table, the revision the code knows and the database has,
row counts and emptiness. Backups, dumps and ``huiqi doctor`` read it.

`tables()` imports every ``scheduler.store.models*`` module, so a table another module adds is
part of backups, exports and counts without being listed here.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text

from scheduler.core.problems import Message
from scheduler.store import database
from scheduler.store.models import Base

VERSION_TABLE = "alembic_version"
SCHEDULER_TABLE = "apscheduler_jobs"


@cache
def tables() -> tuple[Table, ...]:
    """Every table of the models, parents before children."""
    package = importlib.import_module("scheduler.store")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("models"):
            importlib.import_module(f"scheduler.store.{module.name}")
    return tuple(Base.metadata.sorted_tables)


def _script() -> object:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    return ScriptDirectory.from_config(config)


def code_heads() -> tuple[str, ...]:
    """The newest revisions this code knows (usually one)."""
    return tuple(sorted(_script().get_heads()))  # type: ignore[attr-defined]


def known_revisions() -> frozenset[str]:
    """Every revision this code can migrate from."""
    return frozenset(rev.revision for rev in _script().walk_revisions())  # type: ignore[attr-defined]


def describe(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) if revisions else "none"


def revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at (empty when it was never initialised)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    return tuple(sorted(rows))


def unknown(found: tuple[str, ...]) -> tuple[str, ...]:
    """Of ``found``, the revisions this code does not know (a newer huiqi made them)."""
    known = known_revisions()
    return tuple(rev for rev in found if rev not in known)


def row_counts(connection: Connection) -> dict[str, int]:
    """Rows per model table that exists in the database."""
    present = set(inspect(connection).get_table_names())
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in tables()
        if table.name in present
    }


def filled_tables(bind: Engine | Connection) -> list[str]:
    """The model tables that hold a row (none: a new or freshly initialised database)."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return filled_tables(connection)
    present = set(inspect(bind).get_table_names())
    return [
        table.name
        for table in tables()
        if table.name in present and bind.execute(select(table).limit(1)).first() is not None
    ]


def holds_data(filled: list[str]) -> Message:
    """``the database holds data (units, events, …)``: the start of a refusal."""
    return Message("holds_data", tables=[*filled[:4], *(["…"] if len(filled) > 4 else [])])
