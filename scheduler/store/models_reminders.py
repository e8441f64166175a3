"""The reminder outbox: one row per (obligation, stage, recipient), written once by the sweep.

A row is ``pending`` until the dispatcher sends the digest that carries it (``sent``, with the
digest's ``message_id``), gives up after the configured attempts or a permanent refusal
(``failed``, ``last_error`` says why), or finds nowhere to send it (``undeliverable``). A
dispatcher claims rows by setting ``claimed_until`` (a lease): should it die before recording the
result, another takes the rows over when the lease has run out. Times are stored in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.store.models import Base

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
UNDELIVERABLE = "undeliverable"
CANCELLED = "cancelled"
STATUSES = (PENDING, SENT, FAILED, UNDELIVERABLE, CANCELLED)


class OutboxEntry(Base):
    """One reminder of one obligation at one stage for one recipient."""

    __tablename__ = "reminder_outbox"
    __table_args__ = (
        UniqueConstraint("unit_id", "rule_id", "period_label", "stage", "recipient"),
        Index("ix_reminder_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_reminder_outbox_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    rule_id: Mapped[str] = mapped_column(String(100))
    period_label: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(80))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    chat_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    day: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    required: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    actual: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    held_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
