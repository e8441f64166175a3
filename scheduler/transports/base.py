"""The delivery seam: every transport sends a batch of messages and answers, per message and in
order, ``None`` (accepted) or a `TransportError` saying why not and whether retrying can help.

Mail (`scheduler.transports.mail`) and group-chat robots (`scheduler.transports.chats`) both
keep this contract; `scheduler.transports.delivery` routes a mixed batch to them, so the
dispatcher has one send path whatever the channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from scheduler.core.problems import Message

M_contra = TypeVar("M_contra", contravariant=True)


class TransportError(Exception):
    """A message was not delivered: ``reason`` says why in English (the outbox stores it),
    ``message`` in any language when it is a `Message`; ``permanent`` when retrying cannot
    help (a refused address, a deleted robot), transient otherwise (network, rate limits)."""

    def __init__(self, reason: str | Message, permanent: bool = False) -> None:
        super().__init__(str(reason))
        self.reason = str(reason)
        self.message = reason
        self.permanent = permanent


class Transport(Protocol[M_contra]):
    """Sends messages; one result per message, in order (None = accepted)."""

    def send_batch(self, messages: Sequence[M_contra]) -> list[TransportError | None]: ...
