"""Mail transport: one MIME renderer, two transports chosen by ``mail.transport``.

* ``folder`` (the embedded default) writes each mail as ``<message-id>.eml`` into
  ``mail.folder``; sending the same Message-ID again rewrites the same file.
* ``smtp`` sends through yagmail's connection handling (host, port, ``security`` none, starttls
  or ssl, ``user``; the password only from the environment variable ``HUIQI_SMTP_PASSWORD``), one
  connection per batch. The MIME itself is built here, not by yagmail (whose plain-text part is
  the raw HTML and which cannot add ``method=`` to a calendar part), so both transports carry the
  same bytes apart from the ``Date:`` header.

MIME tree: ``multipart/mixed > multipart/alternative > [text/plain, text/html, text/calendar;
method=M]``, then an ``invite.ics`` attachment (``text/calendar; method=M``) when the mail
carries a calendar part, then the other attachments. Boundaries derive from the Message-ID, so the
same mail renders the same way. Every failure surfaces as one `TransportError`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from scheduler.config import MailSettings, Settings
from scheduler.core.problems import Message
from scheduler.transports.base import Transport, TransportError

PASSWORD_VARIABLE = "HUIQI_SMTP_PASSWORD"
SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Attachment:
    """A file attached to a mail."""

    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class CalendarPart:
    """An iCalendar object sent inline (iMIP) and as ``invite.ics``; ``method`` matches METHOD."""

    ics: str
    method: str  # "REQUEST" | "CANCEL" | "PUBLISH"


@dataclass(frozen=True)
class OutgoingMail:
    """One mail; ``message_id`` (``<...@huiqi>``) is derived by the caller from what it carries."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    message_id: str
    calendar: CalendarPart | None = None
    attachments: tuple[Attachment, ...] = ()


Mailer = Transport[OutgoingMail]


# ----------------------------------------------------------------------------------------------
# MIME


def render(mail: OutgoingMail, sender: str, now: datetime) -> bytes:
    """The mail as RFC 5322 bytes with CRLF line ends, dated ``now``.

    Written out directly (the ``email`` package's generator costs milliseconds a mail): text
    parts are UTF-8 in base64 with CRLF line ends (canonical form); headers are RFC 2047-encoded.
    """
    alternatives = [_part("text/plain", mail.text), _part("text/html", mail.html)]
    attached = []
    if mail.calendar:
        method = {"method": mail.calendar.method}
        alternatives.append(_part("text/calendar", mail.calendar.ics, method))
        attached.append(_part("text/calendar", mail.calendar.ics, method, "invite.ics"))
    attached.extend(_attachment(attachment) for attachment in mail.attachments)
    inner = _boundary(mail.message_id, "alternative")
    alternative = f'Content-Type: multipart/alternative; boundary="{inner}"{CRLF}{CRLF}'
    alternative += _join(inner, alternatives)
    outer = _boundary(mail.message_id, "mixed")
    headers = [
        f"From: {_address(sender)}",
        f"To: {', '.join(mail.to)}",
        f"Subject: {_encoded(mail.subject)}",
        f"Date: {format_datetime(now)}",
        f"Message-ID: {mail.message_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{outer}"',
    ]
    text = CRLF.join(headers) + CRLF + CRLF + _join(outer, [alternative, *attached])
    return text.encode("ascii")


CRLF = "\r\n"


def _join(boundary: str, parts: Sequence[str]) -> str:
    body = "".join(f"--{boundary}{CRLF}{part}{CRLF}" for part in parts)
    return f"{body}--{boundary}--{CRLF}"


