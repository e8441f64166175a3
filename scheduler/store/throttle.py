"""Login throttling, kept in the database so that every web process sees the same counts.

After ``per_user`` failed logins for one user name since its last successful login, or
``per_address`` failed logins from one address, within ``window``, further tries are refused
until enough of those failures are older than the window. The web face asks `retry_after`
before it hashes anything, so a refused try costs no argon2 hash, and a refused try is not
counted (the lock lifts when the window passes, however often somebody knocks). A successful
login restarts the count of its own user name only: never an address's, never another user's.
Every failed login is also written to the change trail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from scheduler.store import trail
from scheduler.store.models_accounts import LoginAttempt, User

NAME_CHARS = 100  # as the columns store them
ADDRESS_CHARS = 64


@dataclass(frozen=True)
class ThrottleLimits:
    """How many failures within how long stop further tries."""

    per_user: int = 10
    per_address: int = 50
    window: timedelta = timedelta(minutes=15)


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (SQLite hands stored times back naive, in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def retry_after(
    session: Session, username: str, address: str, now: datetime, limits: ThrottleLimits
) -> int | None:
    """Seconds until a login for ``username`` from ``address`` may be tried again, or None
    when it may be tried now. Two indexed statements, no password hash."""
    name, place = username[:NAME_CHARS], address[:ADDRESS_CHARS]
    since = _utc(now) - limits.window
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == name, LoginAttempt.succeeded.is_(True)
        )
    )
    user_since = max(since, _utc(last_success)) if last_success else since
    waits = [
        _wait(session, LoginAttempt.username == name, limits.per_user, user_since, now, limits),
        _wait(session, LoginAttempt.address == place, limits.per_address, since, now, limits),
    ]
    found = [wait for wait in waits if wait is not None]
    return max(found) if found else None


def _wait(
    session: Session,
    matches: ColumnElement[bool],
    limit: int,
    since: datetime,
    now: datetime,
    limits: ThrottleLimits,
) -> int | None:
    """While ``limit`` failures lie after ``since``, the wait until the oldest of the newest
    ``limit`` leaves the window."""
    oldest_counted = session.scalar(
        select(LoginAttempt.at)
        .where(matches, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
        .order_by(LoginAttempt.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if oldest_counted is None:
        return None
    left = _utc(oldest_counted) + limits.window - _utc(now)
    return max(1, math.ceil(left.total_seconds()))


def record(
    session: Session,
    username: str,
    address: str,
    succeeded: bool,
    now: datetime,
    limits: ThrottleLimits,
) -> None:
    """Count a login attempt (a failed one also goes to the trail); forget attempts older
    than the window."""
    name, place = username[:NAME_CHARS], address[:ADDRESS_CHARS]
    session.execute(delete(LoginAttempt).where(LoginAttempt.at <= _utc(now) - limits.window))
    session.add(LoginAttempt(username=name, address=place, at=_utc(now), succeeded=succeeded))
    if not succeeded:
        unit_id = session.scalar(select(User.unit_id).where(User.username == name))
        after = {"address": place}
        trail.record(session, place, "login.failed", f"user {name}", now, unit_id, None, after)
