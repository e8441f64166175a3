"""整改 (rectification) items: a problem found at review or inspection, opened against a unit
with a due date, answered by the unit, closed (销号) or reopened by the level above.

An item starts ``open``; the unit's answer (a note, optionally a file) makes it ``answered``;
the reviewer closes it (``closed``) or reopens it (``open`` again, with a comment). The item
keeps its latest answer and decision; every step is in the change trail.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.store.models import Base

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"


class Rectification(Base):
    """One 整改 item."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # event | obligation | text
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    rule_id: Mapped[str | None] = mapped_column(String(100))
    period_label: Mapped[str | None] = mapped_column(String(40))
    issue: Mapped[str] = mapped_column(Text)
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answer_file: Mapped[str | None] = mapped_column(String(200))
    answer_media_type: Mapped[str | None] = mapped_column(String(100))
    answer_sha256: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
