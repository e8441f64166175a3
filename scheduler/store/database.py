"""Engine, sessions and migrations (Alembic) for SQLite and PostgreSQL, and the check every
command makes before it works: that the database exists and holds this huiqi's schema."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.core.problems import Message

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and its folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **options)
    event.listen(engine, "connect", _postgresql_settings)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _postgresql_settings(connection: Any, _record: Any) -> None:
    """No just-in-time compilation: huiqi's reads are short, and compiling the dashboard's
    grouped count of a province costs more than it saves (about a third of its time)."""
    cursor = connection.cursor()
    cursor.execute("SET jit = off")
    cursor.close()
    connection.commit()


def alembic_config(engine: Engine) -> Any:
    """Alembic's configuration for ``engine`` (imported lazily: only init and tests need it)."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine, timezone: str = "Asia/Shanghai") -> None:
    """Create the database or bring it to the newest schema; refuse (`UnusableDatabase`) a
    database a newer huiqi wrote, before changing anything. ``timezone`` is the deployment's
    zone, for the times a migration writes to the change trail."""
    from alembic import command

    state = schema_state(engine)
    if state.newer and state.problem:
        raise UnusableDatabase(state.problem)

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["timezone"] = timezone
        command.upgrade(config, "heads")


NOT_INITIALISED = Message("not_initialised")


class UnusableDatabase(ValueError):
    """The database cannot be used as it is: one line saying what to do, English by ``str``,
    in any language by `said`."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message

    def said(self, language: str) -> str:
        return self.message.said(language)


def open_existing(url: str) -> Engine:
    """An engine for a database that must exist already: a SQLite file that is not there is
    refused, never created (nor its folder)."""
    parsed = make_url(url)
    database = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file and not Path(database).is_file():
        raise UnusableDatabase(NOT_INITIALISED)
    return make_engine(url)


@dataclass(frozen=True)
class SchemaState:
    """The revisions a database records against the heads of this huiqi's migrations."""

    revisions: frozenset[str]
    heads: frozenset[str]
    known: frozenset[str]

    @property
    def problem(self) -> Message | None:
        """None when the schema is this huiqi's; otherwise what to do, in one line."""
        if not self.revisions:
            return NOT_INITIALISED
        listed = sorted(self.revisions)
        if not self.revisions <= self.known:
            return Message("database_newer", revisions=listed)
        if self.revisions != self.heads:
            return Message("database_older", revisions=listed)
        return None

    @property
    def newer(self) -> bool:
        return not self.revisions <= self.known


@lru_cache(maxsize=1)
def _migrations() -> tuple[frozenset[str], frozenset[str]]:
    """The heads and every revision of the migrations shipped with this huiqi, from the
    ``revision`` and ``down_revision`` each migration file assigns (read, not imported: every
    command checks the schema, and loading Alembic and the migrations costs some 0.15 s)."""
    revisions: set[str] = set()
    below: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        values = _assigned(path, ("revision", "down_revision"))
        revisions.add(values["revision"])
        down = values.get("down_revision")
        below.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - below), frozenset(revisions)


def _assigned(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The literal values a Python file assigns at its top level to ``names``."""
    found: dict[str, Any] = {}
    for statement in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in names and statement.value:
                    found[target.id] = ast.literal_eval(statement.value)
    return found


def schema_state(engine: Engine) -> SchemaState:
    """What the database records in ``alembic_version`` (nothing when it is empty or new).
    A SQLite file that is not a database raises `UnusableDatabase`."""
    heads, known = _migrations()
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return SchemaState(frozenset(), heads, known)
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return SchemaState(frozenset(rows.scalars()), heads, known)
    except OperationalError:
        raise
    except DatabaseError as error:
        if engine.dialect.name == "sqlite":
            raise UnusableDatabase(Message("not_sqlite", file=engine.url.database)) from None
        raise UnusableDatabase(Message("database_unreadable", reason=error.orig)) from None


def check_schema(engine: Engine) -> None:
    """Raise `UnusableDatabase` unless the database holds exactly this huiqi's schema."""
    problem = schema_state(engine).problem
    if problem:
        raise UnusableDatabase(problem)


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
