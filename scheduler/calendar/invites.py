"""Invite mails (iMIP) for planned meetings: what they say, and sending them.

`compose` turns the `Notice`s of `scheduler.calendar.meetings` into `OutgoingMail`s, one per
recipient, each with the calendar inline (``text/calendar; method=…``) and as ``invite.ics``;
`deliver` sends them through the configured `Mailer` after the meeting's transaction committed
and records, per attendee, the SEQUENCE that reached the transport, so ``huiqi meetings send``
can retry the rest. The Message-ID derives from the meeting, the SEQUENCE, the method and the
recipient, so sending the same invite twice gives the same Message-ID and clients fold the
copies.

Subjects and bodies come from ``templates/mail/invite.*`` and ``cancel.*`` in the configured
language (zh by default, en); the calendar's DESCRIPTION holds the agenda, the obligations the
meeting serves (rule titles and cited clauses) and a link to the unit's page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from scheduler.calendar import ics
from scheduler.calendar.attendees import attendees_of, rules_served
from scheduler.calendar.entries import calendar_meeting, unit_url
from scheduler.calendar.meetings import Notice
from scheduler.config import Settings
from scheduler.core.rules import RuleBook
from scheduler.core.words import format_date
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.store.models_calendar import Meeting, MeetingAttendee
from scheduler.templating import mail_environment
from scheduler.transports.mail import CalendarPart, Mailer, OutgoingMail


@dataclass(frozen=True)
class Delivery:
    """What sending the notices of one change did."""

    sent: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # (address, reason)


def compose(
    session: Session, book: RuleBook, settings: Settings, notice: Notice, now: datetime
) -> list[OutgoingMail]:
    """One mail per recipient of ``notice``, stamped ``now``."""
    meeting = session.get_one(Meeting, notice.meeting_id)
    unit = session.get_one(Unit, meeting.unit_id)
    guests = attendees_of(meeting.attendees) if notice.method == "REQUEST" else notice.recipients
    event = calendar_meeting(meeting, unit, book, settings, guests)
    calendar = CalendarPart(ics.invite(event, notice.method, now), notice.method)
    context = _context(meeting, unit, book, settings, event, notice)
    name = "invite" if notice.method == "REQUEST" else "cancel"
    mails = []
    for person in notice.recipients:
        subject, text, html = render(settings, name, {**context, "name": person.name})
        message_id = _message_id(meeting.uid, notice, person.email)
        mails.append(OutgoingMail((person.email,), subject, text, html, message_id, calendar))
    return mails


def _context(
    meeting: Meeting,
    unit: Unit,
    book: RuleBook,
    settings: Settings,
    event: ics.Meeting,
    notice: Notice,
) -> dict[str, Any]:
    lang = settings.language
    rules = rules_served(book, meeting.kinds, unit.kind, event.start.date())
    return {
        "title": meeting.title,
        "unit": unit.name,
        "when": _when(event.start, event.end, lang),
        "location": meeting.location,
        "agenda": meeting.agenda.strip(),
        "kinds": [book.event_kinds[kind](lang) for kind in meeting.kinds],
        "obligations": [{"title": rule.title(lang), "cite": rule.cite} for rule in rules],
        "url": unit_url(settings, unit.code),
        "updated": notice.sequence > 0,
        "changes": _changes(notice.before, meeting, event, book, lang),
        "reason": meeting.cancel_reason or "",
        "organizer": settings.calendar.organizer_name,
    }


def _changes(
    before: Mapping[str, Any] | None, meeting: Meeting, event: ics.Meeting, book: RuleBook,
    lang: str,
) -> dict[str, tuple[str, str]]:  # fmt: skip
    """What an update changed, as the mail says it, old → new: ``when``, ``title``,
    ``location``, ``kinds`` and ``agenda`` (only that it changed: its text follows)."""
    if not before:
        return {}
    glue = "、" if lang == "zh" else ", "
    old_kinds = glue.join(
        book.event_kinds[k](lang) for k in before["kinds"] if k in book.event_kinds
    )
    pairs = {
        "when": (_when(before["start"], before["end"], lang), _when(event.start, event.end, lang)),
        "title": (before["title"], meeting.title),
        "location": (before["location"] or "", meeting.location or ""),
        "kinds": (old_kinds, glue.join(book.event_kinds[k](lang) for k in meeting.kinds)),
        "agenda": ((before["agenda"] or "").strip(), meeting.agenda.strip()),
    }
    return {key: pair for key, pair in pairs.items() if pair[0] != pair[1]}


def _when(start: datetime, end: datetime, lang: str) -> str:
    """``2021年3月12日 09:30–11:00`` (the end's date too when it is another day)."""
    last = f"{end:%H:%M}"
    if end.date() != start.date():
        last = f"{format_date(end.date(), lang)} {last}"
    return f"{format_date(start.date(), lang)} {start:%H:%M}–{last}"


def _message_id(uid: str, notice: Notice, email: str) -> str:
    local = uid.split("@")[0]
    person = hashlib.sha256(email.lower().encode()).hexdigest()[:12]
    return f"<{local}.{notice.sequence}.{notice.method.lower()}.{person}@huiqi>"


def render(settings: Settings, name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, text and HTML of ``templates/mail/NAME.LANG.*``."""
    environment = mail_environment(str(settings.path(settings.templates)))
    base = f"mail/{name}.{settings.language}"
    subject = environment.get_template(f"{base}.subject.txt").render(context)
    text = environment.get_template(f"{base}.txt").render(context)
    html = environment.get_template(f"{base}.html").render(context)
    return " ".join(subject.split()), text, html


# ----------------------------------------------------------------------------------------------
# Sending


def deliver(
    engine: Engine,
    book: RuleBook,
    settings: Settings,
    mailer: Mailer,
    notices: Sequence[Notice],
    now: datetime,
) -> Delivery:
    """Send ``notices`` (after their change committed) and record who received which SEQUENCE."""
    if not notices:
        return Delivery()
    with transaction(engine) as session:
        batches = [(notice, compose(session, book, settings, notice, now)) for notice in notices]
    mails = [mail for _, batch in batches for mail in batch]
    results = iter(mailer.send_batch(mails))
    sent: list[tuple[Notice, str]] = []
    failed: list[tuple[str, str]] = []
    for notice, batch in batches:
        for mail, error in zip(batch, results, strict=False):
            if error is None:
                sent.append((notice, mail.to[0]))
            else:
                failed.append((mail.to[0], error.reason))
    with transaction(engine) as session:
        _record(session, sent)
    return Delivery(tuple(email for _, email in sent), tuple(failed))


def _record(session: Session, sent: Sequence[tuple[Notice, str]]) -> None:
    """Remember the SEQUENCE each attendee received (removed attendees have no row any more)."""
    for notice, email in sent:
        attendee = session.scalar(
            select(MeetingAttendee).where(
                MeetingAttendee.meeting_id == notice.meeting_id, MeetingAttendee.email == email
            )
        )
        if attendee is not None:
            attendee.sent_sequence = max(attendee.sent_sequence or 0, notice.sequence)
