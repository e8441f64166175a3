"""Operations as real processes: the daemon's daily backup across restarts, its JSON logs, and
crashes (SIGKILL to the whole process group, as systemd does) during a backup and an import
that leave no corruption and nothing half-written."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, String, cast, func, insert, literal, select, text

from scheduler.core.rules import RuleBook
from scheduler.store import backup, dump, schema
from scheduler.store.database import transaction
from scheduler.store.models import Event, EventKind
from scheduler.store.models_operations import JobRun
from tests.conftest import BUNDLED_RULES, ROOT, huiqi_executable
from tests.countyfacts import SHANGHAI, load_county
from tests.mailsink import free_port
from tests.opsworld import PASSWORD, counts, fresh_engine
from tests.test_daemon import Process, until


def environment(engine: Engine, folder: Path, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "HUIQI_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "HUIQI_RULES": str(BUNDLED_RULES),
        "HUIQI_MAIL__FOLDER": str(folder / "mail"),
        "HUIQI_BACKUP__FOLDER": str(folder / "backups"),
        "HUIQI_BACKUP__AT": "00:00",
        "HUIQI_REMINDERS__SEND_AT": "23:59",
        "HUIQI_REMINDERS__LEADER_POLL_SECONDS": "0.2",
        **more,
    }


class Group(Process):
    """A ``huiqi`` process leading its own process group (its pg_dump children included)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.handle = log.open("w")
        self.popen = subprocess.Popen(
            [huiqi_executable(), *args], cwd=ROOT, env=env, stdout=self.handle,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(30)
        self.handle.close()


@pytest.fixture
def started() -> Iterator[list[Group]]:
    processes: list[Group] = []
    yield processes
    for process in processes:
        if process.popen.poll() is None:
            process.kill()


def backup_row(engine: Engine) -> JobRun | None:
    with transaction(engine) as session:
        return session.scalars(select(JobRun).where(JobRun.job == "backup")).first()


def today_file(engine: Engine, folder: Path) -> Path:
    suffix = "db" if engine.dialect.name == "sqlite" else "dump"
    return folder / "backups" / f"huiqi-{datetime.now(SHANGHAI).date()}.{suffix}"


def test_the_daemon_backs_up_once_a_day_across_restarts_and_logs_json(
    engine: Engine, book: RuleBook, tmp_path: Path, started: list[Group]
) -> None:
    load_county(engine, book)
    env = environment(engine, tmp_path, HUIQI_LOG__FORMAT="json")
    first = Group(["run"], env, tmp_path / "first.log")
    started.append(first)
    until(lambda: "backup: /" in first.output, "the daemon's first backup")
    assert first.stop() == 0
    made = today_file(engine, tmp_path)
    assert made.exists() and backup.read_revisions(made) == schema.code_heads()
    stamp = made.stat().st_mtime_ns
    second = Group(["run"], env, tmp_path / "second.log")
    started.append(second)
    until(lambda: "backup: skipped" in second.output, "the restarted daemon's backup trigger")
    assert second.stop() == 0
    assert made.stat().st_mtime_ns == stamp
    row = backup_row(engine)
    assert row is not None and (row.status, row.runs) == ("ok", 1)
    records = [json.loads(line) for line in (first.output + second.output).splitlines()]
    assert {"at", "level", "logger", "message"} <= set(records[0])
    assert any(
        r["logger"] == "huiqi.daemon" and r["message"].startswith("backup: /") for r in records
    )
    skipped = f"backup: skipped, the backup of {datetime.now(SHANGHAI).date()} is done or under way"
    assert any(r["message"] == skipped for r in records)


# ----------------------------------------------------------------------------------------------
# Crashes


def grow(engine: Engine, rows: int) -> None:
    """Make the database big enough that copying it takes a while: ``rows`` events of unit 100
    with 480 random hexadecimal digits each (made by the database itself)."""
    events = Event.__table__
    if engine.dialect.name == "sqlite":
        counting = select(literal(1).label("n")).cte("numbers", recursive=True)
        numbers = counting.union_all(select(counting.c.n + 1).where(counting.c.n < rows))
        noise = func.hex(func.randomblob(240))
    else:
        numbers = select(func.generate_series(1, rows).label("n")).cte("numbers")
        noise = func.concat(*(func.md5(cast(func.random(), String)) for _ in range(15)))
    titles = select(noise.label("title")).select_from(numbers).subquery()
    made = select(
        literal(1), literal(date(2026, 5, 1), events.c.date.type), titles.c.title,
        func.substr(titles.c.title, 1, 64), literal(""),
        literal(datetime.now(SHANGHAI), events.c.recorded_at.type), literal("grow"),
    ).select_from(titles)  # fmt: skip
    names = ["unit_id", "date", "title", "key", "source", "recorded_at", "recorded_by"]
    with engine.begin() as connection:
        connection.execute(insert(events).from_select(names, made))
        connection.execute(
            insert(EventKind).from_select(["event_id", "kind"], select(Event.id, text("'study'")))
        )


def records(engine: Engine) -> dict[str, int]:
    """Rows per table, the daemon's own job log aside."""
    return {name: count for name, count in counts(engine).items() if name != "job_runs"}


def healthy(engine: Engine) -> None:
    """The database passes its own check (SQLite) and answers (both)."""
    if engine.dialect.name == "sqlite":
        engine.dispose()
        with closing(sqlite3.connect(str(engine.url.database))) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM events")).scalar_one()


def test_killing_the_daemon_during_a_backup_corrupts_nothing_and_the_next_one_redoes_it(
    engine: Engine, book: RuleBook, tmp_path: Path, started: list[Group]
) -> None:
    load_county(engine, book)
    grow(engine, 60000)
    before = records(engine)
    partial = backup.partial_of(today_file(engine, tmp_path))
    daemon = Group(["run"], environment(engine, tmp_path), tmp_path / "killed.log")
    started.append(daemon)
    until(lambda: partial.exists() and partial.stat().st_size > 0, "the backup to be under way")
    daemon.kill()
    healthy(engine)
    assert records(engine) == before
    assert not today_file(engine, tmp_path).exists()
    row = backup_row(engine)
    assert row is not None and row.status == "running"
    again = Group(["run"], environment(engine, tmp_path), tmp_path / "again.log")
    started.append(again)
    until(lambda: "backup: /" in again.output, "the next daemon's backup")
    assert again.stop() == 0
    assert "1 run(s) of a stopped daemon marked failed" in again.output
    made = today_file(engine, tmp_path)
    assert backup.read_revisions(made) == schema.code_heads() and not partial.exists()
    row = backup_row(engine)
    assert row is not None and (row.status, row.runs) == ("ok", 2)
    if engine.dialect.name == "sqlite":
        with closing(sqlite3.connect(made)) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert copy.execute("SELECT count(*) FROM events").fetchone()[0] == before["events"]


def events_csv(rows: int) -> bytes:
    lines = ["unit,kinds,date,time,title,attended,amount,ref"]
    lines += [f"101,hearing,2026-05-01,,会议 {n},,,r{n}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def writing(engine: Engine, wal_before: int) -> bool:
    """Has an uncommitted transaction started writing? (SQLite: the WAL grows as the page cache
    spills; PostgreSQL: a transaction holds a write lock on ``events``.)"""
    if engine.dialect.name == "sqlite":
        wal = Path(f"{engine.url.database}-wal")
        return wal.exists() and wal.stat().st_size > wal_before
    query = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = 'events' AND c.relnamespace = current_schema()::regnamespace "
        "AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
    )
    with engine.connect() as connection:
        return bool(connection.execute(query).scalar())


def wal_size(engine: Engine) -> int:
    wal = Path(f"{engine.url.database}-wal")
    return wal.stat().st_size if engine.dialect.name == "sqlite" and wal.exists() else 0


def log_in(client: httpx.Client) -> str:
    """Log the admin in; the CSRF token of the session."""
    form = client.get("/login").text
    token = form.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                         "csrf": token, "next": "/"})  # fmt: skip
    assert answer.status_code == 303, answer.text
    return client.get("/imports").text.split('name="csrf" value="')[1].split('"')[0]


