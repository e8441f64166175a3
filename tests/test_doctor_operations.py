"""``huiqi doctor``'s service checks: schema revision, backups, disk, clock, a real test mail."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Engine, text

from scheduler.config import Settings
from scheduler.reminders.doctor import Finding
from scheduler.reminders.doctor_operations import examine, send_test
from scheduler.store import daily_backup, jobs, schema
from scheduler.store.database import alembic_config, make_engine, transaction
from tests.conftest import BUNDLED_RULES, ROOT, HuiqiRunner
from tests.countyfacts import SHANGHAI
from tests.mailsink import MailSink

HEAD = schema.code_heads()[0]  # the newest revision of this code


def settings_of(engine: Engine, tmp_path: Path, **values: Any) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        rules=[str(BUNDLED_RULES)],
        base_dir=str(ROOT),
        backup={"folder": str(tmp_path / "backups"), "at": "00:00"},  # type: ignore[arg-type]
        **values,
    )


def finding(findings: list[Finding], topic: str) -> Finding:
    return next(item for item in findings if item.topic == topic)


def now() -> datetime:
    return datetime.now(SHANGHAI)


def test_doctor_reports_the_schema_revision(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    old = finding(examine(settings_of(engine, tmp_path), now()), "schema")
    assert (old.level, old.detail) == (
        "error",
        f"revision 0006, this huiqi has {HEAD}: run 'huiqi init'",
    )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    assert str(finding(examine(settings_of(engine, tmp_path), now()), "schema")) == (
        f"✓ schema: revision {HEAD} (the newest)"
    )
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    newer = finding(examine(settings_of(engine, tmp_path), now()), "schema")
    assert (newer.level, newer.detail) == (
        "error",
        "revision 9999 is newer than this huiqi: upgrade it",
    )
    engine.dispose()


def test_doctor_follows_the_daily_backups(engine: Engine, tmp_path: Path) -> None:
    settings = settings_of(engine, tmp_path)
    assert finding(examine(settings, now()), "backup").level == "warning"
    made = daily_backup.run_daily(engine, settings, now()).made
    assert made is not None
    fresh = finding(examine(settings, now()), "backup")
    assert fresh.level == "ok" and fresh.detail.startswith(f"newest {made.path} (")
    three_days = (now() - timedelta(days=3)).timestamp()
    os.utime(made.path, (three_days, three_days))
    stale = finding(examine(settings, now()), "backup")
    assert stale.level == "warning" and "3 days old, is 'huiqi run' running?" in stale.detail
    tomorrow = now() + timedelta(days=1)
    with transaction(engine) as session:
        jobs.claim(session, daily_backup.JOB, tomorrow.date(), tomorrow)
        jobs.finish(
            session, daily_backup.JOB, tomorrow.date(), tomorrow, tomorrow, False, "disk full"
        )
    failed = finding(examine(settings, now()), "backup")
    assert (failed.level, failed.detail) == (
        "error",
        f"the backup of {tomorrow.date()} failed: disk full",
    )
    off = settings_of(engine, tmp_path).model_copy(
        update={"backup": settings.backup.model_copy(update={"folder": None})}
    )
    assert (
        str(finding(examine(off, now()), "backup"))
        == "! backup: backup.folder is not set: no daily backup"
    )


def test_doctor_checks_the_free_disk_space_of_each_file_system(
    engine: Engine, tmp_path: Path
) -> None:
    disks = [item for item in examine(settings_of(engine, tmp_path), now()) if item.topic == "disk"]
    assert len(disks) == 1  # the database's folder and the backups' share one file system here
    assert disks[0].level == "ok" and " GiB free of " in disks[0].detail


def test_doctor_compares_the_clock_with_the_database_server(engine: Engine, tmp_path: Path) -> None:
    settings = settings_of(engine, tmp_path)
    clock = finding(examine(settings, now()), "clock")
    if engine.dialect.name == "sqlite":
        assert str(clock) == "✓ clock: SQLite: the database shares this machine's clock"
        return
    assert clock.level == "ok" and clock.detail.startswith("the database server's clock is ")
    ahead = finding(examine(settings, now() + timedelta(minutes=2)), "clock")
    assert ahead.level == "warning"
    assert "s behind: synchronise both with NTP" in ahead.detail
    assert 115 < float(ahead.detail.split(" is ")[1].split(" s ")[0]) < 125


def test_send_test_delivers_a_real_mail_through_smtp(engine: Engine, tmp_path: Path) -> None:
    with MailSink(refuse={"nobody@example.org"}) as sink:
        settings = settings_of(engine, tmp_path, mail={"transport": "smtp", "port": sink.port})
        sent = send_test(settings, "it@example.org", now())
        refused = send_test(settings, "nobody@example.org", now())
    assert sent.level == "ok" and sent.detail.startswith(
        f"accepted by SMTP 127.0.0.1:{sink.port} for it@example.org"
    )
    assert [envelope.rcpt_tos for envelope in sink.envelopes] == [["it@example.org"]]
    assert sink.messages[0]["Subject"] == "huiqi 测试邮件 / test mail"
    assert refused.level == "error" and "nobody@example.org: 550" in refused.detail


def test_the_doctor_command_sends_the_test_mail(county: HuiqiRunner) -> None:
    with MailSink() as sink:
        env = {"HUIQI_MAIL__TRANSPORT": "smtp", "HUIQI_MAIL__PORT": str(sink.port)}
        result = county("doctor", "--send-test", "it@example.org", env=env, check=False)
    lines = result.stdout.splitlines()
    assert any(line.startswith("✓ send-test: accepted by SMTP") for line in lines)
    assert any(line.startswith(f"✓ schema: revision {HEAD}") for line in lines)
    assert len(sink.envelopes) == 1
