"""The daemon (``huiqi run``): two APScheduler jobs around the sweep and the dispatcher.

* ``reminders-sweep``: daily at ``reminders.send_at`` in the configured time zone, sweeps today
  and dispatches. Its next run time lives in the database (``apscheduler_jobs``); a run missed
  while the machine was off is made up once when it comes back within ``misfire_hours``.
* ``reminders-dispatch``: every ``dispatch_seconds``, sends what is pending (retries included).
* ``operations-backup``: daily at ``backup.at``, and once at start-up, the day's backup into
  ``backup.folder`` (`scheduler.store.daily_backup`), claimed in the job log.

All are idempotent (the outbox's unique key, leased claims, the job log's (job, day) key), so a
restart never sends or backs up twice. Each run is noted in the job log, which ``/metrics`` and
``huiqi doctor`` read; a run a dead daemon left ``running`` is marked failed by the next leader.
One leader: on PostgreSQL every ``huiqi run`` waits for an advisory lock, held on a dedicated
connection for the life of the process; when the leader dies the server releases it and a waiting
daemon takes over within ``leader_poll_seconds``. SQLite allows one daemon: a second one is
refused. SIGTERM and SIGINT stop the daemon cleanly (exit 0).
"""

from __future__ import annotations

import fcntl
import logging
import signal
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Connection, Engine, inspect, text

from scheduler import logs
from scheduler.config import ConfigError, Settings, load_settings
from scheduler.core.problems import Message
from scheduler.core.workdays import coverage_lines
from scheduler.reminders.dispatch import dispatch
from scheduler.reminders.sweep import sweep
from scheduler.rulefiles import read_rulebook
from scheduler.store import daily_backup, jobs, obligations
from scheduler.store.database import is_initialised, make_engine, transaction
from scheduler.store.workdays import load_workdays
from scheduler.transports.delivery import make_transports

log = logging.getLogger("huiqi.daemon")
LOCK_KEY = 0x68756971  # "huiq": the advisory lock of the leading daemon
SWEEP_JOB = "reminders-sweep"
DISPATCH_JOB = "reminders-dispatch"
BACKUP_JOB = "operations-backup"


class DaemonError(ConfigError):
    """The daemon cannot start; the message says why."""


class Leadership(Protocol):
    def acquire(self) -> bool: ...
    def alive(self) -> bool: ...
    def release(self) -> None: ...


@dataclass
class PostgresLeadership:
    """``pg_try_advisory_lock`` (per schema) on a connection kept open while leading. The
    leader check (a scheduler thread) and the release at a stop (the main thread) use the
    connection one at a time."""

    engine: Engine
    connection: Connection | None = None
    using: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self) -> bool:
        with self.using:
            if self.connection is None:
                self.connection = self.engine.connect()
            # One lock per schema, so that deployments sharing a database do not block each
            # other.
            query = text("SELECT pg_try_advisory_lock(:key, hashtext(current_schema()))")
            won = bool(self.connection.execute(query, {"key": LOCK_KEY}).scalar())
            self.connection.commit()
            return won

    def alive(self) -> bool:
        with self.using:
            try:
                assert self.connection is not None
                self.connection.execute(text("SELECT 1")).scalar()
                self.connection.commit()
            except Exception:
                return False
            return True

    def release(self) -> None:
        """Unlock, then close the connection for good (not back to the pool).

        Closing alone also frees the lock, but only once the server has ended the session,
        which happens a moment later; unlocking first makes a handover immediate."""
        with self.using:
            if self.connection is not None:
                with suppress(Exception):  # a dead connection has lost the lock already
                    unlock = text("SELECT pg_advisory_unlock(:key, hashtext(current_schema()))")
                    self.connection.execute(unlock, {"key": LOCK_KEY})
                    self.connection.commit()
                self.connection.invalidate()
                self.connection.close()
                self.connection = None


