"""Users, browser sessions and API tokens.

Passwords are hashed with argon2 (argon2-cffi's defaults, RFC 9106's low-memory profile). A
session cookie and an API token are 32 random bytes; only their SHA-256 is stored, so a copy of
the database opens no account. Every change is written to the change trail.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scheduler.core.access import Principal, Role
from scheduler.core.problems import Message, single
from scheduler.store import trail
from scheduler.store.models import Unit
from scheduler.store.models_accounts import ApiToken, User, WebSession

HASHER = PasswordHasher()
MIN_PASSWORD = 8
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "hq_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.display_name, Role(user.role), user.unit_id)


def _check_password(password: str, where: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise single(Message("password_too_short", count=MIN_PASSWORD), where, field="password")


def _unit_id(session: Session, role: Role, unit_code: str | None, where: str) -> int | None:
    if role is Role.ADMIN:
        if unit_code:
            raise single(Message("admin_no_unit"), where, field="unit")
        return None
    if not unit_code:
        raise single(Message(f"{role.value}_needs_unit"), where, field="unit")
    unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
    if unit_id is None:
        unknown = Message("unknown_code", what=Message("unit"), value=unit_code)
        raise single(unknown, where, field="unit")
    return unit_id


def _role(text: str, where: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise single(Message("unknown_access", value=text), where, field="role") from None


def _user(session: Session, username: str, where: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise single(Message("no_user", value=username), where, field="username")
    return user


def add_user(
    session: Session,
    username: str,
    role: str,
    unit_code: str | None,
    password: str,
    now: datetime,
    actor: str,
    display_name: str = "",
) -> Principal:
    """Create a user; refuse a taken name, an unknown role or unit, a short password."""
    where = "users add"
    if not username.strip():
        raise single(Message("username_required"), where, field="username")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise single(Message("user_exists", value=username), where, field="username")
    kind = _role(role, where)
    unit_id = _unit_id(session, kind, unit_code, where)
    _check_password(password, where)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=HASHER.hash(password),
        role=kind.value,
        unit_id=unit_id,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    after = {"access": kind.value, "unit": unit_code, "display_name": display_name}
    trail.record(session, actor, "user.add", username, now, unit_id, None, after)
    return principal(user)


def set_password(session: Session, username: str, password: str, now: datetime, actor: str) -> None:
    """Replace a user's password and end their browser sessions."""
    user = _user(session, username, "users passwd")
    _check_password(password, "users passwd")
    user.password_hash = HASHER.hash(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    trail.record(session, actor, "user.passwd", username, now, user.unit_id)


def disable_user(session: Session, username: str, now: datetime, actor: str) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    user = _user(session, username, "users disable")
    if not user.active:
        already = Message("user_already_disabled", value=username)
        raise single(already, "users disable", field="username")
    user.active = False
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    before, after = {"active": True}, {"active": False}
    trail.record(session, actor, "user.disable", username, now, user.unit_id, before, after)


def authenticate(session: Session, username: str, password: str) -> Principal | None:
    """The active user with this name and password, or None."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        HASHER.hash(password)  # spend the same time whether the name exists or not
        return None
    try:
        HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return principal(user)


# ----------------------------------------------------------------------------------------------
# Browser sessions and API tokens


@dataclass(frozen=True)
class OpenedSession:
    cookie: str
    csrf: str


def open_session(
    session: Session, user: Principal, now: datetime, lifetime: timedelta = SESSION_LIFETIME
) -> OpenedSession:
    """Start a browser session; the cookie value is returned once and stored hashed."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(
        WebSession(
            token_hash=digest(cookie),
            user_id=user.user_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return OpenedSession(cookie, csrf)


def session_user(session: Session, cookie: str, now: datetime) -> tuple[Principal, str] | None:
    """The active user and CSRF token of an unexpired session cookie, or None."""
    row = session.execute(
        select(User, WebSession.csrf, WebSession.expires_at)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == digest(cookie), User.active.is_(True))
    ).first()
    if row is None or _before(row[2], now):
        return None
    return principal(row[0]), row[1]


def close_session(session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == digest(cookie)))


def create_token(session: Session, username: str, name: str, now: datetime, actor: str) -> str:
    """A new API token for a user; shown once, stored hashed."""
    user = _user(session, username, "tokens create")
    if not user.active:
        disabled = Message("user_disabled", value=username)
        raise single(disabled, "tokens create", field="username")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=digest(token), user_id=user.id, name=name, created_at=now))
    subject = f"{username}: {name}" if name else username
    trail.record(session, actor, "token.create", subject, now, user.unit_id)
    return token


def token_user(session: Session, token: str) -> Principal | None:
    """The active user of an unrevoked API token, or None."""
    user = session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == digest(token),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )
    return principal(user) if user else None


def _before(moment: datetime, now: datetime) -> bool:
    """``moment < now``, reading a naive stored time (SQLite) in ``now``'s zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=now.tzinfo)
    return moment < now


@dataclass(frozen=True)
class TokenInfo:
    """An API token as ``huiqi tokens list`` shows it (never its secret)."""

    id: int
    username: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
    user_active: bool


def list_tokens(session: Session, username: str | None = None) -> list[TokenInfo]:
    """Every API token (of ``username``), oldest first."""
    statement = select(ApiToken, User.username, User.active).join(User).order_by(ApiToken.id)
    if username:
        _user(session, username, "tokens list")
        statement = statement.where(User.username == username)
    return [
        TokenInfo(t.id, name, t.name, t.created_at, t.revoked_at, active)
        for t, name, active in session.execute(statement)
    ]


def revoke_token(session: Session, token_id: int, now: datetime, actor: str) -> Message:
    """Revoke one API token: the next request that shows it is refused. Returns its label
    (``token 3 sync of liu``; English in the trail)."""
    found = session.execute(
        select(ApiToken, User).join(User).where(ApiToken.id == token_id)
    ).first()
    if found is None:
        raise single(Message("no_token", id=token_id), "tokens revoke", field="id")
    token, user = found
    if token.revoked_at is not None:
        revoked = Message("token_revoked", id=token_id)
        raise single(revoked, "tokens revoke", field="id")
    token.revoked_at = now
    label = token_label(token_id, token.name, user.username)
    trail.record(session, actor, "token.revoke", str(label), now, user.unit_id)
    return label


def token_label(token_id: int, name: str, username: str) -> Message:
    """``token 3 sync of liu`` (``token 3 of liu`` without a name) in any language."""
    if name:
        return Message("token_label", id=token_id, name=name, user=username)
    return Message("token_label_unnamed", id=token_id, user=username)
