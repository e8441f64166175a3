"""``huiqi workdays import|show`` and reminders around the 2027 Spring Festival, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from scheduler.core.rules import RuleBook
from scheduler.store.database import transaction
from scheduler.store.models_workdays import WorkdayNotice
from tests.conftest import HuiqiRunner
from tests.remindworld import load

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# A bimonthly rule whose "20 days before" stage of Jan–Feb 2027 (due Sunday 02-28) falls on
# Monday 2027-02-08, the third day of the Spring Festival.
RULES_2027 = """\
ruleset: spring-2027
title: {zh: 春节测试, en: Spring Festival test}
unit_kinds: [county, township, village]
roles:
  fulian_chair: {zh: 妇联主席, en: Federation chair}
  party_secretary: {zh: 党委书记, en: Party secretary}
event_kinds: {hearing: {zh: 听取妇联工作汇报, en: Hearing of the federation's report}}
rules:
  - id: hearing-2027
    title: {zh: 乡镇党委听取妇联工作汇报, en: Township committee hears the federation report}
    cite: 乡镇党委每两月至少听取1次妇联工作汇报
    applies_to: [township]
    every: 2 months
    require: {count: hearing, at_least: 1}
    effective: {from: 2027-01-01}
    responsible: [party_secretary]
    remind: [20 days before]
"""
NOTICE = """\
year: 2027
title: 国务院办公厅关于2027年部分节假日安排的通知
days_off: [2027-01-01, 2027-02-03/2027-02-11]
workdays: [2027-02-20]
"""


@pytest.fixture
def county(engine: Engine, book: RuleBook) -> Engine:
    load(engine, book)
    return engine


@pytest.fixture
def spring(tmp_path: Path) -> dict[str, str]:
    rules = tmp_path / "spring.yaml"
    rules.write_text(RULES_2027, encoding="utf-8")
    return {"HUIQI_RULES": str(rules), "HUIQI_MAIL__FOLDER": str(tmp_path / "mail")}


def reminders_on(huiqi: HuiqiRunner, env: dict[str, str], day: str) -> str:
    return huiqi("remind", "--as-of", day, "--dry-run", env=env).stdout.splitlines()[0]


def test_a_stage_on_the_spring_festival_goes_out_on_the_last_workday_before_it(
    county: Engine, huiqi: HuiqiRunner, spring: dict[str, str]
) -> None:
    assert (
        reminders_on(huiqi, spring, "2027-02-03") == "2027年2月3日：将写入 0 条提醒（演练，未写入）"
    )
    planned = huiqi("remind", "--as-of", "2027-02-04", "--dry-run", env=spring).stdout
    assert planned.splitlines()[0] == "2027年2月4日：将写入 1 条提醒（演练，未写入）"
    assert "hearing-2027" in planned and "截止前20天" in planned and "陈书记" in planned


def test_an_imported_notice_moves_the_stage_to_its_own_last_workday(
    county: Engine, huiqi: HuiqiRunner, spring: dict[str, str], tmp_path: Path
) -> None:
    notice = tmp_path / "2027.yaml"
    notice.write_text(NOTICE, encoding="utf-8")
    out = huiqi("workdays", "import", str(notice), "--by", "县妇联", env=spring).stdout
    assert out.startswith("2027年节假日安排已导入：《国务院办公厅关于2027年部分节假日安排的通知》")
    # the notice makes 02-03 and 02-04 days off too: the stage now goes out on Tuesday 02-02
    assert (
        reminders_on(huiqi, spring, "2027-02-01") == "2027年2月1日：将写入 0 条提醒（演练，未写入）"
    )
    assert (
        reminders_on(huiqi, spring, "2027-02-02") == "2027年2月2日：将写入 1 条提醒（演练，未写入）"
    )


def test_show_lists_the_days_of_note_with_their_source(
    county: Engine, huiqi: HuiqiRunner, tmp_path: Path
) -> None:
    shown = huiqi("workdays", "show", "--year", "2027").stdout
    assert shown.splitlines()[0] == "2027年工作日来源：法定节假日规则（holidays 包）"
    assert "2027年2月8日   星期一  放假  法定节假日规则（holidays 包）" in shown
    assert "尚未导入国务院节假日安排" in shown
    csv_file = tmp_path / "2027.csv"
    csv_file.write_text("日期,类型\n2027-02-20,班\n2027-02-05/2027-02-11,休\n", encoding="utf-8")
    huiqi("workdays", "import", str(csv_file), "--title", "2027年安排")
    data = json.loads(huiqi("workdays", "show", "--year", "2027", "--format", "json").stdout)
    assert (data["source"], data["notice"]) == ("notice", "2027年安排")
    assert {"date": "2027-02-20", "working": True, "source": "notice"} in data["days"]


def test_a_bad_notice_exits_1_with_one_line_and_keeps_the_earlier_one(
    county: Engine, huiqi: HuiqiRunner, tmp_path: Path
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(NOTICE, encoding="utf-8")
    huiqi("workdays", "import", str(good))
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind\n2027-02-05,off\n2027-03-03,work\n", encoding="utf-8")
    result = huiqi("workdays", "import", str(bad), check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"{bad} 第3行，“日期”列：2027-03-03不是周末：只有星期六或星期日才能调为上班日"
    ]
    english = huiqi("--lang", "en", "workdays", "import", str(bad), check=False)
    assert english.stderr.strip().splitlines() == [
        f"{bad}:3: date: 2027-03-03 is a weekday: only a Saturday or Sunday can be a working day"
    ]
    with transaction(county) as session:
        titles = session.scalars(select(WorkdayNotice.title)).all()
        assert session.scalar(select(func.count()).select_from(WorkdayNotice)) == 1
    assert titles == ["国务院办公厅关于2027年部分节假日安排的通知"]


def test_doctor_says_where_the_years_come_from(county: Engine, huiqi: HuiqiRunner) -> None:
    lines = huiqi("doctor", check=False).stdout.splitlines()
    assert (
        "! 工作日：2026年：chinese-calendar 的官方日历表；2027年：仅 holidays 包的法定节假日"
        "（调休上班日未知）；请导入国务院2027年的节假日安排（huiqi workdays import）" in lines
    )
    lines = huiqi("--lang", "en", "doctor", check=False).stdout.splitlines()
    workdays = next(line for line in lines if " workdays: " in line)
    assert workdays.startswith("! workdays: 2026: chinese-calendar's official table; 2027: ")
    assert workdays.endswith(
        "; import the State Council's arrangement for 2027 (huiqi workdays import)"
    )
