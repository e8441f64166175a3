"""Import files as clerks have them: an XLSX made by Excel's rules (Chinese headers, time and
date cells, numbers), Chinese CSV headers, kinds and roles by their titles, every missing
column at once, close codes for an unknown unit, and the import templates (CLI and web)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select

from scheduler.core.importtemplates import SAMPLE_UNIT, import_template
from scheduler.core.problems import InputError
from scheduler.core.records import Table, closest, parse_events, unknown_unit
from scheduler.core.rules import RuleBook
from scheduler.store.models import Event, RoleAssignment
from scheduler.tables import read_table, template_xlsx
from tests.conftest import HuiqiRunner, write_csv

pytest_plugins = ["tests.webfixtures"]
Login = object

EXCEL_HEADER = ("单位", "类型", "日期", "时间", "标题", "参加人", "金额", "编号")


def excel_events(path: Path) -> Path:
    """An events workbook as Excel saves one a clerk typed: Chinese headers, unit codes and
    amounts as numbers, dates as date cells, 9:30 as a time cell (a fraction of a day with a
    time format), kinds and roles by their Chinese titles."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "事件"
    sheet.append(EXCEL_HEADER)
    sheet.append([101, "听取妇联工作汇报", datetime(2021, 2, 10), time(9, 30), "党委听取汇报",
                  "妇联主席；党委(党支部)书记", None, "h-1"])  # fmt: skip
    sheet.append([10101, "工作经费拨付", datetime(2021, 3, 1), None, "拨付经费", None,
                  10000.5, 7])  # fmt: skip
    sheet.append([102, "hearing;study", date(2021, 4, 2), 0.6875, "学习", None, 1200, None])
    for row in (2, 3, 4):
        sheet.cell(row, 3).number_format = "yyyy/m/d"
    sheet.cell(2, 4).number_format = "h:mm"
    sheet.cell(4, 4).number_format = "[$-409]h:mm AM/PM"
    workbook.save(path)
    return path


