"""``huiqi scorecard`` end to end: the table that explains each rule, the JSON contract, CSV
for Excel with formulas neutralised, and the XLSX 考核表 an assessor signs."""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import EVENT_HEADER, UNIT_HEADER, HuiqiRunner, write_csv

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
YEAR = ("--year", "2021", "--as-of", "2022-01-15")
UNIT_KEYS = {"unit", "unit_name", "kind", "total", "possible", "rank", "rules"}
RULE_KEYS = {"rule", "points", "due", "met", "met_late", "missed", "exempt", "earned"}


@pytest.fixture
def assessed(county: HuiqiRunner, tmp_path: Path) -> HuiqiRunner:
    """The small county, a township named like a formula, one merged away before the year, and
    a year of a few events."""
    extra = [
        ("103", '=HYPERLINK("http://x")', "township", "100", "2000-01-01", "", ""),
        ("104", "旧乡", "township", "100", "2000-01-01", "2019-12-31", ""),  # merged away
    ]
    county("units", "import", str(write_csv(tmp_path / "more.csv", UNIT_HEADER, extra)))
    rows = [
        ("101", "hearing;study;party_meeting", "2021-02-02", "09:30", "镇党委会议",
         "fulian_chair", "", "m1"),
        ("101", "hearing;party_meeting", "2021-03-02", "09:30", "镇党委会议", "", "", "m2"),
        ("101", "funding", "2021-03-01", "", "经费", "", "11000", "f1"),
        ("102", "hearing;research", "2021-01-20", "", "调研", "", "", "r1"),
        ("10101", "branch_meeting", "2021-04-01", "", "支部会", "fulian_chair", "", "b1"),
    ]  # fmt: skip
    county("events", "import", str(write_csv(tmp_path / "events.csv", EVENT_HEADER, rows)))
    return county


def test_the_table_ranks_townships_and_explains_every_rule(assessed: HuiqiRunner) -> None:
    out = assessed("scorecard", *YEAR, "--kind", "township").stdout
    lines = out.splitlines()
    assert lines[0] == "年度考核 2021 · 乡镇 (截至 2022年1月15日)"
    assert lines[1].split()[:3] == ["名次", "单位", "分值"]
    units = [line.split()[:2] for line in lines[2:] if line.strip()[:1].isdigit()]
    assert units == [["1", "101"], ["2", "102"], ["3", "103"]]
    assert "  乡镇党委听取妇联工作汇报" in out and "乡镇妇联年度工作经费1万元" in out
    assert "计分方法" in out and "不公开排名" in out


def test_the_json_keeps_the_contract_and_each_rule_earns_its_share(assessed: HuiqiRunner) -> None:
    found = json.loads(assessed("scorecard", *YEAR, "--format", "json").stdout)
    assert {line["kind"] for line in found} == {"township"}  # the most numerous scored kind
    assert [line["rank"] for line in found] == [1, 2, 3]
    assert {line["unit"] for line in found} == {"101", "102", "103"}
    for line in found:
        assert set(line) == UNIT_KEYS and all(set(rule) == RULE_KEYS for rule in line["rules"])
        counted = [rule for rule in line["rules"] if rule["due"]]
        assert line["possible"] == sum(rule["points"] for rule in counted)
        assert line["total"] == pytest.approx(sum(rule["earned"] for rule in counted))
        for rule in counted:
            credit = Decimal(rule["met"]) + Decimal(rule["met_late"]) / 2
            share = Decimal(str(rule["points"])) * credit / rule["due"]
            assert rule["earned"] == float(share.quantize(Decimal("0.01"), ROUND_HALF_UP))
            assert rule["met"] + rule["met_late"] + rule["missed"] == rule["due"]
    east = found[0]["rules"]
    hearing = next(rule for rule in east if rule["rule"] == "township-hearing")
    attendance = next(rule for rule in east if rule["rule"] == "township-chair-attendance")
    assert (hearing["due"], hearing["met"]) == (6, 2)
    assert (attendance["due"], attendance["met"], attendance["earned"]) == (2, 1, 0.5)


@SQLITE_ONLY
def test_the_kind_defaults_to_the_most_numerous_under_the_unit(assessed: HuiqiRunner) -> None:
    village = json.loads(assessed("scorecard", *YEAR, "--unit", "10101", "--format", "json").stdout)
    assert [(line["unit"], line["kind"], line["rank"]) for line in village] == [
        ("10101", "village", 1)
    ]
    refused = assessed("scorecard", *YEAR, "--kind", "city", check=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("--kind：没有这种单位类型“city”")
    english = assessed("--lang", "en", "scorecard", *YEAR, "--kind", "city", check=False)
    assert english.stderr.startswith("--kind: unknown unit kind 'city'")
    unscored = assessed("scorecard", *YEAR, "--kind", "workshop", check=False)
    assert unscored.returncode == 1 and "没有适用于单位类型“workshop”的计分规则" in unscored.stderr


@SQLITE_ONLY
def test_the_csv_opens_in_excel_and_runs_no_formula(assessed: HuiqiRunner) -> None:
    out = assessed("scorecard", *YEAR, "--kind", "township", "--format", "csv").stdout
    assert out.startswith("\ufeff代码,单位,类型,名次")
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert {row["单位"] for row in rows} == {"东山镇", "西河乡", '\'=HYPERLINK("http://x")'}
    assert len(rows) == 3 * 6 and {row["类型"] for row in rows} == {"乡镇"}


@SQLITE_ONLY
def test_the_workbook_is_the_signed_assessment_sheet_of_each_kind(
    assessed: HuiqiRunner, tmp_path: Path
) -> None:
    missing = assessed("scorecard", *YEAR, "--format", "xlsx", check=False)
    assert missing.returncode == 1 and missing.stderr == (
        "scorecard，--output：XLSX 文件需要用 --output 指定文件\n"
    )
    english = assessed("--lang", "en", "scorecard", *YEAR, "--format", "xlsx", check=False)
    assert english.stderr == "scorecard: --output: an xlsx file needs --output FILE\n"
    path = tmp_path / "考核表.xlsx"
    written = assessed("scorecard", *YEAR, "--format", "xlsx", "-o", str(path)).stdout
    assert written == f"{path}：5 个单位\n"
    other = tmp_path / "scorecard.xlsx"
    english = assessed("--lang", "en", "scorecard", *YEAR, "--format", "xlsx", "-o", str(other))
    assert english.stdout == f"{other}: 5 units\n"
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["县", "乡镇", "村"]
    sheet = workbook["乡镇"]
    assert sheet["A1"].value == "2021年度乡镇考核表"
    assert "计分方法" in sheet["A3"].value
    header = [cell.value for cell in sheet[5]]
    assert header[:3] == ["名次", "代码", "单位"] and header[-3:] == ["总得分", "应得分", "得分率"]
    assert header[3] == "乡镇党委听取妇联工作汇报\n(5分)"
    first = [cell.value for cell in sheet[6]]
    assert first[:3] == [1, "101", "东山镇"] and all(
        isinstance(value, (int, float)) for value in first[3:]
    )
    texts = [cell.value for row in sheet.iter_rows(min_row=9) for cell in row if cell.value]
    assert "考核人:" in texts and "日期:" in texts
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    assert sheet.print_title_rows == "$5:$5"
