"""``huiqi waive`` and ``huiqi waivers list|request|approve|refuse`` through the installed
command, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from tests.conftest import HuiqiRunner

TARGET = ["--unit", "101", "--rule", "township-hearing", "--period", "2021-B1"]


def hearing_b1(huiqi: HuiqiRunner) -> str:
    options = ["--unit", "101", "--rule", "township-hearing", "--format", "json"]
    rows = json.loads(huiqi("status", "--as-of", "2021-05-10", *options).stdout)
    return next(row["status"] for row in rows if row["period"]["label"] == "2021-B1")


def test_a_request_waits_for_a_decision_a_level_above(county: HuiqiRunner) -> None:
    asked = county("waivers", "request", *TARGET, "--reason", "防汛值班", "--by", "刘主席")
    assert asked.stdout.strip() == "免于考核申请 1：101 township-hearing 2021-B1 待审批"
    [pending] = json.loads(county("waivers", "list", "--format", "json").stdout)
    assert (pending["status"], pending["requested_by"], pending["reason"]) == (
        "pending", "刘主席", "防汛值班")  # fmt: skip
    assert hearing_b1(county) == "missed"
    county("users", "add", "liu", "--role", "clerk", "--unit", "101",
           env={"HUIQI_PASSWORD": "pw-123456"})  # fmt: skip
    township = county("waivers", "approve", "1", "--by", "liu", check=False)
    assert township.returncode == 1
    assert township.stderr.startswith("waivers approve，ID：101的免于考核由其上级审批")
    county("waivers", "refuse", "1", "--comment", "汛期已过", "--by", "县妇联")
    assert hearing_b1(county) == "missed"
    county("waivers", "request", *TARGET, "--reason", "防汛值班（补）", "--by", "刘主席")
    done = county("waivers", "approve", "2", "--by", "县妇联", env={"HUIQI_ACTOR": "ignored"})
    assert done.stdout.strip() == "免于考核申请 2（township-hearing 2021-B1）：已批准"
    assert hearing_b1(county) == "exempt"
    decided = json.loads(county("waivers", "list", "--status", "all", "--format", "json").stdout)
    assert [(r["id"], r["status"], r["decided_by"]) for r in decided] == [
        (2, "approved", "县妇联"), (1, "refused", "县妇联")]  # fmt: skip


def test_bad_waiver_commands_say_what_is_wrong_on_one_line(county: HuiqiRunner) -> None:
    missing = county("--lang", "en", "waivers", "approve", "9", "--by", "县妇联", check=False)
    assert (missing.returncode, missing.stderr) == (1, "waivers approve: ID: no waiver request 9\n")
    waived = county("waive", *TARGET, "--reason", "乡镇合并", "--by", "县妇联")
    assert waived.stdout == "101 township-hearing 2021-B1：已豁免\n"
    other = ["--unit", "101", "--rule", "township-hearing", "--period", "2021-B2"]
    english = county("--lang", "en", "waive", *other, "--reason", "x", "--by", "县妇联")
    assert english.stdout == "101 township-hearing 2021-B2: exempt\n"
    late = county("waivers", "request", *TARGET, "--reason", "x", check=False)
    assert late.returncode == 1 and "已经免于考核" in late.stderr
    assert late.stderr.count("\n") == 1
    assert json.loads(county("waivers", "list", "--format", "json").stdout) == []
