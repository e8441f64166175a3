"""``huiqi doctor``'s checks of a running service: the schema revision, the daily backups, free
disk space, the clock against the database server's, and (``--send-test``) a real test mail.

Each check returns a `Finding`; none raises. ``now`` is the face's clock, read once.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from scheduler.config import Settings
from scheduler.reminders.doctor import Finding
from scheduler.store import daily_backup, jobs, schema
from scheduler.store.database import UnusableDatabase, open_existing, transaction
from scheduler.store.models_operations import FAILED
from scheduler.transports.mail import OutgoingMail, make_mailer

MIN_FREE = 512 * 2**20  # below this, backups and the database itself are at risk
LOW_SHARE = 0.10
SKEW_WARNING = timedelta(seconds=5)
BACKUP_AGE = timedelta(days=1, hours=12)


def examine(settings: Settings, now: datetime) -> list[Finding]:
    """The operations checks, in order; none of a database that is not there (nothing is
    created: `scheduler.reminders.doctor` says what is wrong with it)."""
    try:
        engine = open_existing(settings.resolved_database_url)
    except UnusableDatabase as error:
        return [Finding("error", "schema", str(error))]
    try:
        findings = [
            _guarded("schema", _schema, engine),
            _guarded("backup", _backups, engine, settings, now),
        ]
        findings.extend(_guarded("disk", _disk, path) for path in _folders(settings, engine))
        findings.append(_guarded("clock", _clock, engine, now))
        return findings
    finally:
        engine.dispose()


def _guarded(topic: str, check: Callable[..., Finding], *args: Any) -> Finding:
    try:
        return check(*args)
    except Exception as error:  # a check that crashes is a finding, not a traceback
        return Finding("error", topic, f"{type(error).__name__}: {error}")


def _schema(engine: Engine) -> Finding:
    with engine.connect() as connection:
        found = schema.revisions(connection)
    heads = schema.code_heads()
    shown = schema.describe(found)
    if not found:
        return Finding("error", "schema", "no revision: run 'huiqi init'")
    if schema.unknown(found):
        return Finding("error", "schema", f"revision {shown} is newer than this huiqi: upgrade it")
    if found != heads:
        detail = f"revision {shown}, this huiqi has {schema.describe(heads)}: run 'huiqi init'"
        return Finding("error", "schema", detail)
    return Finding("ok", "schema", f"revision {shown} (the newest)")


def _backups(engine: Engine, settings: Settings, now: datetime) -> Finding:
    folder = daily_backup.folder_of(settings)
    if folder is None:
        return Finding("warning", "backup", "backup.folder is not set: no daily backup")
    with transaction(engine) as session:
        last = jobs.latest(session, daily_backup.JOB)
    if last is not None and last.status == FAILED:
        return Finding("error", "backup", f"the backup of {last.day} failed: {last.detail}")
    found = daily_backup.daily_backups(folder) if folder.is_dir() else []
    if not found:
        return Finding(
            "warning", "backup", f"no daily backup in {folder} yet ('huiqi run' makes them)"
        )
    path = found[-1][1]
    age = now - datetime.fromtimestamp(path.stat().st_mtime, UTC)
    detail = f"newest {path} ({path.stat().st_size} bytes), {len(found)} kept"
    if age > BACKUP_AGE:
        return Finding(
            "warning", "backup", f"{detail}: {age.days} days old, is 'huiqi run' running?"
        )
    return Finding("ok", "backup", detail)


def _folders(settings: Settings, engine: Engine) -> list[Path]:
    """The folders huiqi fills on this machine (the SQLite database's, the backups'), one per
    file system."""
    folders = []
    if engine.dialect.name == "sqlite" and engine.url.database:
        folders.append(Path(engine.url.database).resolve().parent)
    backups = daily_backup.folder_of(settings)
    if backups is not None:
        folders.append(backups.resolve())
    by_device = {_existing(folder).stat().st_dev: folder for folder in reversed(folders)}
    return [folder for folder in folders if folder in by_device.values()]


def _existing(folder: Path) -> Path:
    """``folder``, or its nearest parent that exists (a folder huiqi has yet to create)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _disk(folder: Path) -> Finding:
    usage = shutil.disk_usage(_existing(folder))
    detail = f"{folder}: {usage.free / 2**30:.1f} GiB free of {usage.total / 2**30:.1f} GiB"
    if usage.free < MIN_FREE:
        return Finding("error", "disk", detail)
    if usage.free < usage.total * LOW_SHARE:
        return Finding("warning", "disk", f"{detail} (under {LOW_SHARE:.0%})")
    return Finding("ok", "disk", detail)


def _clock(engine: Engine, now: datetime) -> Finding:
    if engine.dialect.name == "sqlite":
        return Finding("ok", "clock", "SQLite: the database shares this machine's clock")
    started = time.monotonic()
    with engine.connect() as connection:
        server = connection.execute(text("SELECT CURRENT_TIMESTAMP")).scalar_one()
    halfway = now + timedelta(seconds=(time.monotonic() - started) / 2)
    skew = (server - halfway).total_seconds()
    detail = f"the database server's clock is {abs(skew):.1f} s {'ahead' if skew > 0 else 'behind'}"
    if abs(skew) > SKEW_WARNING.total_seconds():
        return Finding("warning", "clock", f"{detail}: synchronise both with NTP")
    return Finding("ok", "clock", detail)


def send_test(settings: Settings, address: str, now: datetime) -> Finding:
    """Send one real mail to ``address`` through the configured transport."""
    domain = settings.calendar.uid_domain
    body = f"huiqi doctor --send-test, {now:%Y-%m-%d %H:%M %Z}: 邮件可以送达 (mail gets through)."
    mail = OutgoingMail(
        to=(address,),
        subject="huiqi 测试邮件 / test mail",
        text=body,
        html=f"<p>{body}</p>",
        message_id=make_msgid("doctor", domain=domain),
    )
    error = make_mailer(settings).send_batch([mail])[0]
    if error is not None:
        return Finding("error", "send-test", error.reason)
    if settings.mail.transport == "folder":
        folder = settings.path(settings.mail.folder)
        return Finding(
            "warning", "send-test", f"written to {folder}: the folder transport mails nobody"
        )
    where = f"SMTP {settings.mail.host}:{settings.mail.port}"
    return Finding("ok", "send-test", f"accepted by {where} for {address} ({mail.message_id})")
