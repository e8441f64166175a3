"""Shared fixtures: real databases (SQLite, and PostgreSQL when reachable), the bundled
ruleset, the ``huiqi`` command (called in the test's process, or as the installed program where
the entry point itself is under test: `huiqi_process`), and a small county with two townships.

PostgreSQL: ``HUIQI_TEST_POSTGRES_URL`` (CI sets it) or, locally, postgres@127.0.0.1:5432/test
when it answers. Each test gets its own schema, dropped afterwards. When the variable is set
and the server does not answer, the PostgreSQL tests fail instead of being skipped.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import shutil
import signal
import subprocess
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from scheduler.cli import main as huiqi_main
from scheduler.core.rules import RuleBook
from scheduler.rulefiles import read_rulebook
from scheduler.store import schema
from scheduler.store.database import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_RULES = ROOT / "rules" / "xihe-fulian.yaml"
SHARED = ROOT.parent / "shared"
CONTRACT = SHARED / "contract"
# The contract's scenarios: its folders that hold a county (units.csv).
SCENARIOS = sorted(p.parent.name for p in CONTRACT.glob("*/units.csv"))
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_SECRET_KEY = "test-secret-key-of-the-huiqi-suite"
os.environ.setdefault("HUIQI_SECRET_KEY", TEST_SECRET_KEY)  # record links sign with it


def _postgres_base() -> str | None:
    url = os.environ.get("HUIQI_TEST_POSTGRES_URL")
    required = bool(url)
    url = url or DEFAULT_PG
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return url
    except Exception as error:
        if required:
            raise RuntimeError(f"HUIQI_TEST_POSTGRES_URL is set but unreachable: {error}") from None
        return None


POSTGRES = _postgres_base()
STORED_DEMO_NOW = datetime(2026, 9, 15, 9, tzinfo=ZoneInfo("Asia/Shanghai"))


MIGRATED_BY = frozenset({"engine", "county"})  # the fixtures that migrate the database first


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema. For a test that takes
    the migrated `engine` or the `county`, the database is migrated already: a copy of a SQLite
    file migrated once per test process, or a PostgreSQL schema migrated once and emptied
    (`MigratedSchemas`)."""
    migrated = not MIGRATED_BY.isdisjoint(request.fixturenames)
    if request.param == "sqlite":
        path = tmp_path / "huiqi.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    if migrated:
        pool: MigratedSchemas = request.getfixturevalue("migrated_schemas")
        with pool.lend() as url:
            yield url
        return
    with postgres_schema() as url:
        yield url


class MigratedSchemas:
    """PostgreSQL schemas of this test process, migrated once and lent to one test at a time:
    given back, each is emptied (every row deleted, triggers aside, every sequence restarted:
    what a fresh migration leaves, in a tenth of its time); a schema whose objects or revision a
    test changed is dropped instead, and so is every schema once a migration writes rows of its
    own (emptying would lose them)."""

    def __init__(self) -> None:
        self.idle: list[tuple[str, str]] = []  # (schema, url)
        self.shape: tuple[int, str] | None = None  # a fresh schema's objects and revision
        self.reusable = True  # a fresh migration leaves no row but its revision

    @contextmanager
    def lend(self) -> Iterator[str]:
        name, url = self.idle.pop() if self.idle else self._migrated()
        try:
            yield url
        finally:
            if self.reusable and self._emptied(url):
                self.idle.append((name, url))
            else:
                _drop_schema(name)

    def _migrated(self) -> tuple[str, str]:
        name, url = _create_schema()
        engine = make_engine(url)
        migrate(engine)
        with engine.connect() as connection:
            if self.shape is None:
                self.shape = _shape(connection)
                tables = [table for (table,) in connection.execute(text(_TABLES))]
                rows = (connection.execute(text(f'SELECT count(*) FROM "{t}"')) for t in tables)
                self.reusable = not any(count.scalar_one() for count in rows)
        engine.dispose()
        return name, url

    def _emptied(self, url: str) -> bool:
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
                if _shape(connection) != self.shape:
                    return False
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                for (table,) in connection.execute(text(_TABLES)):
                    connection.execute(text(f'DELETE FROM "{table}"'))
                for (sequence,) in connection.execute(text(_SEQUENCES)):
                    connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
            return True
        except DBAPIError:  # e.g. a role that may not turn the triggers off: a new schema then
            return False
        finally:
            engine.dispose()

    def close(self) -> None:
        for name, _ in self.idle:
            _drop_schema(name)


_TABLES = (
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    " AND tablename <> 'alembic_version'"
)
_SEQUENCES = "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
_OBJECTS = (
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema()"
)
_REVISION = text("SELECT string_agg(version_num, ',') FROM alembic_version")


def _shape(connection: Connection) -> tuple[int, str]:
    """How many objects the schema holds (tables, indexes, sequences, views…) and its
    revision."""
    objects = connection.execute(text(_OBJECTS)).scalar_one()
    revision = connection.execute(_REVISION).scalar()
    return objects, str(revision)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, closed (no write-ahead log beside it)."""
    path = tmp_path_factory.mktemp("migrated") / "huiqi.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(scope="session")
def migrated_schemas() -> Iterator[MigratedSchemas]:
    pool = MigratedSchemas()
    yield pool
    pool.close()


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh schema of the test PostgreSQL database, dropped after (the test is
    skipped when PostgreSQL is not reachable)."""
    schema, url = _create_schema()
    try:
        yield url
    finally:
        _drop_schema(schema)


