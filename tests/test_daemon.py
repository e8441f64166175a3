"""``huiqi run`` and ``huiqi remind`` as real processes: one leader, restarts and crashes never
send twice, a killed leader is replaced. The daemons poll fast (tenths of a second) here."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from scheduler.core.rules import RuleBook
from scheduler.reminders.daemon import SWEEP_JOB, PostgresLeadership, missed_run
from tests.conftest import BUNDLED_RULES, POSTGRES, ROOT, huiqi_executable
from tests.mailsink import MailSink
from tests.remindworld import DAY, add_people, load, rows, run_dispatch, run_sweep, settings_for
from tests.remindworld import url_of as url_of_engine

WAIT = 120.0  # seconds a process may take to reach a state before the test fails (a bound)


def environment(engine: Engine, port: int) -> dict[str, str]:
    later = datetime.now(UTC) + timedelta(hours=12)  # no real daily sweep during the test
    return {
        **os.environ,
        "HUIQI_DATABASE_URL": url_of_engine(engine),
        "HUIQI_RULES": str(BUNDLED_RULES),
        "HUIQI_MAIL__TRANSPORT": "smtp",
        "HUIQI_MAIL__PORT": str(port),
        "HUIQI_REMINDERS__SEND_AT": later.astimezone().strftime("%H:%M"),
        "HUIQI_REMINDERS__DISPATCH_SECONDS": "0.2",
        "HUIQI_REMINDERS__LEADER_POLL_SECONDS": "0.2",
        "HUIQI_REMINDERS__QUIET_HOURS": "false",  # real processes run on the real clock
    }


class Process:
    """A ``huiqi`` process whose output goes to a file the test can watch."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.handle = log.open("w")
        self.popen = subprocess.Popen(
            [huiqi_executable(), *args], cwd=ROOT, env=env, stdout=self.handle,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        code = self.popen.wait(WAIT)
        self.handle.close()
        return code


def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for another process to reach a state (polling), failing after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def county(engine: Engine, book: RuleBook) -> Engine:
    load(engine, book)
    return engine


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop(signal.SIGKILL)


def daemon(engine: Engine, sink: MailSink, log: Path, started: list[Process]) -> Process:
    process = Process(["run"], environment(engine, sink.port), log)
    started.append(process)
    return process


def sweep_more(engine: Engine, book: RuleBook) -> None:
    """A new party secretary at 102: one more digest is due (two new rows)."""
    add_people(engine, book, ("吴书记", "wu@example.org", "", "102", "party_secretary", "", ""))
    run_sweep(engine, book, settings_for(url_of_engine(engine)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_refuses_a_second_daemon_and_a_restart_never_resends(
    county: Engine, book: RuleBook, tmp_path: Path, processes: list[Process]
) -> None:
    run_sweep(county, book, settings_for(url_of_engine(county)))
    with MailSink() as sink:
        first = daemon(county, sink, tmp_path / "a.log", processes)
        until(lambda: len(sink.envelopes) == 3, "the first daemon to send the digests")
        second = subprocess.run(
            [huiqi_executable(), "run"], cwd=ROOT, env=environment(county, sink.port),
            capture_output=True, text=True, timeout=WAIT,
        )  # fmt: skip
        assert second.returncode == 1
        assert second.stderr.startswith("另一个 huiqi run 已在 ")
        assert "上运行：SQLite 只允许一个守护进程（多个请用 PostgreSQL）" in second.stderr
        english = subprocess.run(
            [huiqi_executable(), "--lang", "en", "run"], cwd=ROOT,
            env=environment(county, sink.port), capture_output=True, text=True, timeout=WAIT,
        )  # fmt: skip
        assert "already running" in english.stderr
        assert "SQLite allows one daemon" in english.stderr
        assert first.stop() == 0  # SIGTERM: a clean exit
        restarted = daemon(county, sink, tmp_path / "b.log", processes)
        until(lambda: "leader" in restarted.output, "the restarted daemon to lead")
        sweep_more(county, book)
        until(lambda: len(sink.envelopes) == 4, "the new digest")
        assert restarted.stop() == 0
    assert len({m["Message-ID"] for m in sink.messages}) == 4
    assert {r.status for r in rows(county)} == {"sent"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_daemons_on_postgresql_one_sends_and_the_other_takes_over_when_it_dies(
    county: Engine, book: RuleBook, tmp_path: Path, processes: list[Process]
) -> None:
    with MailSink() as sink:
        leader = daemon(county, sink, tmp_path / "a.log", processes)
        until(lambda: "leader: running" in leader.output, "the first daemon to lead")
        standby = daemon(county, sink, tmp_path / "b.log", processes)
        until(lambda: "waiting to take over" in standby.output, "the second daemon to wait")
        run_sweep(county, book, settings_for(url_of_engine(county)))
        until(lambda: len(sink.envelopes) == 3, "the leader to send the digests")
        assert leader.stop(signal.SIGKILL) == -signal.SIGKILL
        until(lambda: "took over" in standby.output, "the second daemon to take over")
        sweep_more(county, book)
        until(lambda: len(sink.envelopes) == 4, "the new leader to send the new digest")
        assert standby.stop() == 0
    assert len({m["Message-ID"] for m in sink.messages}) == 4
    waiting = standby.output.split("took over")[0]
    assert "leader: running" not in waiting
    assert "dispatch:" not in waiting  # the standby sent nothing while it waited


def test_a_dispatcher_killed_after_the_server_accepted_resends_once_with_the_same_ids(
    county: Engine, book: RuleBook, tmp_path: Path
) -> None:
    killed: list[int] = []

    def kill_the_dispatcher() -> None:  # the client said QUIT: every mail was accepted
        os.kill(process.popen.pid, signal.SIGKILL)
        killed.append(process.popen.pid)

    sink = MailSink(on_quit=kill_the_dispatcher)
    with sink:
        env = environment(county, sink.port)
        process = Process(["remind", "--as-of", "2026-10-16"], env, tmp_path / "remind.log")
        assert process.popen.wait(WAIT) == -signal.SIGKILL, process.output
        assert killed and len(sink.envelopes) == 3  # all accepted, none recorded as sent
        assert {r.status for r in rows(county)} == {"pending"}
        settings = settings_for(url_of_engine(county), sink.port, quiet_hours=False)  # real clock
        after_lease = datetime.now(UTC) + timedelta(seconds=settings.reminders.lease_seconds + 1)
        assert run_dispatch(county, book, settings, after_lease).sent == 3
    ids = [m["Message-ID"] for m in sink.messages]
    assert len(ids) == 6
    assert sorted(ids[:3]) == sorted(ids[3:])
    assert {r.status for r in rows(county)} == {"sent"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sweep_missed_while_the_daemon_was_down_runs_once_when_it_is_back(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, "
                 "next_run_time FLOAT, job_state BLOB)")
        )  # fmt: skip
        missed = DAY.astimezone(UTC)
        connection.execute(
            text("INSERT INTO apscheduler_jobs VALUES (:id, :at, :state)"),
            {"id": SWEEP_JOB, "at": missed.timestamp(), "state": b""},
        )
    grace = 18 * 3600
    back_in_the_evening = missed + timedelta(hours=10)
    assert missed_run(engine, SWEEP_JOB, back_in_the_evening, grace) == {"next_run_time": missed}
    back_two_days_later = missed + timedelta(days=2)
    assert missed_run(engine, SWEEP_JOB, back_two_days_later, grace) == {}
    assert missed_run(engine, "unknown", back_in_the_evening, grace) == {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_daemon_back_after_missing_the_morning_sweep_runs_it_once(
    county: Engine, tmp_path: Path, processes: list[Process]
) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.base import STATE_STOPPED

    class Yesterday(BackgroundScheduler):
        def _process_jobs(self) -> float | None:  # run nothing, not even on shutdown
            return None if self.state == STATE_STOPPED else super()._process_jobs()

    before = Yesterday(jobstores={"default": SQLAlchemyJobStore(engine=county)})
    before.start(paused=True)  # the daemon of yesterday, whose next sweep was due 2 hours ago
    before.add_job(
        "scheduler.reminders.daemon:sweep_job", "cron", hour=9, id=SWEEP_JOB, args=[None],
        next_run_time=datetime.now(UTC) - timedelta(hours=2),
    )  # fmt: skip
    before.shutdown()
    with MailSink() as sink:
        back = daemon(county, sink, tmp_path / "a.log", processes)
        until(lambda: "reminders written" in back.output, "the missed sweep to run")
        assert back.stop() == 0
        again = daemon(county, sink, tmp_path / "b.log", processes)
        until(lambda: "leader" in again.output, "the restarted daemon to lead")
        assert again.stop() == 0
    assert back.output.count("reminders written") == 1
    assert "reminders written" not in again.output


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_one_daemon_per_schema_holds_the_postgresql_leader_lock(engine: Engine) -> None:
    first, second = PostgresLeadership(engine), PostgresLeadership(engine)
    elsewhere = create_engine(str(POSTGRES))  # the public schema: another deployment
    other = PostgresLeadership(elsewhere)
    try:
        assert (first.acquire(), second.acquire(), other.acquire()) == (True, False, True)
        assert first.alive()
        first.release()  # as when the leader dies: its connection is gone
        assert second.acquire()
    finally:
        for leadership in (first, second, other):
            leadership.release()
        elsewhere.dispose()
