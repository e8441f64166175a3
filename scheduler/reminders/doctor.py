"""``huiqi doctor``: check what the reminders depend on and say what is wrong.

Checks the rulesets, the database (reachable, migrated), the mail transport (folder writable, or
the SMTP server answering and accepting the login), the group-chat robots' environment
variables, role holders without a mail address, and where this year's and the next year's
workdays come from (an imported notice, chinese-calendar's table, or the holidays package's
rules alone, which is a warning).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from scheduler.config import Settings
from scheduler.core.workdays import Workdays, coverage_lines
from scheduler.rulefiles import read_rulebook
from scheduler.store import links
from scheduler.store.database import (
    UnusableDatabase,
    make_engine,
    open_existing,
    schema_state,
    transaction,
)
from scheduler.store.models import Person, RoleAssignment
from scheduler.store.workdays import load_workdays
from scheduler.transports.base import TransportError
from scheduler.transports.mail import PASSWORD_VARIABLE, SmtpMailer

Level = Literal["ok", "warning", "error"]


@dataclass(frozen=True)
class Finding:
    """One check's verdict."""

    level: Level
    topic: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.level != "error"

    def __str__(self) -> str:
        mark = {"ok": "✓", "warning": "!", "error": "✗"}[self.level]
        return f"{mark} {self.topic}: {self.detail}"


def examine(settings: Settings, today: date) -> list[Finding]:
    """Every check, in order; none raises."""
    checks: list[Callable[[], Finding]] = [
        lambda: _rules(settings),
        lambda: _database(settings),
        lambda: _mail(settings),
        lambda: _workdays(settings, today),
    ]
    findings = [_guarded(check) for check in checks]
    findings.extend(_chats(settings))
    findings.append(_links(settings))
    if findings[1].level == "ok":
        findings.append(_guarded(lambda: _addresses(settings)))
    return findings


def _links(settings: Settings) -> Finding:
    """Record links need the server secret."""
    if not settings.reminders.links:
        return Finding("ok", "links", "record links in reminders are off")
    try:
        links.secret_key()
    except links.SecretMissing as error:
        return Finding("error", "links", str(error))
    days = settings.reminders.link_days
    return Finding("ok", "links", f"record links on, signed with HUIQI_SECRET_KEY, {days} days")


def _guarded(check: Callable[[], Finding]) -> Finding:
    try:
        return check()
    except Exception as error:  # a check that crashes is a finding, not a traceback
        return Finding("error", check.__name__, f"{type(error).__name__}: {error}")


def _rules(settings: Settings) -> Finding:
    try:
        book = read_rulebook(settings.rule_paths, settings.term_starts, settings.review.mode)
    except (ValueError, OSError) as error:
        return Finding("error", "rules", str(error).splitlines()[0])
    return Finding("ok", "rules", f"{len(book.rules)} rules in {', '.join(book.names)}")


def _database(settings: Settings) -> Finding:
    """The database exists (nothing is created) and holds exactly this huiqi's schema."""
    try:
        engine = open_existing(settings.resolved_database_url)
    except UnusableDatabase as error:
        return Finding("error", "database", str(error))
    shown = engine.url.render_as_string(hide_password=True)
    try:
        problem = schema_state(engine).problem
    except (UnusableDatabase, OperationalError) as error:
        return Finding("error", "database", f"{shown}: {getattr(error, 'orig', error)}")
    finally:
        engine.dispose()
    if problem:
        return Finding("error", "database", f"{shown}: {problem}")
    return Finding("ok", "database", shown)


def _mail(settings: Settings) -> Finding:
    if settings.mail.transport == "folder":
        folder = settings.path(settings.mail.folder)
        probe = folder / f".doctor-{uuid.uuid4().hex}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            return Finding("error", "mail", f"folder {folder} is not writable: {error}")
        return Finding("ok", "mail", f"folder transport: mails are written to {folder}")
    return _smtp(settings)


def _smtp(settings: Settings) -> Finding:
    where = f"SMTP {settings.mail.host}:{settings.mail.port} ({settings.mail.security})"
    mailer = SmtpMailer(settings.mail, os.environ.get(PASSWORD_VARIABLE))
    try:
        client = mailer.connect()
    except TransportError as error:
        return Finding("error", "mail", error.reason)
    client.close()
    login = f", logged in as {settings.mail.user}" if settings.mail.user else ""
    return Finding("ok", "mail", f"{where} answers{login}")


def _workdays(settings: Settings, today: date) -> Finding:
    lines, rule_only = coverage_lines(_deployment_workdays(settings), [today.year, today.year + 1])
    detail = "; ".join(lines)
    if rule_only:
        years = ", ".join(map(str, rule_only))
        advice = f"import the State Council's arrangement for {years} (huiqi workdays import)"
        return Finding("warning", "workdays", f"{detail}; {advice}")
    return Finding("ok", "workdays", detail)


def _deployment_workdays(settings: Settings) -> Workdays:
    """The deployment's workdays; without a usable database, those of config.yaml alone."""
    try:
        engine = open_existing(settings.resolved_database_url)
        try:
            with transaction(engine) as session:
                return load_workdays(session, settings)
        finally:
            engine.dispose()
    except (UnusableDatabase, OperationalError, ProgrammingError):
        return Workdays.of(settings.workdays.holidays, settings.workdays.workdays)


def _chats(settings: Settings) -> list[Finding]:
    findings = []
    for chat in settings.reminders.chats:
        names = [chat.url_env, *([chat.secret_env] if chat.secret_env else [])]
        unset = [name for name in names if not os.environ.get(name)]
        if unset:
            detail = f"unit {chat.unit} ({chat.kind}): {', '.join(unset)} not set"
            findings.append(Finding("error", "chat", detail))
        else:
            findings.append(Finding("ok", "chat", f"unit {chat.unit} ({chat.kind}) configured"))
    return findings


def _addresses(settings: Settings) -> Finding:
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            count = connection.execute(
                select(func.count(func.distinct(Person.id)))
                .join(RoleAssignment, RoleAssignment.person_id == Person.id)
                .where((Person.email.is_(None)) | (Person.email == ""))
            ).scalar_one()
    finally:
        engine.dispose()
    if count:
        detail = f"{count} role holders have no mail address: their reminders are undeliverable"
        return Finding("warning", "people", detail)
    return Finding("ok", "people", "every role holder has a mail address")
