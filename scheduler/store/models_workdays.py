"""Tables of the workday calendar: the official holiday arrangements an operator imported
(``huiqi workdays import``), one notice per year with its days off and working weekends."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.store.models import Base


class WorkdayNotice(Base):
    """A year's arrangement as published: it replaces every other source for that year."""

    __tablename__ = "workday_notices"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(300))
    source_file: Mapped[str] = mapped_column(String(300), default="")
    imported_by: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    days: Mapped[list[WorkdayNoticeDay]] = relationship(
        cascade="all, delete-orphan", order_by="WorkdayNoticeDay.day"
    )


class WorkdayNoticeDay(Base):
    """One day of a notice: a day off, or (``working``) an adjusted working weekend day."""

    __tablename__ = "workday_notice_days"

    year: Mapped[int] = mapped_column(ForeignKey("workday_notices.year"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
