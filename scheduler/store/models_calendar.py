"""Tables of the calendar: planned meetings, their attendees, and subscription feeds.

Times are stored in UTC (SQLite keeps no zone; `as_utc` puts it back when reading). A meeting
keeps one UID for its whole life and a SEQUENCE the organizer raises on every change sent. A
feed's token is never stored: only its SHA-256, so a leaked database does not leak the URLs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.store.models import Base


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite returns it naive)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Meeting(Base):
    """A planned meeting at a unit; ``status`` is planned, cancelled or held."""

    __tablename__ = "meetings"
    __table_args__ = (
        Index("ix_meetings_unit_start", "unit_id", "starts_at"),
        Index("ix_meetings_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(500))
    location: Mapped[str] = mapped_column(String(500), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    attendees: Mapped[list[MeetingAttendee]] = relationship(
        cascade="all, delete-orphan", order_by="MeetingAttendee.position"
    )


class MeetingAttendee(Base):
    """Somebody invited to a meeting, through a role at the unit (``role``) or by address.

    ``sent_sequence`` is the last SEQUENCE whose invite the mail transport accepted for them.
    """

    __tablename__ = "meeting_attendees"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    sent_sequence: Mapped[int | None] = mapped_column(Integer)


class CalendarFeed(Base):
    """A subscription URL: a unit (``subtree``: and every unit under it) or a person.

    ``etag`` and ``modified_at`` remember the last content served, so that Last-Modified only
    moves when the content does.
    """

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    etag: Mapped[str | None] = mapped_column(String(64))
    modified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
