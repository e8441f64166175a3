"""``huiqi remind``, ``huiqi outbox``, ``huiqi doctor`` and ``huiqi run`` end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from scheduler.core.rules import RuleBook
from tests.conftest import HuiqiRunner
from tests.mailsink import free_port
from tests.phoneworld import mail_to, record_link
from tests.remindworld import load

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def county(engine: Engine, book: RuleBook) -> Engine:
    load(engine, book)
    return engine


def test_a_dry_run_prints_what_the_sweep_would_write_and_writes_nothing(
    county: Engine, huiqi: HuiqiRunner
) -> None:
    result = huiqi("remind", "--as-of", "2026-10-16", "--dry-run")
    lines = result.stdout.splitlines()
    assert lines[0] == "2026年10月16日：将写入 6 条提醒（演练，未写入）"
    assert "township-hearing" in result.stdout
    assert "截止前14天" in result.stdout
    assert "陈书记 <chen@example.org>" in result.stdout
    assert (
        huiqi("outbox", "--since", "2026-10-16").stdout.strip() == "（发件箱中没有符合条件的提醒）"
    )


def test_remind_sweeps_and_mails_the_digests_into_the_folder(
    county: Engine, huiqi: HuiqiRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "mail"
    env = {"HUIQI_MAIL__FOLDER": str(folder)}
    result = huiqi("remind", "--as-of", "2026-10-16", env=env)
    assert result.stdout.splitlines() == [
        "2026年10月16日：写入 6 条提醒",
        "发送：3 封已发送，0 封待重试，0 封失败，0 封无法投递",
        f"邮件在 {folder}",
    ]
    assert len(list(folder.glob("reminder.20261016.*@huiqi.eml"))) == 3
    listing = huiqi("outbox", "--status", "sent", "--since", "2026-10-16").stdout
    assert listing.count(" 已发送 ") == 6
    assert "截止前14天" in listing
    assert "<reminder.20261016." in listing


def test_doctor_says_what_is_wrong_and_exits_1(county: Engine, huiqi: HuiqiRunner) -> None:
    port = free_port()
    env = {"HUIQI_MAIL__TRANSPORT": "smtp", "HUIQI_MAIL__PORT": str(port)}
    result = huiqi("doctor", env=env, check=False)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "✓ 规则：xihe-fulian 中共 12 条规则"
    assert lines[1].startswith("✓ 数据库：sqlite:///")
    assert lines[2].startswith(f"✗ 邮件：SMTP 127.0.0.1:{port}：")
    assert "Connection refused" in lines[2]  # the operating system's words
    assert "✓ 人员：每位职务人员都有邮箱地址" in lines
    assert "✓ 时钟：SQLite：数据库与本机共用时钟" in lines
    english = huiqi("--lang", "en", "doctor", env=env, check=False)
    assert english.returncode == 1
    lines = english.stdout.splitlines()
    assert lines[0] == "✓ rules: 12 rules in xihe-fulian"
    assert lines[1].startswith("✓ database: sqlite:///")
    assert lines[2].startswith(f"✗ mail: SMTP 127.0.0.1:{port}: ")
    assert "✓ people: every role holder has a mail address" in lines
    assert "✓ clock: SQLite: the database shares this machine's clock" in lines


def test_the_daemon_refuses_an_uninitialised_database(huiqi: HuiqiRunner) -> None:
    result = huiqi("run", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "数据库尚未初始化：请先运行 huiqi init"
    english = huiqi("--lang", "en", "run", check=False)
    assert english.stderr.strip() == "the database is not initialised: run 'huiqi init' first"


def test_remind_refuses_to_start_without_the_secret_key_and_links_revoke_works(
    county: Engine, huiqi: HuiqiRunner, tmp_path: Path
) -> None:
    env = {"HUIQI_MAIL__FOLDER": str(tmp_path / "mail"), "HUIQI_SECRET_KEY": ""}
    refused = huiqi("remind", "--as-of", "2026-10-16", env=env, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith("未设置 HUIQI_SECRET_KEY（或不足 16 个字符）：")
    english = huiqi("--lang", "en", "remind", "--as-of", "2026-10-16", env=env, check=False)
    assert english.stderr.startswith("HUIQI_SECRET_KEY is not set (or shorter than 16 characters)")
    assert huiqi("outbox").stdout.strip() == "（发件箱中没有符合条件的提醒）"  # nothing written
    doctor = huiqi("doctor", env=env, check=False)
    assert doctor.returncode == 1
    assert "✗ 登记链接：未设置 HUIQI_SECRET_KEY（或不足 16 个字符）：" in doctor.stdout
    doctor = huiqi("--lang", "en", "doctor", env=env, check=False)
    assert "✗ links: HUIQI_SECRET_KEY is not set (or shorter than 16 characters)" in doctor.stdout
    env.pop("HUIQI_SECRET_KEY")
    huiqi("remind", "--as-of", "2026-10-16", env=env)
    assert record_link(mail_to(tmp_path / "mail", "chen@example.org")).startswith("/r/")
    revoked = huiqi("links", "revoke", "chen@example.org", "--by", "县妇联")
    assert revoked.stdout.strip() == "已撤销陈书记的 1 个提醒登记链接"
    unknown = huiqi("links", "revoke", "nobody@example.org", check=False)
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "links revoke，PERSON：没有这个人员“nobody@example.org”\n",
    )
    english = huiqi("--lang", "en", "links", "revoke", "nobody@example.org", check=False)
    assert english.stderr == "links revoke: PERSON: unknown person 'nobody@example.org'\n"
