"""The workday calendar of a deployment: config.yaml's overrides and the imported notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.config import Settings
from scheduler.core.workdays import Notice, Workdays
from scheduler.store import trail
from scheduler.store.models_workdays import WorkdayNotice, WorkdayNoticeDay


def load_workdays(session: Session, settings: Settings) -> Workdays:
    """Every source of workdays: the overrides, the imported notices, the tables and rules."""
    rows = session.scalars(select(WorkdayNotice).options(selectinload(WorkdayNotice.days)))
    notices = [_notice(row) for row in rows]
    return Workdays.of(settings.workdays.holidays, settings.workdays.workdays, notices)


def save_notice(
    session: Session, notice: Notice, source_file: str, actor: str, now: datetime
) -> bool:
    """Store ``notice`` as its year's arrangement, replacing an earlier one (True then)."""
    existing = session.get(WorkdayNotice, notice.year)
    before = _summary(_notice(existing)) if existing is not None else None
    if existing is not None:
        session.delete(existing)
        session.flush()
    days = [WorkdayNoticeDay(day=day, working=False) for day in sorted(notice.days_off)]
    days += [WorkdayNoticeDay(day=day, working=True) for day in sorted(notice.workdays)]
    session.add(
        WorkdayNotice(
            year=notice.year,
            title=notice.title,
            source_file=source_file,
            imported_by=actor,
            imported_at=now,
            days=days,
        )
    )
    subject = f"{notice.year}: {notice.title}"
    trail.record(session, actor, "workdays.import", subject, now, None, before, _summary(notice))
    return existing is not None


def _notice(row: WorkdayNotice) -> Notice:
    off = frozenset(d.day for d in row.days if not d.working)
    work = frozenset(d.day for d in row.days if d.working)
    return Notice(row.year, row.title, off, work)


def _summary(notice: Notice) -> dict[str, object]:
    return {
        "title": notice.title,
        "days_off": [day.isoformat() for day in sorted(notice.days_off)],
        "workdays": [day.isoformat() for day in sorted(notice.workdays)],
    }
