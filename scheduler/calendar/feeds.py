"""Calendar feeds people subscribe to: secret tokens, ETags and Last-Modified.

A token is 256 random bits (43 URL-safe characters); only its SHA-256 is stored, with a
four-character hint to tell feeds apart in listings. The URL is ``{web.base_url}/cal/TOKEN.ics``
(``webcal://`` for one-click subscription). A revoked token stops working at once.

What a feed holds is `scheduler.calendar.feed_content`'s business.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.calendar.feed_content import render
from scheduler.config import Settings
from scheduler.core.problems import InputError, Message, Problem
from scheduler.core.rules import RuleBook
from scheduler.store import trail
from scheduler.store.models import Event, Person, RoleAssignment, Unit, Waiver
from scheduler.store.models_calendar import CalendarFeed, Meeting, as_utc

TOKEN_BYTES = 32
SCOPES = ("unit", "subtree", "person")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class NewFeed:
    """A feed just created: the token is shown once and never stored."""

    feed: CalendarFeed
    token: str
    url: str
    webcal: str


@dataclass(frozen=True)
class Published:
    """A feed's bytes, their ETag, and when they last changed."""

    body: bytes
    etag: str
    modified: datetime


# ----------------------------------------------------------------------------------------------
# Tokens


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(settings: Settings, token: str) -> str:
    return f"{settings.web.base_url.rstrip('/')}/cal/{token}.ics"


def webcal_url(url: str) -> str:
    """The same URL with the ``webcal://`` scheme calendar apps subscribe to."""
    return re.sub(r"^https?://", "webcal://", url)