def current_events(database_url: str) -> list[tuple[str | None, str | None, str | None]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(Event.time, Event.ref, Event.amount).order_by(Event.date)
            return [(t, r, None if a is None else str(a)) for t, r, a in connection.execute(query)]
    finally:
        engine.dispose()


def test_an_excel_workbook_with_chinese_headers_and_time_cells_imports_as_typed(
    county: HuiqiRunner, database_url: str, tmp_path: Path
) -> None:
    path = excel_events(tmp_path / "活动.xlsx")
    table = read_table(path)
    assert [cells["时间"] for _, cells in table.rows] == ["09:30", "", "16:30"]
    assert [cells["单位"] for _, cells in table.rows] == ["101", "10101", "102"]
    assert table.rows[1][1]["金额"] == "10000.5" and table.rows[0][1]["日期"] == "2021-02-10"
    first = county("events", "import", str(path))
    assert first.stdout.strip() == f"{path}：新建 3 条，更新 0 条，不变 0 条"
    assert (
        county("events", "import", str(path))
        .stdout.strip()
        .endswith("新建 0 条，更新 0 条，不变 3 条")
    )
    assert current_events(database_url) == [
        ("09:30", "h-1", None),
        (None, "7", "10000.50"),
        ("16:30", None, "1200.00"),
    ]


def test_a_date_cell_carrying_a_time_fills_the_time_and_two_different_times_are_refused(
    county: HuiqiRunner, database_url: str, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(EXCEL_HEADER)
    sheet.append(
        [101, "听取妇联工作汇报", datetime(2021, 2, 10, 9, 30), None, "汇报", None, None, "a"]
    )
    sheet.append([101, "听取妇联工作汇报", datetime(2021, 4, 9, 15, 0), "15:00", "汇报", None, None,
                  "b"])  # fmt: skip
    sheet.cell(2, 3).number_format = sheet.cell(3, 3).number_format = "yyyy/m/d h:mm"
    good = tmp_path / "日期时间.xlsx"
    workbook.save(good)
    assert (
        county("events", "import", str(good))
        .stdout.strip()
        .endswith("新建 2 条，更新 0 条，不变 0 条")
    )
    assert current_events(database_url) == [("09:30", "a", None), ("15:00", "b", None)]
    row = ("101", "听取妇联工作汇报", "2021/6/1 9:30", "10:00", "汇报", "", "", "c")
    bad = write_csv(tmp_path / "两个时间.csv", EXCEL_HEADER, [row])
    refused = county("events", "import", str(bad), check=False)
    assert refused.returncode == 1 and current_events(database_url)[-1][1] == "b"
    assert refused.stderr.strip() == (
        f"{bad} 第2行，“时间”列：日期“2021/6/1 9:30”里已有时间，与时间列“10:00”不一致：请只保留一个"
    )


def test_a_csv_with_chinese_headers_seconds_and_titles_imports(
    county: HuiqiRunner, database_url: str, tmp_path: Path
) -> None:
    header = ("姓名", "邮箱", "电话", "单位", "职务", "起始日期", "终止日期")
    people = write_csv(tmp_path / "人员.csv", header,
                       [("王芳", "wang@example.org", "13800000000", "102", "妇联专干",
                         "2021年1月1日", "")])  # fmt: skip
    assert (
        county("people", "import", str(people))
        .stdout.strip()
        .endswith("新建 1 条，更新 0 条，不变 0 条")
    )
    row = ("101", "听取妇联工作汇报", "2021/2/10", "09:30:00", "汇报", "", "", "")
    events = write_csv(tmp_path / "事件.csv", EXCEL_HEADER, [row])
    assert (
        county("events", "import", str(events))
        .stdout.strip()
        .endswith("新建 1 条，更新 0 条，不变 0 条")
    )
    assert current_events(database_url) == [("09:30", None, None)]
    engine = create_engine(database_url)
    with engine.connect() as connection:
        roles = connection.scalars(select(RoleAssignment.role).order_by(RoleAssignment.id)).all()
    engine.dispose()
    assert roles[-1] == "clerk"


def test_every_missing_column_is_named_in_one_line_and_nothing_is_written(
    county: HuiqiRunner, database_url: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "events.csv", ("单位", "title"), [("101", "x")])
    result = county("events", "import", str(path), check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"{path} 第1行：表头缺少“类型”（kinds）、“日期”（date）、“时间”（time）、"
        "“参加人”（attended）、“金额”（amount）、“编号”（ref）列"
    ]
    english = county("--lang", "en", "events", "import", str(path), check=False)
    assert english.stderr.strip().splitlines() == [
        f"{path}:1: missing columns 'kinds' (类型), 'date' (日期), 'time' (时间), "
        "'attended' (参加人), 'amount' (金额), 'ref' (编号) in the header row"
    ]
    assert current_events(database_url) == []


def test_a_column_named_in_both_languages_is_refused(tmp_path: Path, book: RuleBook) -> None:
    header = (*EXCEL_HEADER, "unit")
    table = read_table(write_csv(tmp_path / "e.csv", header, [("101",) * 9]))
    with pytest.raises(InputError, match=r"e\.csv:1: unit: column 'unit' appears twice"):
        parse_events(table, book.event_kinds, book.roles, {})


def test_an_unknown_unit_names_at_most_five_close_codes_never_all(
    county: HuiqiRunner, database_url: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "events.csv", EXCEL_HEADER,
                     [("1011", "hearing", "2021-02-10", "", "x", "", "", "")])  # fmt: skip
    result = county("events", "import", str(path), check=False)
    assert result.returncode == 1 and current_events(database_url) == []
    assert result.stderr.strip().splitlines() == [
        f"{path} 第2行，“单位”列：没有这个单位“1011”（最接近的：10101、101）"
    ]
    codes = [f"621225{n:03d}" for n in range(430)]
    assert closest("621225999", codes) == [
        "621225399", "621225299", "621225199", "621225099", "621225429"
    ]  # fmt: skip
    message = unknown_unit("6212251", codes)  # a township's code, its village digits missing
    assert str(message) == (
        "unknown unit '6212251' (closest known: 621225100, 621225101, 621225102, 621225103, "
        "621225104)"
    )
    status = county("status", "--unit", "1O1", "--as-of", "2021-03-01", check=False)
    assert status.returncode == 1 and "最接近的：101" in status.stderr


def test_unit_kinds_and_roles_may_be_written_by_their_chinese_names(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    header = ("代码", "名称", "类型", "上级", "启用日期", "停用日期")
    path = write_csv(
        tmp_path / "单位.csv", header, [("10102", "西山村", "村", "101", "2021-01-01", "")]
    )
    assert (
        county("units", "import", str(path))
        .stdout.strip()
        .endswith("新建 1 条，更新 0 条，不变 0 条")
    )
    bad = write_csv(tmp_path / "坏.csv", header, [("10103", "北山村", "小区", "101", "", "")])
    result = county("units", "import", str(bad), check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"{bad} 第2行，“类型”列：没有这种单位类型“小区”（可填：社区、县、乡镇、村、巾帼扶贫车间）"
    )
    english = county("--lang", "en", "units", "import", str(bad), check=False)
    assert english.stderr.strip() == (
        f"{bad}:2: kind: unknown unit kind '小区' "
        "(known: community, county, township, village, workshop)"
    )


# --- templates --------------------------------------------------------------------------------


def test_the_events_template_has_headers_an_example_and_drop_downs(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    out = tmp_path / "事件模板.xlsx"
    result = county("template", "events", "-o", str(out))
    assert result.stdout.startswith(f"{out}：事件导入模板（单位、类型、日期、时间")
    workbook = openpyxl.load_workbook(out)
    sheet = workbook["events"]
    assert [c.value for c in sheet[1]] == list(EXCEL_HEADER)
    example = [c.value for c in sheet[2]]
    assert example[0] == "101" and isinstance(example[2], datetime) and example[3] == time(9, 30)
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert set(validations) == {"B2:B1000", "F2:F1000"}
    kinds = [row[0] for row in workbook["choices"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert "听取妇联工作汇报" in kinds and workbook["choices"].sheet_state == "hidden"
    assert validations["B2:B1000"].formula1 == f"=choices!$A$2:$A${len(kinds) + 1}"
    imported = county("events", "import", str(out))
    assert imported.stdout.strip().endswith("新建 1 条，更新 0 条，不变 0 条")


def test_the_people_template_limits_roles_to_a_list_and_the_csv_imports(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    out = tmp_path / "people.xlsx"
    county("template", "people", "-o", str(out))
    sheet = openpyxl.load_workbook(out)["people"]
    (role,) = sheet.data_validations.dataValidation
    assert str(role.sqref) == "E2:E1000" and role.showErrorMessage and role.errorStyle == "stop"
    csv_out = tmp_path / "units.csv"
    county("template", "units", "--format", "csv", "-o", str(csv_out))
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["代码", "名称", "类型", "上级", "启用日期", "停用日期", "female_population"]
    assert rows[1][:4] == ["101", "东山镇", "乡镇", "100"]
    assert (
        county("units", "import", str(csv_out))
        .stdout.strip()
        .endswith("新建 0 条，更新 1 条，不变 0 条")
    )


def test_a_template_with_a_wrong_name_or_kind_is_one_line_and_writes_nothing(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    out = tmp_path / "events.csv"
    result = county("template", "events", "--format", "xlsx", "-o", str(out), check=False)
    assert result.returncode == 1 and not out.exists()
    assert result.stderr.strip() == f"{out}：XLSX文件的名称应以 .xlsx 结尾"
    missing = county("template", "events", "-o", str(tmp_path / "nowhere" / "e.xlsx"), check=False)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    unknown = county("template", "meetings", check=False)
    assert unknown.returncode == 2 and "meetings" in unknown.stderr


def test_an_english_template_uses_column_names_and_english_titles(book: RuleBook) -> None:
    sheet = import_template("events", book, "en", SAMPLE_UNIT, date(2026, 3, 1))
    assert (
        sheet.header
        == sheet.columns
        == ("unit", "kinds", "date", "time", "title", "attended", "amount", "ref")
    )
    assert sheet.example[1] == next(iter(book.event_kinds.values())).en
    table = read_table_bytes(template_xlsx(sheet))
    assert table.rows[0][1]["date"] == "2026-03-01" and table.rows[0][1]["time"] == "09:30"


def read_table_bytes(data: bytes) -> Table:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.xlsx"
        path.write_bytes(data)
        return read_table(path)


# --- the web import page ----------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_web_offers_templates_naming_the_clerks_unit(client_of: Login) -> None:
    client, _ = client_of("clerk")  # type: ignore[operator]
    assert isinstance(client, TestClient)
    page = client.get("/imports")
    assert "/imports/template?kind=events&amp;format=xlsx" in page.text
    assert "kind=units" not in page.text  # units are the admin's
    answer = client.get("/imports/template?kind=events&format=xlsx")
    assert (
        answer.status_code == 200
        and "events-template.xlsx" in answer.headers["content-disposition"]
    )
    table = read_table_bytes(answer.content)
    assert table.rows[0][1]["单位"] == "101"
    answer = client.get("/imports/template?kind=people&format=csv")
    assert answer.content.startswith(b"\xef\xbb\xbf") and "姓名" in answer.content.decode(
        "utf-8-sig"
    )
    assert client.get("/imports/template?kind=outbox&format=xlsx").status_code == 404
    viewer, _ = client_of("viewer")  # type: ignore[operator]
    assert viewer.get("/imports/template?kind=events").status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_web_preview_of_an_excel_file_shows_each_row_and_refused_rows_why(
    client_of: Login, engine: Engine, tmp_path: Path
) -> None:
    client, csrf = client_of("admin")  # type: ignore[operator]
    data = excel_events(tmp_path / "活动.xlsx").read_bytes()
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    preview = client.post(
        "/imports",
        data={"csrf": csrf, "kind": "events", "action": "preview"},
        files={"file": ("活动.xlsx", data, kind)},
    )
    assert preview.status_code == 200, preview.text[:2000]
    cells = re.findall(r"<td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>", preview.text)
    assert [(row, outcome) for row, _, outcome in cells] == [
        ("2", "新建"),
        ("3", "新建"),
        ("4", "新建"),
    ]
    bad = ",".join(EXCEL_HEADER) + "\n101,hearing,2021-02-11,,a,,,\n1011,hearing,someday,,b,,,\n"
    refused = client.post(
        "/imports",
        data={"csrf": csrf, "kind": "events", "action": "preview"},
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    rows = re.findall(
        r'<tr class="o-refused"><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>', refused.text
    )
    assert rows == [
        (
            "3",
            "拒绝",
            "“单位”列：没有这个单位“1011”（最接近的：10101、101）；"
            "“日期”列：日期“someday”看不懂，请写成 2026-03-15 或 2026年3月15日",
        )
    ]
    with engine.connect() as connection:
        assert connection.scalar(select(func.count(Event.id))) == 1  # the fixture's one event


# --- one language at a time -------------------------------------------------------------------


def test_import_output_follows_the_language_with_full_width_punctuation(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "e.csv", EXCEL_HEADER,
                     [("101", "hearing", "2021-02-10", "", "x", "", "", "")])  # fmt: skip
    chinese = county("events", "import", str(path)).stdout.strip()
    assert chinese == f"{path}：新建 1 条，更新 0 条，不变 0 条"
    english = county("--lang", "en", "events", "import", str(path)).stdout.strip()
    assert english == f"{path}: 0 created, 0 updated, 1 unchanged"
    configured = county("events", "import", str(path), env={"HUIQI_LANGUAGE": "en"}).stdout
    assert configured.strip() == english
    matrix = county("matrix", "--year", "2021", "--as-of", "2021-05-10", "--unit", "101").stdout
    assert "合计：" in matrix and "图例：" in matrix and "合计:" not in matrix
    template = county("--lang", "en", "template", "people", "-o", str(tmp_path / "p.csv")).stdout
    assert template.strip() == (
        f"{tmp_path / 'p.csv'}: people template (name, email, phone, unit, role, from, to)"
    )
