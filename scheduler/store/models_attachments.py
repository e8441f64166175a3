"""Attachments: documents that back an event (notice, minutes, resolution, sign-in sheet, photo,
other). Optional evidence: no status ever asks for one.

A row names its bytes by SHA-256 (`scheduler.store.blobs`); one file attached to several events
is kept once. Attachments belong to one version of an event: replacing the event copies them to
the new version, and the old version keeps its own, so the history shows what backed each.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.store.models import Base

KINDS = ("notice", "minutes", "resolution", "signin", "photo", "other")


class Attachment(Base):
    """One document attached to one event version."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    copied_from: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
