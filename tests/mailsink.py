"""A real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives.

Usage: ``with MailSink() as sink: ...`` then ``sink.port``, ``sink.messages`` (parsed
`EmailMessage`s), ``sink.envelopes``. ``refuse`` lists recipients answered with 550;
``on_quit`` runs when a client says QUIT (after every mail of its session was accepted).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.content)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class MailSink:
    """The SMTP server; start it with ``with`` (or ``start()``/``stop()``) on ``port``."""

    port: int = field(default_factory=free_port)
    refuse: set[str] = field(default_factory=set)
    on_quit: Callable[[], None] | None = None
    envelopes: list[Envelope] = field(default_factory=list)
    sessions: int = 0
    _controller: Controller | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> MailSink:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [envelope.message for envelope in self.envelopes]

    def received(self, envelope: Envelope) -> None:
        with self._lock:
            self.envelopes.append(envelope)


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.sink.sessions += 1
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.sink.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sink.received(Envelope(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.on_quit is not None:
            self.sink.on_quit()
        return "221 Bye"
