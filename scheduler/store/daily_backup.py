"""The daemon's daily backup: once per local day after ``backup.at``, into ``backup.folder``
as ``huiqi-YYYY-MM-DD.db`` (SQLite) or ``.dump`` (PostgreSQL), keeping ``backup.keep_days``.

The day's run is claimed in the job log (`scheduler.store.jobs`) before it starts, so a restart,
a second daemon or a second trigger the same day backs up nothing twice; a failed run (its
reason in the log) is tried again at the next trigger, a run killed half-way is marked failed
by the next leading daemon and tried again then.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from scheduler.config import Settings
from scheduler.core.problems import InputError
from scheduler.store import backup, jobs
from scheduler.store.database import transaction

JOB = "backup"
_NAME = re.compile(r"^huiqi-(\d{4}-\d{2}-\d{2})\.(db|dump)$")


@dataclass(frozen=True)
class DailyOutcome:
    """What a trigger did: ``skipped`` (why), or the backup made and the old ones removed."""

    skipped: str | None = None
    made: backup.BackupResult | None = None
    removed: tuple[Path, ...] = ()
    error: str | None = None


def file_name(engine: Engine, day: date) -> str:
    return f"huiqi-{day.isoformat()}.{'db' if engine.dialect.name == 'sqlite' else 'dump'}"


def folder_of(settings: Settings) -> Path | None:
    """The backup folder, or None when the daily backup is switched off."""
    folder = settings.backup.folder
    return settings.path(folder) if folder else None


def run_daily(engine: Engine, settings: Settings, now: datetime) -> DailyOutcome:
    """Back up today if it is past ``backup.at`` and nobody did yet; prune old backups."""
    folder = folder_of(settings)
    if folder is None:
        return DailyOutcome(skipped="backup.folder is not set")
    if now.time() < settings.backup.at:
        return DailyOutcome(skipped=f"not before {settings.backup.at:%H:%M}")
    day = now.date()
    with transaction(engine) as session:
        if not jobs.claim(session, JOB, day, now):
            return DailyOutcome(skipped=f"the backup of {day} is done or under way")
    started = time.monotonic()
    try:
        made = backup.backup(engine, folder / file_name(engine, day))
    except (InputError, OSError) as error:
        _finish(engine, day, now, started, False, str(error))
        return DailyOutcome(error=str(error))
    _finish(engine, day, now, started, True, f"{made.path} ({made.size} bytes)")
    return DailyOutcome(made=made, removed=prune(folder, day, settings.backup.keep_days))


def _finish(
    engine: Engine, day: date, now: datetime, started: float, ok: bool, detail: str
) -> None:
    end = now + timedelta(seconds=time.monotonic() - started)
    with transaction(engine) as session:
        jobs.finish(session, JOB, day, now, end, ok, detail)


def daily_backups(folder: Path) -> list[tuple[date, Path]]:
    """The daily backups in ``folder``, oldest first (other files are not ours)."""
    found = []
    for path in folder.glob("huiqi-*"):
        match = _NAME.match(path.name)
        if match and path.is_file():
            found.append((date.fromisoformat(match.group(1)), path))
    return sorted(found)


def prune(folder: Path, today: date, keep_days: int) -> tuple[Path, ...]:
    """Delete the daily backups older than ``keep_days`` days (0: keep every one)."""
    if keep_days == 0:
        return ()
    oldest = today - timedelta(days=keep_days)
    removed = tuple(path for day, path in daily_backups(folder) if day < oldest)
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
