"""Waiver requests: a clerk asks, a user a level above the unit approves or refuses.

Apart from `scheduler.store.models` because a request names the users who made and decided it
(`scheduler.store.models_accounts`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.store.models import Base
from scheduler.store.models_accounts import User

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"


class WaiverRequest(Base):
    """A clerk's request to exempt one obligation: ``pending`` until a user a level above the
    unit approves it (a `Waiver` is written) or refuses it, with a comment."""

    __tablename__ = "waiver_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100))
    period_label: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_user: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_by_user: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)


_PENDING = WaiverRequest.status == PENDING
Index(
    "uq_waiver_requests_pending",
    WaiverRequest.unit_id,
    WaiverRequest.rule_id,
    WaiverRequest.period_label,
    unique=True,
    sqlite_where=_PENDING,
    postgresql_where=_PENDING,
)