def _part(
    content_type: str,
    content: str | bytes,
    params: dict[str, str] | None = None,
    filename: str | None = None,
) -> str:
    """One leaf part in base64; text is sent as UTF-8 with CRLF line ends."""
    if isinstance(content, str):
        content_type += '; charset="utf-8"'
        content = content.replace("\r\n", "\n").replace("\n", CRLF).encode("utf-8")
    for name, value in (params or {}).items():
        content_type += f'; {name}="{value}"'
    lines = [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64"]
    if filename is not None:
        lines.append(f"Content-Disposition: attachment; {_filename(filename)}")
    encoded = base64.encodebytes(content).decode("ascii").replace("\n", CRLF)
    return CRLF.join(lines) + CRLF + CRLF + encoded


def _attachment(attachment: Attachment) -> str:
    content: str | bytes = attachment.content
    if attachment.mime_type.startswith("text/"):
        content = attachment.content.decode("utf-8")
    return _part(attachment.mime_type, content, None, attachment.filename)


def _filename(name: str) -> str:
    if name.isascii() and '"' not in name:
        return f'filename="{name}"'
    return f"filename*=utf-8''{quote(name, safe='')}"


def _encoded(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode(linesep=CRLF)


@lru_cache(maxsize=64)
def _address(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if address else value


def _boundary(message_id: str, level: str) -> str:
    seed = f"{message_id}/{level}".encode()
    return f"=_huiqi_{hashlib.sha256(seed).hexdigest()[:24]}"


def envelope_sender(sender: str) -> str:
    """The bare address of a ``From:`` value such as ``县妇联提醒 <noreply@example.org>``."""
    addresses = getaddresses([sender])
    return addresses[0][1] if addresses and addresses[0][1] else sender


def is_address(value: str) -> bool:
    """True for something that looks like one mail address (local@domain.tld)."""
    return _ADDRESS.match(value) is not None


_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+$")


# ----------------------------------------------------------------------------------------------
# Transports


@dataclass(frozen=True)
class FolderMailer:
    """Writes each mail as ``<message-id>.eml`` into ``folder`` (atomically)."""

    folder: Path
    sender: str

    def send_batch(self, mails: Sequence[OutgoingMail]) -> list[TransportError | None]:
        now = datetime.now().astimezone()
        results: list[TransportError | None] = []
        for mail in mails:
            try:
                self._write(mail, render(mail, self.sender, now))
                results.append(None)
            except OSError as error:
                results.append(
                    TransportError(Message("mail.cannot_write", folder=self.folder, reason=error))
                )
        return results

    def _write(self, mail: OutgoingMail, raw: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / eml_name(mail.message_id)
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(raw)
        temporary.replace(target)


def eml_name(message_id: str) -> str:
    """A safe file name for a Message-ID: ``<a.b@huiqi>`` → ``a.b@huiqi.eml``."""
    bare = message_id.strip().strip("<>")
    return "".join(c if c.isalnum() or c in "@.-_" else "_" for c in bare) + ".eml"


@dataclass(frozen=True)
class SmtpMailer:
    """Sends through one yagmail-managed SMTP connection per batch."""

    settings: MailSettings
    password: str | None

    def send_batch(self, mails: Sequence[OutgoingMail]) -> list[TransportError | None]:
        if not mails:
            return []
        try:
            client = self.connect()
        except TransportError as error:
            return [error] * len(mails)
        try:
            return self._send_all(client.smtp, mails)
        finally:
            client.close()

    def connect(self) -> Any:
        """Open and log in one yagmail connection; TransportError when that fails."""
        import yagmail

        if self.settings.user and self.password is None:
            raise TransportError(Message("mail.no_password", variable=PASSWORD_VARIABLE))
        client = yagmail.SMTP(
            self.settings.user or "",
            self.password,
            host=self.settings.host,
            port=self.settings.port,
            smtp_ssl=self.settings.security == "ssl",
            smtp_starttls=self.settings.security == "starttls",
            smtp_skip_login=not self.settings.user,
            soft_email_validation=False,
            timeout=SMTP_TIMEOUT,
        )
        client.user = self.settings.user or ""  # yagmail appends @gmail.com to bare user names
        try:
            client.login()
        except (OSError, smtplib.SMTPException) as error:
            host, port = self.settings.host, self.settings.port
            raise TransportError(
                Message("mail.unreachable", host=host, port=port, reason=_why(error))
            ) from None
        return client

    def _send_all(
        self, smtp: smtplib.SMTP, mails: Sequence[OutgoingMail]
    ) -> list[TransportError | None]:
        now = datetime.now().astimezone()
        sender = envelope_sender(self.settings.sender)
        results: list[TransportError | None] = []
        for mail in mails:
            try:
                refused = smtp.sendmail(
                    sender, list(mail.to), render(mail, self.settings.sender, now)
                )
            except smtplib.SMTPServerDisconnected as error:
                return results + _lost(error, len(mails) - len(results))
            except smtplib.SMTPException as error:  # a subclass of OSError: before it
                results.append(_smtp_error(error))
                continue
            except OSError as error:
                return results + _lost(error, len(mails) - len(results))
            results.append(_refused(refused) if refused else None)
        return results


def _lost(error: BaseException, count: int) -> list[TransportError | None]:
    return [TransportError(Message("mail.connection_lost", reason=_why(error)))] * count


def _why(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return str(error) or type(error).__name__


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refused(refused: dict[str, tuple[int, bytes]]) -> TransportError:
    """Some recipients refused (the others accepted): permanent, so nobody gets it twice."""
    detail = "; ".join(f"{addr}: {code} {_text(text)}" for addr, (code, text) in refused.items())
    return TransportError(Message("mail.recipients_refused", detail=detail), permanent=True)


def _smtp_error(error: smtplib.SMTPException) -> TransportError:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        detail = _refused(error.recipients).message
        return TransportError(detail, permanent=all(code >= 500 for code in codes))
    code = getattr(error, "smtp_code", 0)
    return TransportError(Message("mail.smtp_error", reason=_why(error)), permanent=code >= 500)


def make_mailer(settings: Settings) -> Mailer:
    """The transport ``mail.transport`` names."""
    if settings.mail.transport == "smtp":
        return SmtpMailer(settings.mail, os.environ.get(PASSWORD_VARIABLE))
    return FolderMailer(settings.path(settings.mail.folder), settings.mail.sender)
