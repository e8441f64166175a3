"""``huiqi doctor``: check what the reminders depend on and say what is wrong.

Checks the rulesets, the database (reachable, migrated), the mail transport (folder writable, or
the SMTP server answering and accepting the login), the group-chat robots' environment
variables, role holders without a mail address, and where this year's and the next year's
workdays come from (an imported notice, chinese-calendar's table, or the holidays package's
rules alone, which is a warning).

A finding's text is said in the reader's language (`Finding.said`); ``str()`` is its English
line, as before.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from scheduler.config import Settings
from scheduler.core.problems import Message
from scheduler.core.rules import RulesError
from scheduler.core.words import words
from scheduler.core.workdays import Workdays, coverage
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
MARKS = {"ok": "✓", "warning": "!", "error": "✗"}
_SEPARATOR = {"zh": "；", "en": "; "}


class Sayable(Protocol):
    """Words that can be said in a language (a `Message`, a ruleset's problem)."""

    def said(self, language: str) -> str: ...


Text = str | Sayable  # a plain text (another program's words) is said as it is


@dataclass(frozen=True)
class Finding:
    """One check's verdict: ``message`` is its text, or several parts said one after the
    other (``; `` in English, ``；`` in Chinese)."""

    level: Level
    topic: str
    message: Text | tuple[Text, ...]

    @property
    def ok(self) -> bool:
        return self.level != "error"

    @property
    def detail(self) -> str:
        """The text in English."""
        return self.what("en")

    def what(self, language: str) -> str:
        """The text in ``language``."""
        lang = "en" if language == "en" else "zh"
        parts = self.message if isinstance(self.message, tuple) else (self.message,)
        return _SEPARATOR[lang].join(_said(part, lang) for part in parts)

    def said(self, language: str) -> str:
        """``✓ topic: text`` (en) or ``✓ 主题：text`` (zh); a topic without Chinese words
        keeps its name."""
        lang = "en" if language == "en" else "zh"
        name = words(lang, "cli.doctor_topic.").get(self.topic, self.topic)
        colon = ": " if lang == "en" else "："
        return f"{MARKS[self.level]} {name}{colon}{self.what(lang)}"

    def __str__(self) -> str:
        return self.said("en")


def _said(part: Text, language: str) -> str:
    return part if isinstance(part, str) else part.said(language)


def examine(settings: Settings, today: date) -> list[Finding]:
    """Every check, in order; none raises."""
    checks: list[tuple[str, Callable[[], Finding]]] = [
        ("rules", lambda: _rules(settings)),
        ("database", lambda: _database(settings)),
        ("mail", lambda: _mail(settings)),
        ("workdays", lambda: _workdays(settings, today)),
    ]
    findings = [_guarded(topic, check) for topic, check in checks]
    findings.extend(_chats(settings))
    findings.append(_links(settings))
    if findings[1].level == "ok":
        findings.append(_guarded("people", lambda: _addresses(settings)))
    return findings


def _links(settings: Settings) -> Finding:
    """Record links need the server secret."""
    if not settings.reminders.links:
        return Finding("ok", "links", Message("doctor.links_off"))
    try:
        links.secret_key()
    except links.SecretMissing as error:
        return Finding("error", "links", error.message)
    return Finding("ok", "links", Message("doctor.links_on", days=settings.reminders.link_days))


def _guarded(topic: str, check: Callable[[], Finding]) -> Finding:
    try:
        return check()
    except Exception as error:  # a check that crashes is a finding, not a traceback
        return Finding("error", topic, f"{type(error).__name__}: {error}")


def _rules(settings: Settings) -> Finding:
    try:
        book = read_rulebook(settings.rule_paths, settings.term_starts, settings.review.mode)
    except RulesError as error:
        return Finding("error", "rules", error.problems[0])
    except (ValueError, OSError) as error:
        return Finding("error", "rules", str(error).splitlines()[0])
    return Finding("ok", "rules", Message("doctor.rules", count=len(book.rules), names=book.names))


def _database(settings: Settings) -> Finding:
    """The database exists (nothing is created) and holds exactly this huiqi's schema."""
    try:
        engine = open_existing(settings.resolved_database_url)
    except UnusableDatabase as error:
        return Finding("error", "database", error.message)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        problem: Text | None = schema_state(engine).problem
    except UnusableDatabase as error:
        problem = error.message
    except OperationalError as error:
        problem = str(error.orig)
    finally:
        engine.dispose()
    if problem:
        return Finding(
            "error", "database", Message("doctor.database_at", url=shown, problem=problem)
        )
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
            unwritable = Message("doctor.folder_unwritable", folder=folder, reason=error)
            return Finding("error", "mail", unwritable)
        return Finding("ok", "mail", Message("doctor.folder_transport", folder=folder))
    return _smtp(settings)


def _smtp(settings: Settings) -> Finding:
    mail = settings.mail
    mailer = SmtpMailer(mail, os.environ.get(PASSWORD_VARIABLE))
    try:
        client = mailer.connect()
    except TransportError as error:
        return Finding("error", "mail", error.message)
    client.close()
    where = {"host": mail.host, "port": mail.port, "security": mail.security}
    if mail.user:
        return Finding("ok", "mail", Message("doctor.smtp_logged_in", user=mail.user, **where))
    return Finding("ok", "mail", Message("doctor.smtp_answers", **where))


def _workdays(settings: Settings, today: date) -> Finding:
    lines, rule_only = coverage(_deployment_workdays(settings), [today.year, today.year + 1])
    if rule_only:
        advice = Message("doctor.import_arrangement", years=rule_only)
        return Finding("warning", "workdays", (*lines, advice))
    return Finding("ok", "workdays", tuple(lines))


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
            detail = Message("doctor.chat_unset", unit=chat.unit, kind=chat.kind, names=unset)
            findings.append(Finding("error", "chat", detail))
        else:
            configured = Message("doctor.chat_configured", unit=chat.unit, kind=chat.kind)
            findings.append(Finding("ok", "chat", configured))
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
        return Finding("warning", "people", Message("doctor.no_addresses", count=count))
    return Finding("ok", "people", Message("doctor.addresses"))
