"""``huiqi doctor``'s checks of the configuration, said in either language."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from scheduler.config import ChatSettings, Settings
from scheduler.reminders.doctor import Finding, examine
from tests.conftest import BUNDLED_RULES, ROOT


def said(findings: list[Finding], topic: str) -> tuple[str, str]:
    found = next(item for item in findings if item.topic == topic)
    return found.said("zh"), str(found)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_findings_are_said_in_chinese_and_english(engine: Engine, tmp_path: Path) -> None:
    chat = ChatSettings(unit="101", kind="wecom", url_env="HUIQI_TEST_UNSET_CHAT_URL")
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        rules=[str(BUNDLED_RULES)],
        base_dir=str(ROOT),
        mail={"transport": "folder", "folder": str(tmp_path / "mail")},  # type: ignore[arg-type]
        reminders={"chats": [chat]},  # type: ignore[arg-type]
    )
    findings = examine(settings, date(2026, 10, 16))
    assert said(findings, "mail") == (
        f"✓ 邮件：文件夹投递：邮件写入 {tmp_path / 'mail'}",
        f"✓ mail: folder transport: mails are written to {tmp_path / 'mail'}",
    )
    assert said(findings, "chat") == (
        "✗ 群聊：单位 101（wecom）：未设置 HUIQI_TEST_UNSET_CHAT_URL",
        "✗ chat: unit 101 (wecom): HUIQI_TEST_UNSET_CHAT_URL not set",
    )
    assert said(findings, "links") == (
        "✓ 登记链接：提醒中的登记链接已开启，用 HUIQI_SECRET_KEY 签名，有效期 14 天",
        "✓ links: record links on, signed with HUIQI_SECRET_KEY, 14 days",
    )
    off = settings.model_copy(
        update={"reminders": settings.reminders.model_copy(update={"links": False})}
    )
    assert said(examine(off, date(2026, 10, 16)), "links") == (
        "✓ 登记链接：提醒中的登记链接已关闭",
        "✓ links: record links in reminders are off",
    )


def test_a_missing_ruleset_and_database_are_said_in_both_languages(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'none.db'}",
        rules=[str(tmp_path / "missing.yaml")],
        base_dir=str(ROOT),
    )
    findings = examine(settings, date(2026, 10, 16))
    assert [item.topic for item in findings[:4]] == ["rules", "database", "mail", "workdays"]
    missing = tmp_path / "missing.yaml"
    assert said(findings, "rules") == (
        f"✗ 规则：{missing} 第1行：无法读取：No such file or directory",
        f"✗ rules: {missing}:1: cannot read: No such file or directory",
    )
    assert said(findings, "database") == (
        "✗ 数据库：数据库尚未初始化：请先运行 huiqi init",
        "✗ database: the database is not initialised: run 'huiqi init' first",
    )
