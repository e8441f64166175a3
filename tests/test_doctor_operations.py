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
from scheduler.store import daily_backup, jobs
from scheduler.store.database import alembic_config, make_engine, transaction
from tests.conftest import BUNDLED_RULES, ROOT, SCHEMA_HEAD, HuiqiRunner
from tests.countyfacts import SHANGHAI
from tests.mailsink import MailSink


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
        f"revision 0006, this huiqi has {SCHEMA_HEAD}: run 'huiqi init'",
    )
    assert old.said("zh") == (
        f"✗ 数据库结构：结构版本为 0006，此 huiqi 需要 {SCHEMA_HEAD}：请运行 huiqi init 迁移"
    )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    assert str(finding(examine(settings_of(engine, tmp_path), now()), "schema")) == (
        f"✓ schema: revision {SCHEMA_HEAD} (the newest)"
    )
    newest = finding(examine(settings_of(engine, tmp_path), now()), "schema")
    assert newest.said("zh") == f"✓ 数据库结构：结构版本 {SCHEMA_HEAD}（最新）"
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    newer = finding(examine(settings_of(engine, tmp_path), now()), "schema")
    assert (newer.level, newer.detail) == (
        "error",
        "revision 9999 is newer than this huiqi: upgrade it",
    )
    assert newer.said("zh") == "✗ 数据库结构：结构版本 9999 比此 huiqi 的新：请升级 huiqi"
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
    assert stale.said("zh").startswith(f"! 备份：最新 {made.path}（")
    assert stale.said("zh").endswith("字节），共保留 1 份：已是 3 天前的，huiqi run 是否在运行？")
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
    assert failed.said("zh") == f"✗ 备份：{tomorrow.date()} 的备份失败：disk full"
    off = settings_of(engine, tmp_path).model_copy(
        update={"backup": settings.backup.model_copy(update={"folder": None})}
    )
    assert (
        str(finding(examine(off, now()), "backup"))
        == "! backup: backup.folder is not set: no daily backup"
    )
    assert finding(examine(off, now()), "backup").said("zh") == (
        "! 备份：未设置 backup.folder：没有每日备份"
    )


def test_doctor_checks_the_free_disk_space_of_each_file_system(
    engine: Engine, tmp_path: Path
) -> None:
    disks = [item for item in examine(settings_of(engine, tmp_path), now()) if item.topic == "disk"]
    assert len(disks) == 1  # the database's folder and the backups' share one file system here
    assert disks[0].level == "ok" and " GiB free of " in disks[0].detail
    assert disks[0].said("zh").startswith("✓ 磁盘：/")
    assert "：共 " in disks[0].said("zh") and " GiB，可用 " in disks[0].said("zh")


def test_doctor_compares_the_clock_with_the_database_server(engine: Engine, tmp_path: Path) -> None:
    settings = settings_of(engine, tmp_path)
    clock = finding(examine(settings, now()), "clock")
    if engine.dialect.name == "sqlite":
        assert str(clock) == "✓ clock: SQLite: the database shares this machine's clock"
        assert clock.said("zh") == "✓ 时钟：SQLite：数据库与本机共用时钟"
        return
    assert clock.level == "ok" and clock.detail.startswith("the database server's clock is ")
    ahead = finding(examine(settings, now() + timedelta(minutes=2)), "clock")
    assert ahead.level == "warning"
    assert "s behind: synchronise both with NTP" in ahead.detail
    assert ahead.said("zh").startswith("! 时钟：数据库服务器的时钟慢 ")
    assert ahead.said("zh").endswith(" 秒：请用 NTP 同步两者的时钟")
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
    message_id = sink.messages[0]["Message-ID"]
    assert sent.said("zh") == (
        f"✓ 测试邮件：SMTP 127.0.0.1:{sink.port} 已接收发给 it@example.org 的邮件（{message_id}）"
    )
    assert refused.said("zh").startswith("✗ 测试邮件：收件人被拒收：nobody@example.org: 550")


def test_the_doctor_command_sends_the_test_mail(county: HuiqiRunner) -> None:
    with MailSink() as sink:
        env = {"HUIQI_MAIL__TRANSPORT": "smtp", "HUIQI_MAIL__PORT": str(sink.port)}
        result = county("doctor", "--send-test", "it@example.org", env=env, check=False)
        english = county("--lang", "en", "doctor", "--send-test", "it@example.org", env=env,
                         check=False)  # fmt: skip
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"✓ 测试邮件：SMTP 127.0.0.1:{sink.port} 已接收") for line in lines)
    assert f"✓ 数据库结构：结构版本 {SCHEMA_HEAD}（最新）" in lines
    lines = english.stdout.splitlines()
    assert any(line.startswith("✓ send-test: accepted by SMTP") for line in lines)
    assert f"✓ schema: revision {SCHEMA_HEAD} (the newest)" in lines
    assert len(sink.envelopes) == 2
