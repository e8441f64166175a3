"""Tables of the phone flows: reminder record links and meeting sign-ins.

A record link (``/r/TOKEN``) is signed (HMAC-SHA256 with ``HUIQI_SECRET_KEY``); the database keeps
only the SHA-256 of the token, so a leaked database does not leak usable links, and revoking a
row refuses its token from then on. ``window_started_at``/``window_uses`` count the requests of
the current rate-limit window of one token. A sign-in is one name written on a planned meeting's
sign-in sheet: by the attendee (``self``), by the organiser for someone present (``proxy``, 代签)
or after the meeting (``late``, 补签).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.store.models import Base

SELF = "self"
PROXY = "proxy"
LATE = "late"
SIGN_MODES = (SELF, PROXY, LATE)


class RecordLink(Base):
    """One reminder record link for one person and unit, until ``expires_at``."""

    __tablename__ = "record_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    window_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_uses: Mapped[int] = mapped_column(Integer, default=0)


class MeetingSignIn(Base):
    """One name on a meeting's sign-in sheet (once per name)."""

    __tablename__ = "meeting_signins"
    __table_args__ = (UniqueConstraint("meeting_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    mode: Mapped[str] = mapped_column(String(16), default=SELF)
    signed_by: Mapped[str] = mapped_column(String(200), default="")
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
