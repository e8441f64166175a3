"""Reading a year's official holiday arrangement from CSV and YAML (scheduler.core.notices)."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.core.notices import notice_from_table, notice_from_yaml
from scheduler.core.problems import InputError
from tests.countyfacts import table

YAML = """\
year: 2027
title: 国务院办公厅关于2027年部分节假日安排的通知
days_off: [2027-01-01, 2027-02-05/2027-02-11]
workdays:
  - 2027-02-14
  - 2027-02-20
"""


def test_a_yaml_notice_lists_days_off_by_interval_and_the_working_weekends() -> None:
    notice = notice_from_yaml(YAML, "2027.yaml")
    assert notice.year == 2027 and notice.title.startswith("国务院办公厅")
    assert len(notice.days_off) == 8 and date(2027, 2, 11) in notice.days_off
    assert notice.workdays == {date(2027, 2, 14), date(2027, 2, 20)}


def test_a_csv_notice_takes_chinese_headers_and_kinds() -> None:
    rows = [("2027-10-01/2027-10-07", "休", "国庆节"), ("2027年10月9日", "班", "")]
    notice = notice_from_table(table("n.csv", ("日期", "类型", "名称"), rows), None, None)
    assert notice.year == 2027 and notice.title == "2027年节假日安排"
    assert len(notice.days_off) == 7 and notice.workdays == {date(2027, 10, 9)}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("2027-02-16", "work"), "n.csv:3: date: 2027-02-16 is a weekday: only a Saturday"),
        (("2026-12-31", "off"), "n.csv:3: date: 2026-12-31 is not in 2027"),
        (("2027-02-05", "off"), "n.csv:3: date: 2027-02-05 appears twice (first on 2)"),
        (("2027-02-30", "off"), "n.csv:3: date: bad date"),
        (("2027-02-20", "maybe"), "n.csv:3: kind: unknown kind 'maybe': off or work"),
    ],
)
def test_a_bad_row_is_named_and_refuses_the_file(row: tuple[str, str], message: str) -> None:
    rows = [("2027-02-05", "off"), row]
    with pytest.raises(InputError) as caught:
        notice_from_table(table("n.csv", ("date", "kind"), rows), 2027, None)
    assert str(caught.value).startswith(message)


def test_every_missing_column_is_named_at_once() -> None:
    with pytest.raises(InputError) as caught:
        notice_from_table(table("n.csv", ("day", "what"), [("x", "y")]), None, None)
    assert str(caught.value).splitlines() == [
        "n.csv:1: date: missing column 'date' in the header row",
        "n.csv:1: kind: missing column 'kind' in the header row",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year: 2027\nholidays: []\n", "x.yaml:2: unknown key 'holidays'"),
        ("year: next\n", "x.yaml:1: year must be a number"),
        ("year: 2027\ndays_off: [2027-02-09/2027-02-05]\n", "x.yaml:2: days_off: interval"),
        ("year: 2027\nworkdays: [2027-03-03]\n", "x.yaml:2: workdays: 2027-03-03 is a weekday"),
        ("year: 2027\n", "x.yaml: no days in the file"),
    ],
)
def test_a_bad_yaml_notice_is_refused_with_its_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        notice_from_yaml(text, "x.yaml")
    assert str(caught.value).startswith(message)


def test_a_bad_notice_reads_in_chinese_with_the_chinese_column_name() -> None:
    rows = [("2027-02-05", "off"), ("2027-02-05", "off"), ("2027-02-20", "maybe")]
    with pytest.raises(InputError) as caught:
        notice_from_table(table("n.csv", ("date", "kind"), rows), 2027, None)
    assert caught.value.said("zh").splitlines() == [
        "n.csv 第4行，“类型”列：类型“maybe”看不懂：请填“休”或“班”（off 或 work）",
        "n.csv 第3行，“日期”列：2027-02-05出现了两次（第一次在第2行）",
    ]
    with pytest.raises(InputError) as backwards:
        notice_from_yaml("year: 2027\ndays_off: [2027-02-09/2027-02-05]\n", "x.yaml")
    assert backwards.value.said("zh").endswith("区间“2027-02-09/2027-02-05”的结束早于开始")
