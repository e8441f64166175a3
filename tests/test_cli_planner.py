"""``huiqi plan`` and ``huiqi plan accept`` through the installed command (end to end).

The command reads the real clock for invites, so the plan is for next year, as of the last day
of this one: every proposed meeting is in the future and sends its invites.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import HuiqiRunner
from tests.mailsink import MailSink

YEAR = date.today().year + 1
AS_OF = f"{YEAR - 1}-12-31"


@pytest.fixture
def mail_env(tmp_path: Path) -> dict[str, str]:
    return {"HUIQI_MAIL__FOLDER": str(tmp_path / "mail")}


def plan_json(county: HuiqiRunner, *args: str, env: dict[str, str] | None = None) -> dict:
    shown = county(
        "plan", "--year", str(YEAR), "--as-of", AS_OF, "--format", "json", *args, env=env
    )
    return json.loads(shown.stdout)


def test_it_proposes_a_township_year_and_accepting_twice_plans_it_once(
    county: HuiqiRunner, mail_env: dict[str, str], tmp_path: Path
) -> None:
    proposal = plan_json(county, "--unit", "101")
    meetings = proposal["meetings"]
    assert len(meetings) == 12 and {m["unit"] for m in meetings} == {"101"}
    assert meetings[0].keys() >= {"unit", "date", "start", "end", "kinds", "serves"}
    assert (meetings[0]["start"], meetings[0]["end"]) == ("09:00", "11:00")
    served = proposal["coverage"]["served"]
    assert len(served) == 18 and proposal["coverage"]["unplaced"] == []  # 6 + 6 + 4 + 2

    accepted = county(
        "plan", "accept", "--year", str(YEAR), "--as-of", AS_OF, "--unit", "101", "--by", "县妇联",
        env=mail_env,
    )  # fmt: skip
    assert accepted.stdout.startswith("已安排 12 次会议（1, 2, ")
    assert "；邀请：已发送 24 封，失败 0 封" in accepted.stdout  # the chair and the secretary
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 24
    again = county("plan", "accept", "--year", str(YEAR), "--as-of", AS_OF, "--unit", "101")
    assert again.stdout.startswith("已安排 0 次会议（-）")
    again = county("--lang", "en", "plan", "accept", "--year", str(YEAR), "--as-of", AS_OF,
                   "--unit", "101")  # fmt: skip
    assert again.stdout == "0 meetings planned (-); invites: 0 sent, 0 failed\n"

    listed = json.loads(county("meetings", "list", "--unit", "101", "--from", AS_OF,
                               "--to", f"{YEAR}-12-31", "--format", "json").stdout)  # fmt: skip
    assert len(listed) == 12 and listed[0]["title"]
    trail = json.loads(county("trail", "--unit", "101", "--format", "json").stdout)
    assert sum(entry["action"] == "meeting.plan" for entry in trail) == 12
    assert {entry["actor"] for entry in trail if entry["action"] == "meeting.plan"} == {"县妇联"}

    after = plan_json(county, "--unit", "101")
    assert after["meetings"] == [] and len(after["coverage"]["planned"]) == 18

    first = listed[0]["id"]
    county("meetings", "cancel", str(first), "--reason", "改期")
    replanned = plan_json(county, "--unit", "101")
    assert len(replanned["meetings"]) == 1
    assert replanned["meetings"][0]["kinds"] == listed[0]["kinds"].split(";")


def test_the_county_subtree_plan_keeps_the_per_day_cap_and_speaks_english(
    county: HuiqiRunner,
) -> None:
    proposal = plan_json(county, "--unit", "100", "--subtree")
    per_day: dict[str, int] = {}
    for meeting in proposal["meetings"]:
        per_day[meeting["date"]] = per_day.get(meeting["date"], 0) + 1
    assert {m["unit"] for m in proposal["meetings"]} == {"100", "101", "102"}
    assert max(per_day.values()) <= 3
    one = plan_json(county, "--unit", "100", "--subtree", env={"HUIQI_PLANNER__PER_DAY": "1"})
    assert max(list(_count(one).values())) == 1
    table = county("plan", "--year", str(YEAR), "--as-of", AS_OF, "--unit", "101",
                   env={"HUIQI_LANGUAGE": "en"})  # fmt: skip
    assert (
        "Serves" in table.stdout and "12 meetings proposed, serving 18 obligations" in table.stdout
    )
    ics = county("plan", "--year", str(YEAR), "--as-of", AS_OF, "--unit", "101", "--format", "ics")
    assert ics.stdout.count("BEGIN:VEVENT") == 12 and "METHOD:PUBLISH" in ics.stdout


def _count(proposal: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for meeting in proposal["meetings"]:
        counts[meeting["date"]] = counts.get(meeting["date"], 0) + 1
    return counts


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "plan: --year: is required"),
        (("--year", "2027", "--unit", "999"), "plan: --unit: unknown unit '999'"),
        (("--year", "2027", "--subtree"), "plan: --subtree: needs --unit"),
        (("accept", "--year", "2027", "--unit", "999"), "plan accept: --unit: unknown unit '999'"),
    ],
)
def test_bad_options_are_one_line_and_exit_1(
    county: HuiqiRunner, args: tuple[str, ...], message: str
) -> None:
    result = county("--lang", "en", "plan", *args, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].endswith(message)


def test_refused_invites_of_an_accepted_plan_exit_1_with_the_retry(county: HuiqiRunner) -> None:
    accept = ("plan", "accept", "--year", str(YEAR), "--as-of", AS_OF, "--by", "县妇联")
    with MailSink(refuse={"chen@example.org", "zhou@example.org"}) as sink:
        env = {"HUIQI_MAIL__TRANSPORT": "smtp", "HUIQI_MAIL__PORT": str(sink.port)}
        refused = county(*accept, "--unit", "101", env=env, check=False)
        english = county("--lang", "en", *accept, "--unit", "102", env=env, check=False)
    assert refused.returncode == 1 and "失败 12 封" in refused.stdout
    assert refused.stderr == "部分邀请发送失败：请用 huiqi meetings send 会议编号 重新发送\n"
    assert english.returncode == 1 and " failed" in english.stdout
    assert english.stderr == "some invites failed: retry with huiqi meetings send ID\n"


def test_a_year_without_the_workday_notice_is_warned_about(county: HuiqiRunner) -> None:
    shown = county("plan", "--year", str(YEAR), "--as-of", AS_OF, "--unit", "101")
    assert shown.stderr.splitlines()[0] == (
        f"注意：{YEAR}年尚未导入国务院节假日安排，只按法定节假日计算工作日（调休上班日未知）；"
        "请用 huiqi workdays import 导入"
    )
    english = county("--lang", "en", "plan", "--year", str(YEAR), "--as-of", AS_OF, "--unit", "101")
    assert english.stderr.splitlines()[0].startswith(
        f"warning: {YEAR}: workdays rest on the holidays package's statutory holidays only "
    )