def _create_schema() -> tuple[str, str]:
    """A new schema of the test PostgreSQL database, and the URL that works in it."""
    if POSTGRES is None:
        pytest.skip("PostgreSQL is not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in POSTGRES else "?"
    return schema, f"{POSTGRES}{separator}options={quote(f'-csearch_path={schema}')}"


def _drop_schema(schema: str) -> None:
    assert POSTGRES is not None
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database."""
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def book() -> RuleBook:
    """The bundled Xihe ruleset (R1–R12)."""
    return read_rulebook([BUNDLED_RULES])


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def stored_demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, book: RuleBook
) -> Iterator[Engine]:
    """The demo county of 2026 (as of 15 September) with its obligations stored, in SQLite or
    a fresh PostgreSQL schema; built once per test process (the tests that change it roll
    back)."""
    if request.param == "sqlite":
        yield from _stored_demo(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}", book)
        return
    with postgres_schema() as url:
        yield from _stored_demo(url, book)


def _stored_demo(url: str, book: RuleBook) -> Iterator[Engine]:
    from scheduler.demo import county as demo
    from scheduler.store import obligations
    from scheduler.store.database import transaction

    now = STORED_DEMO_NOW
    engine = make_engine(url)
    migrate(engine)
    with transaction(engine) as session:
        demo.load_demo(session, book, demo.generate(year=now.year, as_of=now.date()), now)
        obligations.settle(session, book, now.date())
    yield engine
    engine.dispose()


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


UNIT_HEADER = ("code", "name", "kind", "parent", "active_from", "active_to", "female_population")
EVENT_HEADER = ("unit", "kinds", "date", "time", "title", "attended", "amount", "ref")
PEOPLE_HEADER = ("name", "email", "phone", "unit", "role", "from", "to")

COUNTY_UNITS = [
    ("100", "示例县", "county", "", "2000-01-01", "", "80000"),
    ("101", "东山镇", "township", "100", "2000-01-01", "", ""),
    ("102", "西河乡", "township", "100", "2000-01-01", "", ""),
    ("10101", "东山村", "village", "101", "2000-01-01", "", ""),
]
COUNTY_PEOPLE = [
    ("孙主席", "sun@example.org", "", "100", "fulian_chair", "2020-01-01", ""),
    ("刘主席", "liu@example.org", "", "101", "fulian_chair", "2020-01-01", ""),
    ("陈书记", "chen@example.org", "", "101", "party_secretary", "2020-01-01", ""),
    ("周主席", "zhou@example.org", "", "102", "fulian_chair", "2020-01-01", ""),
]


@pytest.fixture
def county_files(tmp_path: Path) -> dict[str, Path]:
    """CSV files of a county (100) with two townships (101, 102) and a village (10101)."""
    return {
        "units": write_csv(tmp_path / "units.csv", UNIT_HEADER, COUNTY_UNITS),
        "people": write_csv(tmp_path / "people.csv", PEOPLE_HEADER, COUNTY_PEOPLE),
    }


HuiqiRunner = Callable[..., subprocess.CompletedProcess[str]]


def huiqi_executable() -> str:
    found = shutil.which("huiqi", path=str(Path(sys.executable).parent)) or shutil.which("huiqi")
    assert found, "the huiqi command is not installed (pip install -e .)"
    return found


def run_in_process(
    args: Sequence[str], environment: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``huiqi ARGS`` called in this process (click's test runner) from the project root, with
    ``environment`` over os.environ; stdout and stderr apart, as a finished process. An
    unexpected exception exits 1 with its traceback on stderr, as the installed command would.
    Root logging and the signal handlers a command may install are put back afterwards."""
    handlers, level = logging.root.handlers[:], logging.root.level
    signals = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        with contextlib.chdir(ROOT):
            result = CliRunner().invoke(
                huiqi_main, list(args), env=environment, prog_name="huiqi", catch_exceptions=True
            )
    finally:
        logging.root.handlers[:], logging.root.level = handlers, level
        for number, handler in signals.items():
            signal.signal(number, handler)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    completed = subprocess.CompletedProcess(
        ["huiqi", *args], result.exit_code, result.stdout, stderr
    )
    if check and completed.returncode != 0:
        raise AssertionError(
            f"huiqi {' '.join(args)} exited {completed.returncode}: {stderr}{result.stdout}"
        )
    return completed


def run_process(
    args: Sequence[str], environment: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The installed ``huiqi ARGS`` as a process from the project root, with ``environment``
    over os.environ."""
    result = subprocess.run(
        [huiqi_executable(), *args],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"huiqi {' '.join(args)} exited {result.returncode}: {result.stderr}{result.stdout}"
        )
    return result


def _runner(database_url: str, run: Callable[..., subprocess.CompletedProcess[str]]) -> HuiqiRunner:
    def call(
        *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environment = {
            "HUIQI_DATABASE_URL": database_url,
            "HUIQI_RULES": str(BUNDLED_RULES),
            "HUIQI_REMINDERS__QUIET_HOURS": "false",  # the command runs on the real clock
            **(env or {}),
        }
        return run(args, environment, check)

    return call


@pytest.fixture
def huiqi(database_url: str) -> HuiqiRunner:
    """``huiqi`` against the test database, from the project root, called in this process
    (where the entry point itself is not under test: see `huiqi_process`)."""
    return _runner(database_url, run_in_process)


@pytest.fixture
def huiqi_process(database_url: str) -> HuiqiRunner:
    """The installed ``huiqi`` command as a process against the test database."""
    return _runner(database_url, run_process)


@pytest.fixture
def county(huiqi: HuiqiRunner, county_files: dict[str, Path]) -> HuiqiRunner:
    """The installed command on an initialised database holding the small county."""
    huiqi("init")
    huiqi("units", "import", str(county_files["units"]))
    huiqi("people", "import", str(county_files["people"]))
    return huiqi


SCHEMA_HEAD = schema.code_heads()[0]  # the newest revision of the shipped migrations
