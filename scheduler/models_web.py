"""Tables of the web capability: users, their sessions and API tokens, and the change trail.

Passwords are argon2 hashes; session cookies and API tokens are random secrets of which only
the SHA-256 is stored. The change trail is append-only: rows are inserted, never updated or
deleted (the ORM refuses both).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.models import Base


class User(Base):
    """Somebody who logs in: ``admin`` (everything), ``clerk`` or ``viewer`` of a unit subtree."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A logged-in browser: the cookie's SHA-256, its CSRF token and when it expires."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token of the JSON API, acting as its user; revocable."""

    __tablename__ = "web_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChangeRecord(Base):
    """One change anybody made: who, when, what, the state before and after (JSON)."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_unit_at", "unit_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    subject: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)


def _refuse(mapper: Any, connection: Any, target: ChangeRecord) -> None:
    raise ValueError("the change trail is append-only")


event.listen(ChangeRecord, "before_update", _refuse)
event.listen(ChangeRecord, "before_delete", _refuse)
