"""Review of events by the level above: the latest decision on each event version.

An event version without a row is pending. A user whose scope holds the unit's parent accepts
it or returns it with a comment; each decision replaces the row's state, and every step is in
the change trail (``review.accept``, ``review.return``). A replaced event is a new version:
pending again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.store.models import Base
from scheduler.store.models_accounts import User

ACCEPTED, RETURNED = "accepted", "returned"


class EventReview(Base):
    """The level above's decision on one event version."""

    __tablename__ = "event_reviews"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str] = mapped_column(String(200))
    reviewer_user: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