def new_token() -> str:
    """An unguessable URL-safe token that never starts with '-' (a command line would read
    such a token as an option)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    while token.startswith("-"):
        token = secrets.token_urlsafe(TOKEN_BYTES)
    return token


def create(
    session: Session,
    settings: Settings,
    scope: str,
    target: str,
    by: str,
    now: datetime,
) -> NewFeed:
    """A new feed of ``scope`` (unit, subtree: a unit code; person: a person id or e-mail)."""
    where = "feeds create"
    unit_id = person_id = None
    if scope == "person":
        person_id = _person(session, target, where).id
    elif scope in ("unit", "subtree"):
        unit_id = _unit_id(session, target, where)
    else:
        unknown = Message("unknown_code", what=Message("scope"), value=scope)
        raise InputError([Problem(where, None, "scope", unknown)])
    token = new_token()
    feed = CalendarFeed(
        token_hash=hash_token(token),
        hint=token[:4],
        scope=scope,
        unit_id=unit_id,
        person_id=person_id,
        created_by=by,
        created_at=as_utc(now),
    )
    session.add(feed)
    session.flush()
    after = {"scope": scope, "covers": target}
    trail.record(session, by, "feed.create", _subject(feed), now, unit_id, None, after)
    url = feed_url(settings, token)
    return NewFeed(feed, token, url, webcal_url(url))


def made_by(session: Session, code: str, by: str) -> list[CalendarFeed]:
    """The active unit feeds of unit ``code`` that ``by`` created, oldest first."""
    statement = (
        select(CalendarFeed)
        .join(Unit, Unit.id == CalendarFeed.unit_id)
        .where(Unit.code == code, CalendarFeed.scope == "unit", CalendarFeed.created_by == by)
        .where(CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id)
    )
    return list(session.scalars(statement))


def _subject(feed: CalendarFeed) -> str:
    """How the trail names a feed: its id and token hint (never the token)."""
    return f"#{feed.id} {feed.hint}…"


def active(session: Session, token: str) -> CalendarFeed | None:
    """The feed of ``token`` unless it is unknown or revoked."""
    if not _TOKEN.match(token):
        return None
    return session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == hash_token(token), CalendarFeed.revoked_at.is_(None)
        )
    )


def revoke(session: Session, token_or_id: str, by: str, now: datetime) -> CalendarFeed:
    """Revoke a feed given its token, or its id as ``huiqi feeds list`` shows it."""
    where = "feeds revoke"
    if token_or_id.isdigit() and len(token_or_id) < 12:
        feed = session.get(CalendarFeed, int(token_or_id))
    else:
        feed = session.scalar(
            select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token_or_id))
        )
    if feed is None:
        raise InputError([Problem(where, None, "TOKEN", Message("no_feed"))])
    if feed.revoked_at is not None:
        revoked = Message("feed_revoked", id=feed.id)
        raise InputError([Problem(where, None, "TOKEN", revoked)])
    feed.revoked_at = as_utc(now)
    trail.record(session, by, "feed.revoke", _subject(feed), now, feed.unit_id)
    return feed


def listing(session: Session) -> list[tuple[CalendarFeed, str]]:
    """Every feed with a description of what it covers, by id."""
    units = dict(session.execute(select(Unit.id, Unit.code)).all())
    people = {pid: f"{name} <{email or '-'}>" for pid, name, email in
              session.execute(select(Person.id, Person.name, Person.email))}  # fmt: skip
    rows = []
    for feed in session.scalars(select(CalendarFeed).order_by(CalendarFeed.id)):
        if feed.scope == "person":
            target = people.get(feed.person_id or 0, "?")
        else:
            target = units.get(feed.unit_id or 0, "?")
        rows.append((feed, target))
    return rows


def _unit_id(session: Session, code: str, where: str) -> int:
    unit_id = session.scalar(select(Unit.id).where(Unit.code == code))
    if unit_id is None:
        unknown = Message("unknown_code", what=Message("unit"), value=code)
        raise InputError([Problem(where, None, "--unit", unknown)])
    return unit_id


def _person(session: Session, key: str, where: str) -> Person:
    found = session.get(Person, int(key)) if key.isdigit() else None
    found = found or session.scalar(select(Person).where(Person.email == key))
    if found is None:
        unknown = Message("unknown_code", what=Message("person"), value=key)
        raise InputError([Problem(where, None, "--person", unknown)])
    return found


# ----------------------------------------------------------------------------------------------
# Content


def publish(
    session: Session, book: RuleBook, settings: Settings, feed: CalendarFeed, now: datetime
) -> Published:
    """The feed's bytes on ``now``; a changed content moves its Last-Modified to ``now``.

    Last-Modified only ever grows, by whole seconds, so a client's If-Modified-Since never
    matches content it has not seen.
    """
    body = render(session, book, settings, feed, now).encode("utf-8")
    etag = hashlib.sha256(body).hexdigest()[:32]
    if feed.etag != etag or feed.modified_at is None:
        moment = as_utc(now).replace(microsecond=0)
        if feed.modified_at is not None:
            moment = max(moment, as_utc(feed.modified_at) + timedelta(seconds=1))
        feed.etag, feed.modified_at = etag, moment
    return Published(body, etag, as_utc(feed.modified_at))


def data_version(session: Session) -> tuple[object, ...]:
    """A cheap fingerprint of the facts feeds show (one statement over primary keys and one
    small index): it changes when an event is added or replaced, a meeting planned or changed,
    a waiver, unit or role assignment added. Voiding an event or editing a unit in place does
    not change it; a cached feed shows those after ``calendar.feed_cache_seconds``."""
    return tuple(session.execute(select(*_version_columns())).one())


def lookup(session: Session, token: str) -> tuple[int, tuple[object, ...]] | None:
    """The id of the active feed of ``token`` and `data_version`, in one statement; None when
    the token is unknown, malformed or revoked (the hot path of every feed request)."""
    if not _TOKEN.match(token):
        return None
    row = session.execute(
        select(CalendarFeed.id, *_version_columns()).where(
            CalendarFeed.token_hash == hash_token(token), CalendarFeed.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else (row[0], tuple(row[1:]))


def _version_columns() -> list[Any]:
    columns: list[Any] = [
        func.max(Event.id), func.max(Meeting.id), func.max(Meeting.updated_at),
        func.max(Waiver.id), func.max(Unit.id), func.max(RoleAssignment.id),
    ]  # fmt: skip
    return [select(column).scalar_subquery() for column in columns]
