"""``huiqi meetings …`` and ``huiqi feeds …`` through the installed command (end to end).

The command reads the real clock, so the meeting that must send invites is dated 30 days after
the test's own today; the backfilled one is in 2021.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.conftest import HuiqiRunner
from tests.mailsink import MailSink

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def mail_env(tmp_path: Path) -> dict[str, str]:
    return {"HUIQI_MAIL__FOLDER": str(tmp_path / "mail")}


def test_planning_mails_invites_and_holding_meets_the_obligation(
    county: HuiqiRunner, mail_env: dict[str, str], tmp_path: Path
) -> None:
    soon = date.today() + timedelta(days=30)
    planned = county(
        "meetings", "plan", "--unit", "101", "--kinds", "hearing;study",
        "--start", f"{soon} 09:30", "--end", "11:00", "--title", "党委会听取妇联工作汇报",
        env=mail_env,
    )  # fmt: skip
    assert planned.stdout.strip() == "已安排会议 1；邀请：已发送 2 封，失败 0 封"
    mails = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(mails) == 2
    message = BytesParser(policy=policy.default).parsebytes(mails[0].read_bytes())
    methods = [
        p.get_param("method") for p in message.walk() if p.get_content_subtype() == "calendar"
    ]
    assert methods == ["REQUEST", "REQUEST"]

    backfilled = county(
        "meetings", "plan", "--unit", "101", "--kinds", "hearing", "--start", "2021-03-12 09:30",
        "--end", "2021-03-12 11:00", "--title", "补录：听取汇报", env=mail_env,
    )  # fmt: skip
    assert backfilled.stdout.strip() == "已安排会议 2；没有要发的邀请"
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2

    held = county(
        "--lang", "en", "meetings", "held", "2", "--attended", "party_secretary;fulian_chair"
    )
    assert held.stdout.strip() == "meeting 2 held: event 1 recorded"
    status = county(
        "status", "--unit", "101", "--rule", "township-hearing", "--as-of", "2021-04-30",
        "--from", "2021-03-01", "--to", "2021-04-30", "--format", "json",
    )  # fmt: skip
    [row] = json.loads(status.stdout)
    assert (row["status"], row["evidence"]) == ("met", [1])

    listed = json.loads(
        county("meetings", "list", "--from", "2021-01-01", "--format", "json").stdout
    )
    assert [(m["id"], m["status"], m["event"]) for m in listed] == [
        (2, "held", 1),
        (1, "planned", None),
    ]
    table = county("meetings", "list", "--from", "2021-01-01").stdout.splitlines()
    assert table[0].split() == [
        "编号", "开始", "结束", "单位", "标题", "类型", "状态", "版本", "邀请人数", "事件"
    ]  # fmt: skip
    assert "已召开" in table[1] and "已计划" in table[2]
    english = county("--lang", "en", "meetings", "list", "--from", "2021-01-01").stdout
    assert english.splitlines()[0].split() == [
        "id", "start", "end", "unit", "title", "kinds", "status", "seq", "invited", "event"
    ]  # fmt: skip
    assert " held " in english.splitlines()[1] and " planned " in english.splitlines()[2]
    none = ("meetings", "list", "--unit", "102", "--from", "2021-01-01")
    assert county(*none).stdout == "（没有会议）\n"
    assert county("--lang", "en", *none).stdout == "(no meetings)\n"


def test_bad_meeting_input_is_one_line_on_stderr_and_exit_1(county: HuiqiRunner) -> None:
    result = county(
        "meetings", "plan", "--unit", "999", "--kinds", "hearing", "--start", "2021-03-12 09:30",
        "--end", "11:00", "--title", "x", check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "meetings plan，--unit：没有这个单位“999”\n"
    bad_start = county("meetings", "update", "1", "--start", "tomorrow", check=False)
    assert bad_start.returncode == 1
    assert bad_start.stderr == (
        "meetings update，--start：日期时间“tomorrow”有误：应为 YYYY-MM-DD HH:MM\n"
    )
    english = county("--lang", "en", "meetings", "update", "1", "--start", "tomorrow", check=False)
    assert english.stderr.startswith("meetings update: --start: bad date and time 'tomorrow'")


def test_a_feed_is_created_listed_exported_and_revoked(county: HuiqiRunner, tmp_path: Path) -> None:
    assert county("feeds", "list").stdout == "（没有日历订阅）\n"
    assert county("--lang", "en", "feeds", "list").stdout == "(no feeds)\n"
    created = county("feeds", "create", "--unit", "102").stdout.splitlines()
    assert created[0] == "日历订阅 1（单位 102）"
    token = created[3].removeprefix("token:").strip()
    assert created[1] == f"url:    http://127.0.0.1:8000/cal/{token}.ics"
    assert created[2] == f"webcal: webcal://127.0.0.1:8000/cal/{token}.ics"
    listed = county("feeds", "list").stdout.splitlines()
    assert listed[0].split() == ["编号", "范围", "对象", "令牌", "创建时间", "撤销时间"]
    assert listed[1].split()[:4] == ["1", "单位", "102", f"{token[:4]}…"]
    english = county("--lang", "en", "feeds", "list").stdout.splitlines()
    assert english[0].split() == ["id", "scope", "covers", "token", "created", "revoked"]
    assert english[1].split()[:4] == ["1", "unit", "102", f"{token[:4]}…"]

    exported = tmp_path / "feed.ics"
    done = county("feeds", "export", token, "-o", str(exported))
    assert re.fullmatch(f"{re.escape(str(exported))}：\\d+ 个日程\n", done.stdout)
    other = tmp_path / "english.ics"
    english = county("--lang", "en", "feeds", "export", token, "-o", str(other))
    assert re.fullmatch(f"{re.escape(str(other))}: \\d+ events\n", english.stdout)
    calendar = Calendar.from_ical(exported.read_bytes())
    assert calendar["X-WR-CALNAME"] == "西河乡 会期"

    assert county("--lang", "en", "feeds", "revoke", token).stdout.strip() == "feed 1 revoked"
    again = county("feeds", "export", token, "-o", str(exported), check=False)
    assert (again.returncode, again.stderr) == (
        1,
        "feeds export，TOKEN：令牌不存在或已撤销\n",
    )
    both = county("--lang", "en", "feeds", "create", "--unit", "101", "--person", "1",
                  check=False)  # fmt: skip
    assert (both.returncode, both.stderr) == (
        1,
        "feeds create: give --unit CODE [--subtree] or --person ID\n",
    )


def test_a_refused_invite_exits_1_naming_the_address_and_the_retry(county: HuiqiRunner) -> None:
    soon = date.today() + timedelta(days=30)
    plan = ("meetings", "plan", "--unit", "101", "--kinds", "hearing", "--start",
            f"{soon} 09:30", "--end", "11:00", "--title", "党委会")  # fmt: skip
    with MailSink(refuse={"chen@example.org"}) as sink:
        env = {"HUIQI_MAIL__TRANSPORT": "smtp", "HUIQI_MAIL__PORT": str(sink.port)}
        refused = county(*plan, env=env, check=False)
        english = county("--lang", "en", *plan, env=env, check=False)
    assert refused.returncode == 1 and refused.stdout.strip().endswith("已发送 1 封，失败 1 封")
    lines = refused.stderr.splitlines()
    assert lines[0].startswith("发给chen@example.org的会议邀请没有发出：recipient refused")
    assert lines[1] == "请重新发送：huiqi meetings send 1"
    assert english.stderr.splitlines()[1] == "retry with: huiqi meetings send 2"
    assert english.stderr.startswith("invite to chen@example.org failed: recipient refused")
