"""``huiqi trail``: every change any command makes is in the trail once, with who made it (``--by``,
``HUIQI_ACTOR`` or the OS user), listed as JSON, CSV and a table in words. Through the installed
command, on SQLite and PostgreSQL."""

from __future__ import annotations

import getpass
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EVENT_HEADER, HuiqiRunner, write_csv

EVENTS = [
    ("101", "hearing", "2021-02-02", "", "听取汇报", "", "", "h1"),
    ("10101", "funding", "2021-03-01", "", "拨款", "", "500", "f1"),
]
FIELDS = ["at", "actor", "action", "unit", "subject", "before", "after"]


def entries(huiqi: HuiqiRunner, *options: str) -> list[dict[str, Any]]:
    return json.loads(huiqi("trail", "--format", "json", *options).stdout)


@pytest.fixture
def changed(monkeypatch: pytest.MonkeyPatch, county: HuiqiRunner, tmp_path: Path) -> HuiqiRunner:
    """The county, then one of each kind of change, by several actors."""
    monkeypatch.delenv("HUIQI_ACTOR", raising=False)
    run = county
    run(
        "events",
        "import",
        str(write_csv(tmp_path / "e1.csv", EVENT_HEADER, EVENTS)),
        "--by",
        "刘主席",
    )
    replaced = [(*EVENTS[0][:2], "2021-02-03", *EVENTS[0][3:])]
    path = write_csv(tmp_path / "e2.csv", EVENT_HEADER, replaced)
    run("events", "import", str(path), env={"HUIQI_ACTOR": "周主席"})
    run(
        "events",
        "add",
        "--unit",
        "101",
        "--kinds",
        "research",
        "--date",
        "2021-04-01",
        "--title",
        "调研",
    )
    run("events", "void", "3", "--reason", "错录", "--by", "刘主席")
    run("waive", "--unit", "102", "--rule", "township-hearing", "--period", "2021-B1",
        "--reason", "乡镇合并", "--by", "县妇联")  # fmt: skip
    run("waivers", "request", "--unit", "101", "--rule", "township-research", "--period",
        "2021-B2", "--reason", "防汛", "--by", "刘主席")  # fmt: skip
    own = run("waivers", "approve", "1", "--by", "刘主席", check=False)
    assert own.returncode == 1 and "不能审批自己提交的免于考核申请" in own.stderr
    run("waivers", "approve", "1", "--by", "县妇联", "--comment", "同意")
    run("meetings", "plan", "--unit", "101", "--kinds", "hearing", "--start", "2021-05-06 09:00",
        "--end", "10:00", "--title", "党委会", "--by", "刘主席")  # fmt: skip
    run("meetings", "update", "1", "--location", "三楼会议室", "--by", "刘主席")
    run("meetings", "held", "1", "--attended", "fulian_chair", "--by", "刘主席")
    run("meetings", "plan", "--unit", "101", "--kinds", "study", "--start", "2021-06-01 09:00",
        "--end", "10:00", "--title", "学习")  # fmt: skip
    run("meetings", "cancel", "2", "--reason", "改期")
    run(
        "users",
        "add",
        "liu",
        "--role",
        "clerk",
        "--unit",
        "101",
        env={"HUIQI_PASSWORD": "pw-123456"},
    )
    run("tokens", "create", "liu", "--name", "sync")
    run("users", "disable", "liu")
    run("feeds", "create", "--unit", "101")
    run("feeds", "revoke", "1")
    return run


def test_every_command_that_changes_data_writes_the_trail_once(changed: HuiqiRunner) -> None:
    found = entries(changed)
    assert all(list(entry) == FIELDS for entry in found)
    assert Counter(entry["action"] for entry in found) == {
        "import.units": 1, "unit.add": 4, "import.people": 1, "person.add": 4, "role.add": 4,
        "import.events": 2, "event.add": 4, "event.replace": 1, "event.void": 1,
        "waiver.grant": 1, "waiver.request": 1, "waiver.approve": 1,
        "meeting.plan": 2, "meeting.update": 1, "meeting.held": 1, "meeting.cancel": 1,
        "user.add": 1, "token.create": 1, "user.disable": 1, "feed.create": 1, "feed.revoke": 1,
    }  # fmt: skip
    by_action = {entry["action"]: entry for entry in found}
    me = getpass.getuser()
    assert by_action["import.units"]["actor"] == me and by_action["user.add"]["actor"] == me
    assert by_action["event.replace"]["actor"] == "周主席"
    assert by_action["event.replace"]["before"] == {"date": "2021-02-02"}
    assert by_action["event.replace"]["after"] == {"date": "2021-02-03", "replaces": "#1"}
    assert by_action["waiver.approve"]["actor"] == "县妇联"
    assert by_action["import.events"]["after"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert [e["unit"] for e in found if e["action"] == "import.events"] == ["101", "101"]
    assert found == sorted(found, key=lambda entry: entry["at"])


def test_the_trail_is_listed_by_unit_subtree_and_days(changed: HuiqiRunner) -> None:
    village = entries(changed, "--unit", "10101")
    assert {e["unit"] for e in village} == {"10101"}
    township = entries(changed, "--unit", "101", "--subtree")
    assert {e["unit"] for e in township} == {"101", "10101"}
    assert entries(changed, "--to", "2000-01-01") == []
    bad = changed("trail", "--subtree", check=False)
    assert bad.returncode == 1 and bad.stderr.strip() == "trail，--subtree：需要同时给出 --unit"
    english = changed("--lang", "en", "trail", "--subtree", check=False)
    assert english.stderr.strip() == "trail: --subtree: needs --unit"


def test_the_table_and_csv_say_the_trail_in_words(changed: HuiqiRunner) -> None:
    table = changed("trail", "--unit", "101").stdout
    assert "更正事件" in table and "日期：2021-02-02" in table and "None" not in table
    raw = changed("trail", "--format", "csv", "--unit", "101").stdout
    assert raw.startswith("\ufeff时间,操作人,操作,单位代码,对象,变更前,变更后")
    assert "录入事件" in raw and "event.add" not in raw
