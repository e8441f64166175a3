"""The daemon's job log: one row per (job, local day), like the outbox's unique key.

``backup`` rows are claims: the daily backup inserts its row before it starts (``running``) and
ends it ``ok`` (``detail`` names the file) or ``failed`` (``detail`` says why), so a restart or a
second daemon never backs up twice the same day. ``sweep`` and ``dispatch`` rows only record the
last run of the day (``runs`` counts them), which ``/metrics`` and ``huiqi doctor`` read. Times are
stored in UTC.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.store.models import Base

RUNNING = "running"
OK = "ok"
FAILED = "failed"


class JobRun(Base):
    """The last run of a daemon job on a local day."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    runs: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seconds: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")
