"""The daemon's daily backup and its job log: once a day whoever triggers it, failures retried,
interrupted runs ended, old backups pruned."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from scheduler.config import Settings
from scheduler.store import daily_backup, jobs
from scheduler.store.database import make_engine, transaction
from scheduler.store.models_operations import JobRun
from tests.conftest import BUNDLED_RULES, ROOT
from tests.countyfacts import SHANGHAI

MORNING = datetime(2026, 12, 1, 2, 30, tzinfo=SHANGHAI)


def settings_of(engine: Engine, folder: Path, keep_days: int = 14) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        rules=[str(BUNDLED_RULES)],
        base_dir=str(ROOT),
        backup={"folder": str(folder), "at": "02:00", "keep_days": keep_days},  # type: ignore[arg-type]
    )


def job_rows(engine: Engine) -> list[tuple[str, date, str, int]]:
    with transaction(engine) as session:
        rows = session.scalars(select(JobRun).order_by(JobRun.job, JobRun.day))
        return [(row.job, row.day, row.status, row.runs) for row in rows]


def test_the_daily_backup_runs_once_a_day_after_its_hour(engine: Engine, tmp_path: Path) -> None:
    settings = settings_of(engine, tmp_path / "backups")
    early = daily_backup.run_daily(engine, settings, MORNING.replace(hour=1))
    assert early.skipped == "not before 02:00"
    made = daily_backup.run_daily(engine, settings, MORNING).made
    suffix = "db" if engine.dialect.name == "sqlite" else "dump"
    assert made is not None and made.path == tmp_path / "backups" / f"huiqi-2026-12-01.{suffix}"
    second = make_engine(engine.url.render_as_string(hide_password=False))  # another daemon
    again = daily_backup.run_daily(second, settings, MORNING + timedelta(hours=20))
    second.dispose()
    assert again.skipped == "the backup of 2026-12-01 is done or under way"
    assert job_rows(engine) == [("backup", date(2026, 12, 1), "ok", 1)]
    with transaction(engine) as session:
        assert jobs.latest(session, "backup").detail == f"{made.path} ({made.size} bytes)"  # type: ignore[union-attr]


def test_a_failed_backup_is_logged_and_tried_again(engine: Engine, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    settings = settings_of(engine, blocked)
    failed = daily_backup.run_daily(engine, settings, MORNING)
    assert failed.error is not None and failed.made is None
    with transaction(engine) as session:
        row = jobs.latest(session, "backup")
        assert row is not None and row.status == "failed" and row.detail == failed.error
    blocked.unlink()
    retried = daily_backup.run_daily(engine, settings, MORNING + timedelta(minutes=5))
    assert retried.made is not None
    assert job_rows(engine) == [("backup", date(2026, 12, 1), "ok", 2)]


def test_a_run_left_running_by_a_dead_daemon_is_ended_and_redone(
    engine: Engine, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        assert jobs.claim(session, "backup", MORNING.date(), MORNING)
    settings = settings_of(engine, tmp_path / "backups")
    assert daily_backup.run_daily(engine, settings, MORNING).skipped is not None
    with transaction(engine) as session:
        assert jobs.interrupted(session, MORNING + timedelta(minutes=1)) == 1
        assert jobs.latest(session, "backup").detail == jobs.INTERRUPTED  # type: ignore[union-attr]
    assert daily_backup.run_daily(engine, settings, MORNING + timedelta(minutes=2)).made is not None


def test_old_daily_backups_are_pruned_and_other_files_kept(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    for name in ("huiqi-2026-11-10.db", "huiqi-2026-11-17.dump", "huiqi-2026-11-30.db",
                 "notes.txt", "huiqi-latest.db"):  # fmt: skip
        (folder / name).write_bytes(b"x")
    outcome = daily_backup.run_daily(engine, settings_of(engine, folder, keep_days=14), MORNING)
    assert sorted(path.name for path in outcome.removed) == ["huiqi-2026-11-10.db"]
    left = sorted(path.name for path in folder.iterdir())
    suffix = "db" if engine.dialect.name == "sqlite" else "dump"
    assert left == sorted(["huiqi-2026-11-17.dump", "huiqi-2026-11-30.db", "notes.txt",
                           "huiqi-latest.db", f"huiqi-2026-12-01.{suffix}"])  # fmt: skip


def test_keep_days_zero_keeps_every_backup(tmp_path: Path) -> None:
    (tmp_path / "huiqi-2020-01-01.db").write_bytes(b"x")
    assert daily_backup.prune(tmp_path, date(2026, 12, 1), 0) == ()
    assert (tmp_path / "huiqi-2020-01-01.db").exists()


def test_runs_of_frequent_jobs_are_counted_per_day(engine: Engine) -> None:
    with transaction(engine) as session:
        for minute in range(3):
            start = MORNING + timedelta(minutes=minute)
            jobs.note_run(
                session, "dispatch", MORNING.date(), start, start + timedelta(seconds=minute)
            )
    with transaction(engine) as session:
        (row,) = jobs.last_runs(session)
        assert (row.job, row.runs, row.seconds, row.status) == ("dispatch", 3, 2.0, "ok")
