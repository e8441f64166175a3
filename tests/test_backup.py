"""``huiqi backup`` / ``restore``: consistent copies while huiqi writes, restores that refuse
what they must and land whole, on SQLite (online backup API) and PostgreSQL (pg_dump)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert, text

from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import backup, pgtools, registry, schema
from scheduler.store.database import alembic_config, make_engine, transaction
from scheduler.store.models import Event, EventKind
from tests.opsworld import NOW, counts, exported, fill, fresh_engine, world_settings


@pytest.fixture
def world(engine: Engine, book: RuleBook, tmp_path: Path) -> Engine:
    fill(engine, book, world_settings(engine.url.render_as_string(False), tmp_path / "mail"))
    return engine


def change_something(engine: Engine, book: RuleBook) -> None:
    with transaction(engine) as session:
        registry.add_event(session, book, {"unit": "102", "kinds": "study", "date": "2026-06-01"},
                           "x", NOW)  # fmt: skip
        registry.void_event(session, 2, "测试", "x", NOW)


def empty_the_database(engine: Engine) -> None:
    """What a new server holds: nothing (a deleted file, an empty schema)."""
    engine.dispose()
    if engine.dialect.name == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{engine.url.database}{suffix}").unlink(missing_ok=True)
        return
    with engine.begin() as connection:
        for name in reversed(connection.dialect.get_table_names(connection)):
            connection.execute(text(f'DROP TABLE "{name}" CASCADE'))


def test_restore_brings_back_the_database_as_it_was_backed_up(
    world: Engine, book: RuleBook, tmp_path: Path
) -> None:
    before = exported(world, with_secrets=True)
    taken = backup.backup(world, tmp_path / "huiqi.backup")
    assert taken.size > 0 and taken.revisions == schema.code_heads()
    change_something(world, book)
    assert exported(world, with_secrets=True) != before
    restored = backup.restore(world, taken.path, force=True)
    assert restored.migrated_to == schema.code_heads()
    assert exported(world, with_secrets=True) == before


def test_restore_refuses_a_database_that_holds_data(
    world: Engine, book: RuleBook, tmp_path: Path
) -> None:
    taken = backup.backup(world, tmp_path / "huiqi.backup")
    change_something(world, book)
    changed = exported(world)
    with pytest.raises(InputError) as refused:
        backup.restore(world, taken.path)
    assert re.fullmatch(
        rf"{re.escape(str(taken.path))}: the database holds data \([a-z_, …]+\)"
        ": restore --force replaces it",
        str(refused.value),
    )
    assert "units" in str(refused.value) and exported(world) == changed


def test_a_backup_restores_onto_a_new_empty_server(world: Engine, tmp_path: Path) -> None:
    before = exported(world, with_secrets=True)
    taken = backup.backup(world, tmp_path / "huiqi.backup")
    empty_the_database(world)
    backup.restore(world, taken.path)
    assert exported(world, with_secrets=True) == before


def _newer_backup(engine: Engine, path: Path) -> Path:
    """A backup whose schema revision no released huiqi knows."""
    if engine.dialect.name == "sqlite":
        backup.backup(engine, path)
        with closing(sqlite3.connect(path)) as copy:
            copy.execute("UPDATE alembic_version SET version_num = '9999'")
            copy.commit()
        return path
    with engine.begin() as connection:
        real = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    backup.backup(engine, path)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": real})
    return path


def test_restore_refuses_a_backup_made_by_a_newer_huiqi(world: Engine, tmp_path: Path) -> None:
    newer = _newer_backup(world, tmp_path / "newer.backup")
    before = exported(world)
    with pytest.raises(InputError) as refused:
        backup.restore(world, newer, force=True)
    message = str(refused.value)
    assert message.startswith(f"{newer}: schema revision 9999 is newer than this huiqi")
    assert refused.value.said("zh").startswith(f"{newer}：数据库结构版本 9999 比本 huiqi 新（")
    assert len(message.splitlines()) == 1
    assert exported(world) == before


def test_restore_refuses_a_file_that_is_no_backup_of_this_database(
    world: Engine, tmp_path: Path
) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="not a huiqi backup") as refused:
        backup.restore(world, text_file, force=True)
    assert refused.value.said("zh") == (
        f"{text_file}：不是 huiqi 备份（既不是 SQLite 文件，也不是 pg_dump 归档）"
    )
    with fresh_engine("sqlite", tmp_path, migrated=True) as other:
        sqlite_backup = backup.backup(other, tmp_path / "sqlite.backup").path
    if world.dialect.name == "postgresql":
        with pytest.raises(InputError, match="a sqlite backup cannot be restored into postgresql"):
            backup.restore(world, sqlite_backup, force=True)


def test_an_older_backup_is_migrated_to_the_newest_schema(
    database_url: str, tmp_path: Path
) -> None:
    old = make_engine(database_url)
    config = alembic_config(old)
    with old.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.execute(text("INSERT INTO units (code, name, kind, attributes) "
                                "VALUES ('100', '示例县', 'county', '{}')"))  # fmt: skip
    taken = backup.backup(old, tmp_path / "old.backup")
    assert taken.revisions == ("0006",)
    empty_the_database(old)
    restored = backup.restore(old, taken.path)
    assert (restored.restored, restored.migrated_to) == (("0006",), schema.code_heads())
    assert counts(old)["units"] == 1 and "job_runs" in counts(old)
    old.dispose()


# ----------------------------------------------------------------------------------------------
# Consistent while huiqi writes


class Writer(threading.Thread):
    """Records events (each with its kind, in one transaction) until told to stop."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.stop = threading.Event()
        self.written = 0
        self.baseline = 0
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with self.engine.begin() as connection:
                    event_id = connection.execute(
                        insert(Event).values(
                            unit_id=1,
                            date=date(2026, 5, 1),
                            title="写入",
                            recorded_at=NOW,
                            source="",
                            recorded_by="writer",
                            key=f"writer-{self.written}",
                        )
                    ).inserted_primary_key[0]
                    connection.execute(insert(EventKind).values(event_id=event_id, kind="study"))
                self.written += 1
        except BaseException as error:  # the test reports it
            self.failure = error
        finally:
            self.engine.dispose()


