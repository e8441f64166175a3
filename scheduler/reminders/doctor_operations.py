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
from scheduler.core.problems import Message
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
        return [Finding("error", "schema", error.message)]
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
        return Finding("error", "schema", Message("doctor.no_revision"))
    if schema.unknown(found):
        return Finding("error", "schema", Message("doctor.revision_newer", revision=shown))
    if found != heads:
        older = Message("doctor.revision_older", revision=shown, heads=schema.describe(heads))
        return Finding("error", "schema", older)
    return Finding("ok", "schema", Message("doctor.revision_newest", revision=shown))


def _backups(engine: Engine, settings: Settings, now: datetime) -> Finding:
    folder = daily_backup.folder_of(settings)
    if folder is None:
        return Finding("warning", "backup", Message("doctor.backup_off"))
    with transaction(engine) as session:
        last = jobs.latest(session, daily_backup.JOB)
    if last is not None and last.status == FAILED:
        failed = Message("doctor.backup_failed", day=last.day, reason=last.detail)
        return Finding("error", "backup", failed)
    found = daily_backup.daily_backups(folder) if folder.is_dir() else []
    if not found:
        return Finding("warning", "backup", Message("doctor.no_backup", folder=folder))
    path = found[-1][1]
    age = now - datetime.fromtimestamp(path.stat().st_mtime, UTC)
    newest = Message("doctor.backup_newest", path=path, size=path.stat().st_size, count=len(found))
    if age > BACKUP_AGE:
        old = Message("doctor.backup_old", backup=newest, days=age.days)
        return Finding("warning", "backup", old)
    return Finding("ok", "backup", newest)


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
    free, total = f"{usage.free / 2**30:.1f}", f"{usage.total / 2**30:.1f}"
    detail = Message("doctor.disk", folder=folder, free=free, total=total)
    if usage.free < MIN_FREE:
        return Finding("error", "disk", detail)
    if usage.free < usage.total * LOW_SHARE:
        low = Message("doctor.disk_low", disk=detail, share=f"{LOW_SHARE:.0%}")
        return Finding("warning", "disk", low)
    return Finding("ok", "disk", detail)


def _clock(engine: Engine, now: datetime) -> Finding:
    if engine.dialect.name == "sqlite":
        return Finding("ok", "clock", Message("doctor.clock_shared"))
    started = time.monotonic()
    with engine.connect() as connection:
        server = connection.execute(text("SELECT CURRENT_TIMESTAMP")).scalar_one()
    halfway = now + timedelta(seconds=(time.monotonic() - started) / 2)
    skew = (server - halfway).total_seconds()
    way = "ahead" if skew > 0 else "behind"
    detail = Message(f"doctor.clock_{way}", skew=f"{abs(skew):.1f}")
    if abs(skew) > SKEW_WARNING.total_seconds():
        return Finding("warning", "clock", Message("doctor.clock_skewed", clock=detail))
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
        return Finding("error", "send-test", error.message)
    if settings.mail.transport == "folder":
        folder = settings.path(settings.mail.folder)
        return Finding("warning", "send-test", Message("doctor.folder_mails_nobody", folder=folder))
    accepted = Message(
        "doctor.test_accepted",
        host=settings.mail.host,
        port=settings.mail.port,
        address=address,
        id=mail.message_id,
    )
    return Finding("ok", "send-test", accepted)
