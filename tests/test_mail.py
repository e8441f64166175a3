"""The mail transports against a real SMTP server (aiosmtpd) and a real folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.config import MailSettings, Settings
from scheduler.transports.base import TransportError
from scheduler.transports.mail import (
    Attachment,
    CalendarPart,
    FolderMailer,
    OutgoingMail,
    SmtpMailer,
    eml_name,
    make_mailer,
)
from tests.mailsink import MailSink, free_port

SENDER = "县妇联提醒 <noreply@example.org>"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//huiqi//test//ZH\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:meeting-1@huiqi\r\nSUMMARY:党委会议\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def a_mail(to: str = "liu@example.org", number: int = 1, **extra: object) -> OutgoingMail:
    return OutgoingMail(
        to=(to,),
        subject=f"会期提醒 {number}",
        text=f"您好,第{number}封。",
        html=f"<p>您好,第{number}封。</p>",
        message_id=f"<test.{number}@huiqi>",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as server:
        yield server


def smtp_settings(port: int, **extra: object) -> MailSettings:
    return MailSettings(transport="smtp", port=port, sender=SENDER, **extra)  # type: ignore[arg-type]


def test_it_sends_a_batch_over_one_smtp_connection(sink: MailSink) -> None:
    mailer = SmtpMailer(smtp_settings(sink.port), None)
    results = mailer.send_batch([a_mail(number=n) for n in range(3)])
    assert results == [None, None, None]
    assert sink.sessions == 1
    assert [m["Message-ID"] for m in sink.messages] == [f"<test.{n}@huiqi>" for n in range(3)]
    assert [e.mail_from for e in sink.envelopes] == ["noreply@example.org"] * 3
    message = sink.messages[0]
    assert message["Subject"] == "会期提醒 0"
    assert str(message["From"]) == SENDER


def test_a_mail_has_a_plain_text_and_an_html_alternative(sink: MailSink) -> None:
    SmtpMailer(smtp_settings(sink.port), None).send_batch([a_mail()])
    message = sink.messages[0]
    assert message.get_content_type() == "multipart/mixed"
    (alternative,) = message.iter_parts()
    plain, html = alternative.iter_parts()  # type: ignore[attr-defined]
    assert plain.get_content() == "您好,第1封。"
    assert html.get_content_type() == "text/html"
    assert html.get_content() == "<p>您好,第1封。</p>"


def test_an_invite_carries_the_calendar_inline_and_as_invite_ics(sink: MailSink) -> None:
    invite = a_mail(calendar=CalendarPart(ICS, "REQUEST"))
    SmtpMailer(smtp_settings(sink.port), None).send_batch([invite])
    message = sink.messages[0]
    alternative, attached = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in alternative.iter_parts()]  # type: ignore[attr-defined]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    inline = list(alternative.iter_parts())[2]  # type: ignore[attr-defined]
    assert inline.get_param("method") == "REQUEST"
    assert inline.get_content() == ICS
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_param("method") == "REQUEST"
    assert attached.get_filename() == "invite.ics"
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_content() == ICS


def test_attachments_follow_the_body(sink: MailSink) -> None:
    files = (
        Attachment("台账.csv", "单位,状态\n东山镇,按时\n".encode(), "text/csv"),
        Attachment("台账.xlsx", b"PK\x03\x04binary", "application/octet-stream"),
    )
    SmtpMailer(smtp_settings(sink.port), None).send_batch([a_mail(attachments=files)])
    _, csv_part, xlsx_part = sink.messages[0].iter_parts()
    assert csv_part.get_filename() == "台账.csv"
    assert csv_part.get_content() == "单位,状态\r\n东山镇,按时\r\n"
    assert xlsx_part.get_content() == b"PK\x03\x04binary"


def test_a_refused_recipient_fails_permanently_and_the_rest_of_the_batch_arrives(
    sink: MailSink,
) -> None:
    sink.refuse = {"nobody@example.org"}
    mails = [a_mail("nobody@example.org", 1), a_mail("liu@example.org", 2)]
    first, second = SmtpMailer(smtp_settings(sink.port), None).send_batch(mails)
    assert isinstance(first, TransportError)
    assert first.permanent
    assert "nobody@example.org: 550" in first.reason
    assert second is None
    assert [m["Message-ID"] for m in sink.messages] == ["<test.2@huiqi>"]


def test_one_refused_recipient_of_several_is_reported_and_the_others_get_it(
    sink: MailSink,
) -> None:
    sink.refuse = {"nobody@example.org"}
    mail = OutgoingMail(
        ("liu@example.org", "nobody@example.org"), "s", "t", "<p>t</p>", "<m@huiqi>"
    )
    (result,) = SmtpMailer(smtp_settings(sink.port), None).send_batch([mail])
    assert isinstance(result, TransportError)
    assert result.permanent
    assert "nobody@example.org" in result.reason
    assert sink.envelopes[0].rcpt_tos == ["liu@example.org"]


def test_a_server_that_is_down_fails_every_mail_of_the_batch_for_a_retry() -> None:
    mailer = SmtpMailer(smtp_settings(free_port()), None)
    results = mailer.send_batch([a_mail(number=1), a_mail(number=2)])
    assert all(isinstance(r, TransportError) and not r.permanent for r in results)
    assert "Connection refused" in str(results[0])


def test_a_login_without_password_fails_without_connecting(sink: MailSink) -> None:
    mailer = SmtpMailer(smtp_settings(sink.port, user="clerk@example.org"), None)
    (result,) = mailer.send_batch([a_mail()])
    assert isinstance(result, TransportError)
    assert "HUIQI_SMTP_PASSWORD" in result.reason
    assert sink.sessions == 0


def test_the_folder_transport_writes_the_bytes_smtp_would_send(
    sink: MailSink, tmp_path: Path
) -> None:
    mail = a_mail(calendar=CalendarPart(ICS, "REQUEST"))
    SmtpMailer(smtp_settings(sink.port), None).send_batch([mail])
    assert FolderMailer(tmp_path, SENDER).send_batch([mail]) == [None]
    written = (tmp_path / "test.1@huiqi.eml").read_bytes()
    undated = re.compile(rb"^Date: .*\r\n", re.MULTILINE)
    assert undated.sub(b"", written) == undated.sub(b"", sink.envelopes[0].content)


def test_sending_the_same_message_id_again_rewrites_the_same_file(tmp_path: Path) -> None:
    mailer = FolderMailer(tmp_path / "mail", SENDER)
    mailer.send_batch([a_mail()])
    mailer.send_batch([a_mail()])
    assert [p.name for p in (tmp_path / "mail").iterdir()] == ["test.1@huiqi.eml"]
    assert eml_name("<a/../b@huiqi>") == "a_.._b@huiqi.eml"


def test_the_configured_transport_is_chosen(tmp_path: Path) -> None:
    folder = make_mailer(Settings(base_dir=str(tmp_path)))
    assert isinstance(folder, FolderMailer)
    assert folder.folder == tmp_path / "var" / "mail"
    smtp = make_mailer(Settings(mail=smtp_settings(2525)))
    assert isinstance(smtp, SmtpMailer)
