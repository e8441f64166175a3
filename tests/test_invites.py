"""scheduler.calendar.invites: invite mails received by a real SMTP server, and golden invites."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlalchemy import Engine

from scheduler.calendar import invites, meetings
from scheduler.config import Settings
from scheduler.core.rules import RuleBook
from scheduler.store.database import transaction
from scheduler.store.models_calendar import Meeting
from scheduler.transports.mail import make_mailer
from tests.calendarfacts import NOW, SHANGHAI, calendar_settings, check_golden, parse_both, plan
from tests.countyfacts import load_county
from tests.mailsink import MailSink

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as server:
        yield server


@pytest.fixture
def county_db(engine: Engine, book: RuleBook) -> Engine:
    load_county(engine, book)
    return engine


def smtp_settings(engine: Engine, port: int, **overrides: object) -> Settings:
    url = engine.url.render_as_string(hide_password=False)
    mail = {"transport": "smtp", "host": "127.0.0.1", "port": port}
    return calendar_settings(url, mail=mail, **overrides)


def send(engine: Engine, book: RuleBook, settings: Settings, change: meetings.Change) -> None:
    mailer = make_mailer(settings)
    delivery = invites.deliver(engine, book, settings, mailer, change.notices, NOW)
    assert delivery.failed == ()


def calendar_parts(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_type() == "text/calendar"]


def test_an_invite_mail_carries_the_method_part_and_the_attachment(
    county_db: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = smtp_settings(county_db, sink.port)
    send(county_db, book, settings, plan(county_db, book))
    messages = sink.messages
    assert sorted(m["To"] for m in messages) == ["chen@example.org", "liu@example.org"]
    message = next(m for m in messages if m["To"] == "chen@example.org")
    assert message["Subject"].startswith("【会议通知】东山镇 党委会听取妇联工作汇报 2021年3月12日")
    tree = [part.get_content_type() for part in message.walk()]
    assert tree[:2] == ["multipart/mixed", "multipart/alternative"]
    inline, attached = calendar_parts(message)
    assert inline.get_param("method") == attached.get_param("method") == "REQUEST"
    assert attached.get_filename() == "invite.ics"
    assert inline.get_content() == attached.get_content()
    for events in parse_both(inline.get_content()):
        assert [(e.start_utc, e.sequence) for e in events] == [
            (datetime(2021, 3, 12, 1, 30, tzinfo=UTC), 0)
        ]
    assert "陈书记，您好" in message.get_body(("plain",)).get_content()


def test_an_update_carries_sequence_plus_one_to_the_same_uid(
    county_db: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = smtp_settings(county_db, sink.port)
    first = plan(county_db, book)
    send(county_db, book, settings, first)
    fields = meetings.read_fields({"start": "2021-03-15 15:00"}, SHANGHAI, "meetings update")
    with transaction(county_db) as session:
        change = meetings.update(session, book, first.meeting.id, fields, "刘主席", NOW)
    send(county_db, book, settings, change)
    sequences = {}
    for message in sink.messages:
        event = Calendar.from_ical(calendar_parts(message)[0].get_content()).events[0]
        sequences.setdefault(str(event["UID"]), []).append(int(event["SEQUENCE"]))
    [(uid, seen)] = sequences.items()
    assert uid == first.meeting.uid and sorted(seen) == [0, 0, 1, 1]
    updated = [m for m in sink.messages if m["Subject"].startswith("【会议变更】")]
    assert len(updated) == 2 and "2021年3月15日 15:00–16:30" in updated[0]["Subject"]


def test_a_cancellation_is_method_cancel_in_both_places(
    county_db: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = smtp_settings(county_db, sink.port)
    first = plan(county_db, book)
    with transaction(county_db) as session:
        change = meetings.cancel(session, first.meeting.id, "与县委会议冲突", "刘主席", NOW)
    send(county_db, book, settings, change)
    [message, _] = sink.messages
    assert message["Subject"].startswith("【会议取消】")
    assert "取消原因：与县委会议冲突" in message.get_body(("plain",)).get_content()
    for part in calendar_parts(message):
        assert part.get_param("method") == "CANCEL"
        calendar = Calendar.from_ical(part.get_content())
        assert calendar["METHOD"] == "CANCEL"
        event = calendar.events[0]
        assert (event["UID"], event["SEQUENCE"], event["STATUS"]) == (
            first.meeting.uid, 1, "CANCELLED"
        )  # fmt: skip


def test_a_refused_recipient_is_reported_and_retried_by_pending(
    county_db: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = smtp_settings(county_db, sink.port)
    sink.refuse.add("liu@example.org")
    change = plan(county_db, book)
    mailer = make_mailer(settings)
    delivery = invites.deliver(county_db, book, settings, mailer, change.notices, NOW)
    assert delivery.sent == ("chen@example.org",)
    assert [address for address, _ in delivery.failed] == ["liu@example.org"]
    sink.refuse.clear()
    with transaction(county_db) as session:
        retry = meetings.pending(session, change.meeting.id, NOW)
    again = invites.deliver(county_db, book, settings, mailer, retry.notices, NOW)
    assert again.sent == ("liu@example.org",) and again.failed == ()
    with transaction(county_db) as session:
        sent = [a.sent_sequence for a in session.get_one(Meeting, change.meeting.id).attendees]
    assert sent == [0, 0]


@SQLITE_ONLY
def test_english_invites_come_from_the_english_templates(
    county_db: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = smtp_settings(county_db, sink.port, language="en")
    send(county_db, book, settings, plan(county_db, book))
    message = sink.messages[0]
    assert message["Subject"].startswith(
        "[Meeting invitation] 东山镇: 党委会听取妇联工作汇报, 12 Mar"
    )
    body = message.get_body(("plain",)).get_content()
    assert "This meeting counts towards:" in body and "Township committee hears" in body


@SQLITE_ONLY
def test_golden_invite_update_and_cancellation(county_db: Engine, book: RuleBook) -> None:
    url = county_db.url.render_as_string(hide_password=False)
    settings = calendar_settings(url)
    change = plan(county_db, book)
    texts = [_ics(county_db, book, settings, change)]
    fields = meetings.read_fields(
        {"start": "2021-03-15 15:00", "attendees": "party_secretary"}, SHANGHAI, "update"
    )
    with transaction(county_db) as session:
        update = meetings.update(session, book, change.meeting.id, fields, "刘主席", NOW)
    texts.append(_ics(county_db, book, settings, update))
    with transaction(county_db) as session:
        cancel = meetings.cancel(session, change.meeting.id, "与县委会议冲突", "刘主席", NOW)
    texts.append(_ics(county_db, book, settings, cancel))
    for name, text in zip(("invite.ics", "update.ics", "cancel.ics"), texts, strict=True):
        check_golden(name, text)


def _ics(engine: Engine, book: RuleBook, settings: Settings, change: meetings.Change) -> str:
    with transaction(engine) as session:
        mails = invites.compose(session, book, settings, change.notices[0], NOW)
    assert mails[0].calendar is not None
    return mails[0].calendar.ics


@SQLITE_ONLY
@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_changed_meeting_mail_says_what_changed_old_to_new(
    county_db: Engine, book: RuleBook, sink: MailSink, language: str
) -> None:
    settings = smtp_settings(county_db, sink.port, language=language)
    first = plan(county_db, book)
    raw = {"start": "2021-03-15 15:00", "location": "县妇联二楼", "agenda": "1. 只听汇报"}
    fields = meetings.read_fields(raw, SHANGHAI, "meetings update")
    with transaction(county_db) as session:
        change = meetings.update(session, book, first.meeting.id, fields, "刘主席", NOW)
    send(county_db, book, settings, change)
    message = next(m for m in sink.messages if m["To"] == "chen@example.org")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    if language == "zh":
        expected = [
            "变更内容：",
            "· 时间：2021年3月12日 09:30–11:00 → 2021年3月15日 15:00–16:30",
            "· 地点：镇政府三楼会议室 → 县妇联二楼",
            "· 议程已修改，见下文",
        ]
        assert "<del>镇政府三楼会议室</del> → <strong>县妇联二楼</strong>" in html
    else:
        expected = [
            "What changed:",
            "- When: 12 Mar 2021 09:30–11:00 → 15 Mar 2021 15:00–16:30",
            "- Where: 镇政府三楼会议室 → 县妇联二楼",
            "- The agenda changed: see below",
        ]
    lines = [line.strip() for line in text.splitlines()]
    assert all(line in lines for line in expected), text
    assert not any(line.startswith(("· 会议", "· 类型", "- Meeting", "- Kinds")) for line in lines)