@pytest.fixture
def writer(world: Engine) -> Iterator[Writer]:
    thread = Writer(world.url.render_as_string(False))
    thread.baseline = counts(world)["events"]
    thread.start()
    yield thread
    thread.stop.set()
    thread.join(30)


def events_and_kinds(path: Path) -> tuple[set[int], set[int]]:
    """The event ids and the ids of events with a kind, as the backup holds them."""
    if backup.backend_of(path) == "sqlite":
        with closing(sqlite3.connect(path)) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            events = {row[0] for row in copy.execute("SELECT id FROM events")}
            kinds = {row[0] for row in copy.execute("SELECT event_id FROM event_kinds")}
        return events, kinds
    return set(map(int, _copied(path, "events", 0))), set(map(int, _copied(path, "event_kinds", 0)))


def _copied(path: Path, table: str, column: int) -> list[str]:
    script = subprocess.run(
        [pgtools.tool("pg_restore"), "--data-only", f"--table={table}", "--file=-", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    body = script.split(f".{table} (", 1)[1].split("FROM stdin;\n", 1)[1].split("\n\\.\n", 1)[0]
    return [line.split("\t")[column] for line in body.splitlines() if line]


def test_a_backup_taken_while_huiqi_writes_is_a_consistent_snapshot(
    world: Engine, writer: Writer, tmp_path: Path
) -> None:
    seen = []
    for number in range(3):
        while writer.written < 20 * (number + 1) and writer.failure is None:
            writer.stop.wait(0.01)
        low = writer.written
        taken = backup.backup(world, tmp_path / f"during-{number}.backup")
        high = writer.written
        events, with_kind = events_and_kinds(taken.path)
        assert events - with_kind == set(), "an event without its kind: a torn transaction"
        by_writer = len(events) - writer.baseline
        assert low <= by_writer <= high + 1
        seen.append(by_writer)
    assert writer.failure is None
    assert seen == sorted(seen) and seen[0] < seen[-1], "the writer went on during the backups"


def test_postgresql_backup_says_what_to_install_when_pg_dump_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError) as refused:
        pgtools.tool("pg_dump")
    assert str(refused.value) == (
        "pg_dump: not installed: install the PostgreSQL client tools "
        "(Debian: apt-get install postgresql-client)"
    )
