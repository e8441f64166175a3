"""The daemon's job log (`JobRun`): claims of once-a-day jobs and the last run of the others.

`claim` makes a job run once per local day whatever happens: the row is inserted with
``INSERT … ON CONFLICT DO NOTHING RETURNING`` (a second daemon, or a restart, finds it and does
nothing) and only a ``failed`` row may be claimed again. `interrupted` ends the ``running``
rows a dead daemon left behind; only the leading daemon runs jobs, so it calls it when it
starts leading.
Times are stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheduler.store.models_operations import FAILED, OK, RUNNING, JobRun

INTERRUPTED = "interrupted: the daemon stopped during the run"


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(JobRun)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def claim(session: Session, job: str, day: date, now: datetime) -> bool:
    """True when this caller runs ``job`` for ``day``: no row yet, or the last try failed."""
    values = {
        "job": job,
        "day": day,
        "status": RUNNING,
        "runs": 1,
        "started_at": _utc(now),
        "detail": "",
    }
    insert = _insert(session).values(values).on_conflict_do_nothing().returning(JobRun.job)
    if session.execute(insert).first() is not None:
        return True
    retried = session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.day == day, JobRun.status == FAILED)
        .values(
            status=RUNNING,
            runs=JobRun.runs + 1,
            started_at=_utc(now),
            finished_at=None,
            seconds=None,
            detail="",
        )
        .returning(JobRun.job)
        .execution_options(synchronize_session=False)
    )
    return retried.first() is not None


def finish(
    session: Session, job: str, day: date, started: datetime, now: datetime, ok: bool, detail: str
) -> None:
    """End the claimed run: ``ok`` (``detail`` names what it made) or ``failed`` (why)."""
    session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.day == day, JobRun.status == RUNNING)
        .values(
            status=OK if ok else FAILED,
            finished_at=_utc(now),
            seconds=(now - started).total_seconds(),
            detail=detail,
        )
        .execution_options(synchronize_session=False)
    )


def interrupted(session: Session, now: datetime) -> int:
    """Mark every ``running`` row failed (its daemon died); how many there were."""
    result = session.execute(
        update(JobRun)
        .where(JobRun.status == RUNNING)
        .values(status=FAILED, finished_at=_utc(now), detail=INTERRUPTED)
        .returning(JobRun.job)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


def note_run(
    session: Session, job: str, day: date, started: datetime, now: datetime, detail: str = ""
) -> None:
    """Record a finished run of a job that runs often (the sweep, the dispatcher)."""
    seconds = (now - started).total_seconds()
    values = {
        "job": job,
        "day": day,
        "status": OK,
        "runs": 1,
        "started_at": _utc(started),
        "finished_at": _utc(now),
        "seconds": seconds,
        "detail": detail,
    }
    statement = _insert(session).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["job", "day"],
            set_={
                "runs": JobRun.runs + 1,
                "started_at": statement.excluded.started_at,
                "finished_at": statement.excluded.finished_at,
                "seconds": statement.excluded.seconds,
                "detail": statement.excluded.detail,
                "status": OK,
            },
        )
    )


def latest(session: Session, job: str, status: str | None = None) -> JobRun | None:
    """The newest row of ``job`` (of that ``status`` when given)."""
    query = select(JobRun).where(JobRun.job == job).order_by(JobRun.day.desc()).limit(1)
    if status is not None:
        query = query.where(JobRun.status == status)
    return session.scalars(query).first()


def last_runs(session: Session) -> list[JobRun]:
    """The newest row of every job, by job name."""
    newest = select(JobRun.job, func.max(JobRun.day).label("day")).group_by(JobRun.job).subquery()
    query = (
        select(JobRun)
        .join(newest, (JobRun.job == newest.c.job) & (JobRun.day == newest.c.day))
        .order_by(JobRun.job)
    )
    return list(session.scalars(query))


def last_successes(session: Session) -> dict[str, datetime]:
    """When each job last finished well."""
    query = select(JobRun.job, func.max(JobRun.finished_at)).where(JobRun.status == OK)
    return {job: at for job, at in session.execute(query.group_by(JobRun.job)) if at is not None}