def test_killing_the_web_server_during_an_import_writes_nothing(
    engine: Engine, book: RuleBook, tmp_path: Path, started: list[Group]
) -> None:
    load_county(engine, book)
    env = environment(engine, tmp_path, HUIQI_PASSWORD=PASSWORD, HUIQI_WEB__SECURE_COOKIES="false",
                      HUIQI_LOG__FORMAT="json")  # fmt: skip
    subprocess.run([huiqi_executable(), "users", "add", "admin", "--role", "admin"], env=env,
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    port = free_port()
    server = Group(["serve", "--port", str(port), "--access-log"], env, tmp_path / "serve.log")
    started.append(server)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300)
    until(lambda: _answers(client), "the web server to answer")
    csrf = log_in(client)
    digest = _preview_import(client, csrf)
    before, wal_before = records(engine), wal_size(engine)
    outcome: list[object] = []
    upload = threading.Thread(target=lambda: outcome.append(_apply_import(client, csrf, digest)))
    upload.start()
    until(lambda: writing(engine, wal_before), "the import to be writing")
    server.kill()
    upload.join(60)
    client.close()
    assert isinstance(outcome[0], httpx.TransportError), "the server answered: the import finished"
    healthy(engine)
    assert records(engine) == before
    logged = [json.loads(line) for line in server.output.splitlines() if line.startswith("{")]
    assert any(r["logger"] == "uvicorn.access" and "GET /health" in r["message"] for r in logged)


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.TransportError:
        return False


def _preview_import(client: httpx.Client, csrf: str) -> str:
    """Upload the file for a preview (tried and rolled back); the digest "apply" names."""
    page = client.post(
        "/imports", data={"csrf": csrf, "kind": "events", "action": "preview"},
        files={"file": ("events.csv", events_csv(20000), "text/csv")},
    ).text  # fmt: skip
    return page.split('name="upload" value="')[1].split('"')[0]


def _apply_import(client: httpx.Client, csrf: str, digest: str) -> object:
    try:
        return client.post(
            "/imports", data={"csrf": csrf, "kind": "events", "action": "apply", "upload": digest}
        )
    except httpx.TransportError as error:
        return error


def test_killing_import_all_half_way_leaves_an_empty_database(
    engine: Engine, book: RuleBook, tmp_path: Path, started: list[Group]
) -> None:
    load_county(engine, book)
    grow(engine, 20000)
    export = tmp_path / "all.jsonl"
    with export.open("w", encoding="utf-8") as out:
        dump.export(engine, out)
    with fresh_engine(engine.dialect.name, tmp_path, migrated=True) as target:
        env = environment(target, tmp_path)
        wal_before = wal_size(target)
        loading = Group(["import-all", str(export)], env, tmp_path / "import.log")
        started.append(loading)
        until(lambda: writing(target, wal_before), "import-all to be writing")
        loading.kill()
        healthy(target)
        assert sum(counts(target).values()) == 0
        again = subprocess.run([huiqi_executable(), "import-all", str(export)], env=env, cwd=ROOT,
                               capture_output=True, text=True)  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert counts(target) == counts(engine)
