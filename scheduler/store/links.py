"""Reminder record links: issue, check (signature, expiry, revocation, rate), revoke, record.

A link names one unit and one person and lets that person record an event for that unit only,
without a login. Its token is signed with ``HUIQI_SECRET_KEY`` (`scheduler.core.links`); only
its SHA-256 is stored, so revoking the row refuses the token. Every request through a link
counts against ``reminders.link_uses_per_hour`` (a fixed one-hour window per token). An event
recorded through a link goes through the evidence service like any other; its actor in the
trail is "经提醒链接由NAME录入" (en: "NAME via reminder link").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.config import Settings
from scheduler.core.links import (
    RECORD,
    Claims,
    Refusal,
    TokenRefused,
    make_token,
    read_token,
    token_hash,
)
from scheduler.core.problems import Message
from scheduler.core.rules import RuleBook
from scheduler.core.words import word
from scheduler.store import trail
from scheduler.store.evidence import add_event
from scheduler.store.models import Person, Unit
from scheduler.store.models_calendar import as_utc
from scheduler.store.models_links import RecordLink

SECRET_ENV = "HUIQI_SECRET_KEY"
_WINDOW = timedelta(hours=1)
_SHORTEST_KEY = 16


class SecretMissing(RuntimeError):
    """``HUIQI_SECRET_KEY`` is not set (or too short) while record links are on: what to do,
    English by ``str``, in any language by ``message``."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


def secret_key(environ: Mapping[str, str] = os.environ) -> bytes:
    """The server secret that signs links; `SecretMissing` with what to do when unset."""
    value = environ.get(SECRET_ENV, "")
    if len(value) < _SHORTEST_KEY:
        raise SecretMissing(Message("secret_missing", variable=SECRET_ENV, shortest=_SHORTEST_KEY))
    return value.encode("utf-8")


@dataclass(frozen=True)
class LinkHolder:
    """A checked link: its row id, unit and person."""

    link_id: int
    unit_id: int
    unit_code: str
    unit_name: str
    person_id: int
    person_name: str


def issue(
    session: Session, key: bytes, unit_id: int, person_id: int, now: datetime, days: int
) -> str:
    """A new record link token for ``person_id`` at ``unit_id``, valid ``days`` from ``now``."""
    expires = as_utc(now) + timedelta(days=days)
    token = make_token(key, Claims(RECORD, unit_id, person_id, expires))
    session.add(
        RecordLink(
            token_hash=token_hash(token), unit_id=unit_id, person_id=person_id,
            expires_at=expires, created_at=as_utc(now), window_uses=0,
        )
    )  # fmt: skip
    return token


def check(
    session: Session, key: bytes, token: str, now: datetime, uses_per_hour: int
) -> LinkHolder:
    """The link of ``token`` after counting this use; `TokenRefused` says why not."""
    claims = read_token(key, token, RECORD, as_utc(now))
    link = session.scalar(
        select(RecordLink).where(RecordLink.token_hash == token_hash(token)).with_for_update()
    )
    if link is None or (link.unit_id, link.person_id) != (claims.first, claims.second):
        raise TokenRefused(Refusal.TAMPERED)  # signed with our key but never issued: refuse
    if link.revoked_at is not None:
        raise TokenRefused(Refusal.REVOKED)
    _count_use(link, as_utc(now), uses_per_hour)
    unit = session.get_one(Unit, link.unit_id)
    person = session.get_one(Person, link.person_id)
    return LinkHolder(link.id, unit.id, unit.code, unit.name, person.id, person.name)


def _count_use(link: RecordLink, now: datetime, uses_per_hour: int) -> None:
    started = as_utc(link.window_started_at) if link.window_started_at else None
    if started is None or now - started >= _WINDOW:
        link.window_started_at, link.window_uses = now, 0
    if link.window_uses >= uses_per_hour:
        raise TokenRefused(Refusal.BUSY)
    link.window_uses += 1


def revoke_person(session: Session, person_id: int, actor: str, now: datetime) -> int:
    """Revoke every live record link of ``person_id``; the count (the trail has one entry)."""
    person = session.get(Person, person_id)
    if person is None:
        raise LookupError(f"no person with id {person_id}")
    result = session.execute(
        update(RecordLink)
        .where(RecordLink.person_id == person_id, RecordLink.revoked_at.is_(None))
        .values(revoked_at=as_utc(now), revoked_by=actor)
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    subject = f"{person.name} (#{person.id})"
    trail.record(session, actor, "link.revoke", subject, now, None, None, {"links": count})
    return count


def link_actor(name: str, settings: Settings) -> str:
    """The trail's actor of an event recorded through a link: 经提醒链接由NAME录入."""
    return word("link.actor", settings.language).format(name=name)


def record_event(
    session: Session,
    book: RuleBook,
    settings: Settings,
    holder: LinkHolder,
    cells: Mapping[str, str],
    now: datetime,
) -> int:
    """Record one event at the link's own unit (any other ``unit`` in ``cells`` is ignored)."""
    values = {**cells, "unit": holder.unit_code}
    return add_event(session, book, values, link_actor(holder.person_name, settings), now)
