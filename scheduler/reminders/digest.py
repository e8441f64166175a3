"""The digest: one recipient's reminders of one day, as a mail and as a group-chat message.

Templates (``templates/mail/``, language from ``settings.language``):
``reminder.<lang>.subject.txt``, ``.txt``, ``.html`` for mails and ``reminder.<lang>.md`` for
group chats (WeCom/DingTalk markdown).
The subject names the unit (the first, and how many more) and the nearest due date. Each item
lists the unit, the rule's title and cited clause, the period, the due date, the days
left (negative: overdue, counted from the digest's day), what is required and what is recorded
so far, a link to the unit's page under ``web.base_url`` and, when given, the unit's record link
(``/r/TOKEN``, `scheduler.reminders.record_links`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from scheduler.config import Settings
from scheduler.core.clerk_notices import KINDS, RETURNED
from scheduler.core.reminders import ESCALATE
from scheduler.core.rules import RuleBook
from scheduler.core.words import format_date
from scheduler.store.reports import json_number
from scheduler.templating import mail_environment
from scheduler.transports.mail import OutgoingMail

CHAT_LIMIT = 4000  # bytes: WeCom refuses markdown over 4096 bytes


@dataclass(frozen=True)
class Line:
    """One outbox row as the digest needs it."""

    id: int
    unit_code: str
    unit_name: str
    rule_id: str
    period_label: str
    period_start: date
    period_end: date
    stage: str
    due: date
    required: Decimal | None
    actual: Decimal
    note: str = ""  # a notice's text: the 整改 item's issue, the returning comment
    subject: str = ""  # a returned event: its day and title

    @property
    def is_notice(self) -> bool:
        """A 整改 item or a returned event, not an obligation."""
        return self.rule_id in KINDS


@dataclass(frozen=True)
class Digest:
    """The rows one recipient gets on one day; ``recipient`` is ``person:ID`` or ``chat:ID``."""

    recipient: str
    day: date
    lines: tuple[Line, ...]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(sorted(line.id for line in self.lines))

    @property
    def message_id(self) -> str:
        """Derived from the rows it carries: a resend of the same rows has the same id."""
        seed = "|".join([self.recipient, self.day.isoformat(), *map(str, self.ids)])
        digest = hashlib.sha256(seed.encode()).hexdigest()[:24]
        return f"<reminder.{self.day:%Y%m%d}.{digest}@huiqi>"


@dataclass(frozen=True, slots=True)
class Item:
    """One obligation as the templates show it (an object: attribute lookups are fast)."""

    unit_code: str
    unit_name: str
    rule_id: str
    rule_title: str
    cite: str
    period: str
    period_start: str
    period_end: str
    due: str
    days: int  # left until the due date; negative: overdue
    required: str
    actual: str
    escalation: bool
    link: str
    record_link: str  # "" without one


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """A 整改 item (``returned`` False) or a returned event as the templates show it."""

    unit_code: str
    unit_name: str
    returned: bool
    number: str  # the item's or event's id
    note: str
    subject: str
    due: str
    days: int
    link: str


def context(
    digest: Digest,
    name: str,
    book: RuleBook,
    settings: Settings,
    urls: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The template variables of a digest addressed to ``name``; ``urls``: record link by unit."""
    lang = settings.language
    found = urls or {}
    lines = [line for line in digest.lines if not line.is_notice]
    items = [_item(line, digest.day, book, settings, found) for line in lines]
    items.sort(key=lambda item: (item.days, item.unit_code, item.rule_id))
    notices = [_notice(line, digest.day, settings) for line in digest.lines if line.is_notice]
    notices.sort(key=lambda notice: (notice.returned, notice.days, notice.unit_code))
    overdue = sum(1 for item in items if item.days < 0)
    units = list(dict.fromkeys([i.unit_name for i in items] + [n.unit_name for n in notices]))
    nearest = items[0].due if items else ""
    return {"name": name, "day": format_date(digest.day, lang), "items": items,
            "overdue": overdue, "units": units, "nearest": nearest,
            "rectify": [n for n in notices if not n.returned],
            "returned": [n for n in notices if n.returned]}  # fmt: skip


def _notice(line: Line, day: date, settings: Settings) -> NoticeItem:
    return NoticeItem(
        unit_code=line.unit_code,
        unit_name=line.unit_name,
        returned=line.rule_id == RETURNED,
        number=line.period_label.removeprefix("#"),
        note=line.note,
        subject=line.subject,
        due=format_date(line.due, settings.language),
        days=(line.due - day).days,
        link=f"{settings.web.base_url.rstrip('/')}/units/{line.unit_code}",
    )


def _item(
    line: Line, day: date, book: RuleBook, settings: Settings, urls: Mapping[str, str]
) -> Item:
    lang = settings.language
    rule = book.rule(line.rule_id) if book.has_rule(line.rule_id) else None
    return Item(
        unit_code=line.unit_code,
        unit_name=line.unit_name,
        rule_id=line.rule_id,
        rule_title=rule.title(lang) if rule else line.rule_id,
        cite=rule.cite if rule else "",
        period=line.period_label,
        period_start=format_date(line.period_start, lang),
        period_end=format_date(line.period_end, lang),
        due=format_date(line.due, lang),
        days=(line.due - day).days,
        required=_number(line.required),
        actual=_number(line.actual),
        escalation=line.stage == ESCALATE,
        link=f"{settings.web.base_url.rstrip('/')}/units/{line.unit_code}",
        record_link=urls.get(line.unit_code, ""),
    )


def _number(value: Decimal | None) -> str:
    return "?" if value is None else str(json_number(value))


def mail_of(
    digest: Digest,
    to: str,
    name: str,
    book: RuleBook,
    settings: Settings,
    urls: Mapping[str, str] | None = None,
) -> OutgoingMail:
    """The digest as a mail to ``to``."""
    variables = context(digest, name, book, settings, urls)
    subject, text, html = (
        render(settings, f"reminder.{settings.language}.{suffix}", variables)
        for suffix in ("subject.txt", "txt", "html")
    )
    return OutgoingMail((to,), " ".join(subject.split()), text, html, digest.message_id)


def chat_of(
    digest: Digest,
    name: str,
    book: RuleBook,
    settings: Settings,
    urls: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The digest as (title, markdown) for a group robot, cut to fit WeCom's limit."""
    variables = context(digest, name, book, settings, urls)
    items: Sequence[Item] = variables["items"]
    template = f"reminder.{settings.language}.md"
    title = " ".join(
        render(settings, f"reminder.{settings.language}.subject.txt", variables).split()
    )
    text = ""
    for keep in range(len(items), 0, -1):
        more = len(items) - keep
        text = render(settings, template, {**variables, "items": items[:keep], "more": more})
        if len(text.encode()) <= CHAT_LIMIT:
            break
    return title, text.encode()[:CHAT_LIMIT].decode("utf-8", "ignore")


def render(settings: Settings, name: str, variables: Mapping[str, Any]) -> str:
    """Render ``templates/mail/<name>``."""
    environment = mail_environment(str(settings.path(settings.templates)))
    return environment.get_template(f"mail/{name}").render(variables)
