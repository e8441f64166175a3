"""Backups of the whole database, consistent while the daemon and the web app write to it.

* SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database in one step
  from a read snapshot (WAL lets writers go on meanwhile), into ``FILE.partial``, which is checked
  (``PRAGMA quick_check``) and then renamed to ``FILE``: a backup killed half-way leaves at most
  the ``.partial``, never a truncated ``FILE``.
* PostgreSQL: ``pg_dump --format=custom`` of the database's schema, written the same way; a
  clear message when the client tools are not installed (`scheduler.store.pgtools`).

`restore` refuses a database that holds rows unless ``force``, a file that is no backup of this
backend, and a backup whose schema revision this code does not know (a newer huiqi made it). It
replaces the whole database in one transaction, then migrates an older backup to the newest
schema. Everything huiqi keeps is in the database; the deployment's files (config.yaml, the
rulesets, the templates, the secrets' environment file) are named by `outside_files`.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from scheduler.config import Settings
from scheduler.core.problems import Message, single
from scheduler.store import pgtools, schema
from scheduler.store.database import is_initialised, migrate

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: where, how big, at which schema revision."""

    path: Path
    size: int
    revisions: tuple[str, ...]


@dataclass(frozen=True)
class RestoreResult:
    """A finished restore: the backup's revision and the one the database is at now."""

    path: Path
    restored: tuple[str, ...]
    migrated_to: tuple[str, ...]


def partial_of(target: Path) -> Path:
    return target.with_name(target.name + ".partial")


def backup(engine: Engine, target: Path) -> BackupResult:
    """Write a consistent backup of ``engine``'s database to ``target`` (replaced atomically)."""
    if not is_initialised(engine):
        raise single(Message("backup_uninitialised"), str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_of(target)
    partial.unlink(missing_ok=True)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(engine, partial)
        else:
            pgtools.dump(engine, partial)
        _durable(partial)
        revisions = read_revisions(partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    _sync_folder(target.parent)
    return BackupResult(target, target.stat().st_size, revisions)


def _sqlite_backup(engine: Engine, partial: Path) -> None:
    with engine.connect() as connection:
        source = connection.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        with closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)  # one step: a single read snapshot of the whole database
            copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal
            verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
    if verdict != "ok":
        raise single(Message("backup_check_failed", verdict=verdict), str(partial))


def _durable(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# ----------------------------------------------------------------------------------------------
# What a backup file is


def backend_of(path: Path) -> str:
    """``sqlite`` or ``postgresql``, from the file's first bytes; refuse anything else."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise single(Message("backup_cannot_read", reason=error.strerror), str(path)) from None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(pgtools.DUMP_MAGIC):
        return "postgresql"
    raise single(Message("not_a_backup"), str(path))


def read_revisions(path: Path) -> tuple[str, ...]:
    """The schema revisions recorded in a backup file."""
    if backend_of(path) == "postgresql":
        return pgtools.dump_revisions(path)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as copy:
            verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise single(Message("backup_damaged", verdict=verdict), str(path))
            rows = copy.execute(f"SELECT version_num FROM {schema.VERSION_TABLE}").fetchall()
    except sqlite3.DatabaseError as error:
        raise single(Message("backup_unreadable", reason=str(error)), str(path)) from None
    return tuple(sorted(row[0] for row in rows))


# ----------------------------------------------------------------------------------------------
# Restore


def restore(engine: Engine, source: Path, force: bool = False) -> RestoreResult:
    """Replace the database with the backup ``source``; see the module's docstring."""
    backend = backend_of(source)
    if backend != engine.dialect.name:
        other = Message("backup_other_backend", backend=backend, target=engine.dialect.name)
        raise single(other, str(source))
    restored = read_revisions(source)
    _check_revisions(source, restored)
    filled = [] if force else schema.filled_tables(engine)
    if filled:
        raise single(Message("restore_holds_data", data=schema.holds_data(filled)), str(source))
    if backend == "sqlite":
        _sqlite_restore(engine, source)
    else:
        pgtools.restore(engine, source)
    migrate(engine)
    with engine.connect() as connection:
        now_at = schema.revisions(connection)
    return RestoreResult(source, restored, now_at)


def _check_revisions(source: Path, found: tuple[str, ...]) -> None:
    if not found:
        raise single(Message("backup_no_revision"), str(source))
    strange = schema.unknown(found)
    if strange:
        newer = Message(
            "backup_newer",
            revisions=schema.describe(strange),
            newest=schema.describe(schema.code_heads()),
        )
        raise single(newer, str(source))


def _sqlite_restore(engine: Engine, source: Path) -> None:
    """Copy the backup over the database in one write transaction of the backup API."""
    engine.dispose()
    uri = f"{source.resolve().as_uri()}?mode=ro"
    with engine.connect() as connection:
        target = connection.connection.driver_connection
        assert isinstance(target, sqlite3.Connection)
        with closing(sqlite3.connect(uri, uri=True)) as backup_file:
            backup_file.backup(target)
    engine.dispose()


def outside_files(settings: Settings, config: Path) -> list[Path]:
    """The deployment's files a database backup does not hold: keep copies of them too (the
    attachments' folder included: the database holds only their digests)."""
    candidates = [config, *settings.rule_paths, settings.path(settings.templates),
                  settings.path(settings.files.folder)]  # fmt: skip
    return [path for path in candidates if path.exists()]
