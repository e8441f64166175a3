"""One send path for every channel: a batch of mails and chat messages goes out through the
configured mail transport (all mails over one connection) and the group robots (one request
each), and the results come back in the batch's order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scheduler.config import Settings
from scheduler.transports.base import Transport, TransportError
from scheduler.transports.chats import ChatMessage, ChatRobots
from scheduler.transports.mail import OutgoingMail, make_mailer

Message = OutgoingMail | ChatMessage


@dataclass(frozen=True)
class Transports:
    """The transports of a deployment: ``mail`` for mails, ``chat`` for robot messages."""

    mail: Transport[OutgoingMail]
    chat: Transport[ChatMessage]

    def send_batch(self, messages: Sequence[Message]) -> list[TransportError | None]:
        results: list[TransportError | None] = [None] * len(messages)
        mails = [(i, m) for i, m in enumerate(messages) if isinstance(m, OutgoingMail)]
        if mails:
            _place(results, mails, self.mail.send_batch([mail for _, mail in mails]))
        chats = [(i, m) for i, m in enumerate(messages) if isinstance(m, ChatMessage)]
        if chats:
            _place(results, chats, self.chat.send_batch([chat for _, chat in chats]))
        return results


def _place(
    results: list[TransportError | None],
    batch: Sequence[tuple[int, object]],
    sent: Sequence[TransportError | None],
) -> None:
    for (index, _), result in zip(batch, sent, strict=True):
        results[index] = result


def make_transports(settings: Settings) -> Transports:
    """The mail transport ``mail.transport`` names and the group robots of the environment."""
    return Transports(make_mailer(settings), ChatRobots())