@dataclass
class FileLeadership:
    """An exclusive ``flock`` on ``<database>.daemon.lock`` (SQLite)."""

    path: Path
    handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.open("a")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            self.handle = None
            return False
        return True

    def alive(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def leadership_for(engine: Engine) -> Leadership:
    if engine.dialect.name == "postgresql":
        return PostgresLeadership(engine)
    return FileLeadership(Path(f"{engine.url.database or 'memory'}.daemon.lock"))


# ----------------------------------------------------------------------------------------------
# The jobs (importable references, so that the job store can restore them)


def sweep_job(config: str | None) -> None:
    """Bring the stored obligations up to date (a changed rulebook, a horizon moving into a
    new year, units marked by a change made without the rulebook), sweep today (in the
    configured zone) and dispatch."""
    settings = load_settings(Path(config) if config else None)
    book = read_rulebook(settings.rule_paths, settings.term_starts, settings.review.mode)
    engine = make_engine(settings.resolved_database_url)
    now = datetime.now(settings.zone)
    try:
        with transaction(engine) as session:
            computed = obligations.settle(session, book, now.date())
        log.info("stored obligations: %d unit-rule pairs computed", computed)
        with transaction(engine) as session:
            result = sweep(session, book, settings, now.date(), now)
            jobs.note_run(session, "sweep", now.date(), now, datetime.now(settings.zone),
                          f"{result.written} reminders written")  # fmt: skip
        log.info("sweep %s: %d reminders written", now.date(), result.written)
        log.info("dispatch: %s", dispatch(engine, book, settings, make_transports(settings), now))
    finally:
        engine.dispose()


def dispatch_job(config: str | None) -> None:
    """Send what is pending now."""
    settings = load_settings(Path(config) if config else None)
    book = read_rulebook(settings.rule_paths, settings.term_starts, settings.review.mode)
    engine = make_engine(settings.resolved_database_url)
    try:
        now = datetime.now(settings.zone)
        outcome = dispatch(engine, book, settings, make_transports(settings), now)
        with transaction(engine) as session:
            jobs.note_run(session, "dispatch", now.date(), now, datetime.now(settings.zone),
                          str(outcome))  # fmt: skip
        if outcome.sent or outcome.retrying or outcome.failed or outcome.undeliverable:
            log.info("dispatch: %s", outcome)
    finally:
        engine.dispose()


def backup_job(config: str | None) -> None:
    """Make today's backup unless it is too early or done (`scheduler.store.daily_backup`)."""
    settings = load_settings(Path(config) if config else None)
    engine = make_engine(settings.resolved_database_url)
    try:
        outcome = daily_backup.run_daily(engine, settings, datetime.now(settings.zone))
    finally:
        engine.dispose()
    if outcome.skipped:
        log.info("backup: skipped, %s", outcome.skipped)
    elif outcome.error:
        log.error("backup failed: %s", outcome.error)
    elif outcome.made:
        made = outcome.made
        log.info(
            "backup: %s (%d bytes), %d old removed", made.path, made.size, len(outcome.removed)
        )


# ----------------------------------------------------------------------------------------------
# The daemon


class QuietScheduler(BlockingScheduler):
    """Skips the extra pass over due jobs after shutdown (APScheduler issue #985), which would
    log "cannot schedule new futures after shutdown" and could move a job's next run time."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        result: float | None = super()._process_jobs()
        return result


@dataclass
class Daemon:
    """One ``huiqi run`` process."""

    settings: Settings
    config: str | None
    engine: Engine
    stopping: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    scheduler: QuietScheduler | None = None

    def run(self) -> None:
        """Lead (or wait to), then run the jobs until SIGTERM/SIGINT."""
        if not is_initialised(self.engine):
            raise DaemonError(Message("not_initialised"))
        leadership = leadership_for(self.engine)
        self._handle_signals()
        try:
            if not self._lead(leadership):
                return
            self._report_workdays()
            self.scheduler = self._scheduler(leadership)
            if not self.stopping.is_set():
                self.scheduler.start()
        finally:
            self.finished.set()
            leadership.release()

    def _report_workdays(self) -> None:
        """Say where this year's and next year's workdays come from; warn on rules alone."""
        this_year = datetime.now(self.settings.zone).year
        with transaction(self.engine) as session:
            workdays = load_workdays(session, self.settings)
        lines, rule_only = coverage_lines(workdays, [this_year, this_year + 1])
        for line in lines:
            log.info("workdays: %s", line)
        for year in rule_only:
            log.warning("workdays: no official arrangement for %d yet: import it", year)

    def _lead(self, leadership: Leadership) -> bool:
        if leadership.acquire():
            log.info("leader: running the reminder jobs")
            self._end_interrupted()
            return True
        if isinstance(leadership, FileLeadership):
            raise DaemonError(Message("daemon_running", database=self.engine.url.database))
        log.info("another daemon leads: waiting to take over")
        while not self.stopping.wait(self.settings.reminders.leader_poll_seconds):
            if leadership.acquire():
                log.info("leader: took over the reminder jobs")
                self._end_interrupted()
                return True
        return False

    def _end_interrupted(self) -> None:
        """Runs a dead daemon left ``running`` end as failed (only the leader runs jobs)."""
        with transaction(self.engine) as session:
            count = jobs.interrupted(session, datetime.now(self.settings.zone))
        if count:
            log.warning("job log: %d run(s) of a stopped daemon marked failed", count)

    def _handle_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            log.info("signal %d: stopping", signum)
            self.stopping.set()
            # Not from the handler itself: it may have interrupted the scheduler's pass over due
            # jobs, or its start, in this thread. Another thread stops it once it runs.
            threading.Thread(target=self._shutdown_when_running, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def _shutdown_when_running(self) -> None:
        while not self.finished.wait(0.05):
            scheduler = self.scheduler
            if scheduler is not None and scheduler.running:
                scheduler.shutdown(wait=False)
                return

    def _scheduler(self, leadership: Leadership) -> QuietScheduler:
        scheduler = QuietScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.engine),
                "local": MemoryJobStore(),
            },
            timezone=self.settings.zone,
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._add_jobs(scheduler)
        scheduler.add_job(
            self._check, "interval", args=[leadership], id="leader-check", jobstore="local",
            seconds=self.settings.reminders.leader_poll_seconds, replace_existing=True,
        )  # fmt: skip
        return scheduler

    def _add_jobs(self, scheduler: QuietScheduler) -> None:
        """The persistent jobs: explicit ids, textual references, a night's misfire grace."""
        reminders = self.settings.reminders
        grace = int(reminders.misfire_hours * 3600)
        common = {"args": [self.config], "replace_existing": True, "misfire_grace_time": grace}
        scheduler.add_job(
            "scheduler.reminders.daemon:sweep_job", "cron", id=SWEEP_JOB,
            hour=reminders.send_at.hour, minute=reminders.send_at.minute,
            **common, **missed_run(self.engine, SWEEP_JOB, datetime.now(UTC), grace),
        )  # fmt: skip
        scheduler.add_job(
            "scheduler.reminders.daemon:dispatch_job", "interval", id=DISPATCH_JOB,
            seconds=reminders.dispatch_seconds, next_run_time=datetime.now(self.settings.zone),
            **common,
        )  # fmt: skip
        backup = self.settings.backup
        scheduler.add_job(  # at start-up too: a server that was down at backup.at catches up
            "scheduler.reminders.daemon:backup_job", "cron", id=BACKUP_JOB, hour=backup.at.hour,
            minute=backup.at.minute, next_run_time=datetime.now(self.settings.zone), **common,
        )  # fmt: skip

    def _check(self, leadership: Leadership) -> None:
        if not leadership.alive():
            log.error("lost the leader lock (database connection gone): stopping")
            self.stopping.set()
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=False)


def missed_run(engine: Engine, job_id: str, now: datetime, grace: int) -> dict[str, Any]:
    """``next_run_time`` of a stored run that was missed less than ``grace`` seconds ago.

    ``add_job(replace_existing=True)`` would otherwise compute the next run from now and lose the
    run the machine slept through.
    """
    if not inspect(engine).has_table("apscheduler_jobs"):
        return {}
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT next_run_time FROM apscheduler_jobs WHERE id = :id"), {"id": job_id}
        ).scalar()
    if stored is None:
        return {}
    when = datetime.fromtimestamp(float(stored), UTC)
    if when <= now and now - when <= timedelta(seconds=grace):
        return {"next_run_time": when}
    return {}


def run(settings: Settings, config: Path | None) -> None:
    """``huiqi run``: the daemon in the foreground."""
    logs.configure(settings.log.format, settings.log.level)
    engine = make_engine(settings.resolved_database_url)
    try:
        Daemon(settings, str(config.resolve()) if config else None, engine).run()
    finally:
        engine.dispose()
