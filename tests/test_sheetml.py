"""The 台账's XLSX writer: what it writes reads back in openpyxl as the cells, styles, links and
page setup it was given."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook as OpenpyxlWorkbook

from scheduler.audit.sheetml import Layout, Style, Workbook, cell, column_letter, serial

CREATED = datetime(2021, 7, 1, 9, 0)
HEADER, DATE, LINK, TIME = 1, 2, 3, 4
STYLES = [
    Style(bold=True, fill="DDE4EE", vertical="center"),
    Style(vertical="top", number_format='yyyy"年"m"月"d"日"'),
    Style(link=True),
    Style(number_format="yyyy-mm-dd hh:mm"),
]


def written(*sheets: tuple[str, Layout, list[list[object]]]) -> OpenpyxlWorkbook:
    out = io.BytesIO()
    book = Workbook(out, STYLES, CREATED)
    for title, layout, rows in sheets:
        book.add_sheet(title, layout, rows)  # type: ignore[arg-type]
    book.close()
    return load_workbook(io.BytesIO(out.getvalue()))


def test_cells_read_back_as_text_numbers_and_dates_with_their_styles() -> None:
    rows = [
        [cell("单位", HEADER), cell("日期", HEADER), cell("金额", HEADER)],
        [cell("=1+1"), cell(date(2021, 3, 31), DATE), cell(Decimal("2500.5"))],
        [cell(" 前后空格 "), cell(datetime(2021, 3, 1, 10, 30), TIME), cell(17000)],
        [cell('a&b<c>"d"\x01'), None, cell("")],
        [cell(float("nan")), cell(Decimal("Infinity")), cell(10**20)],
    ]
    sheet = written(("规则", Layout([10, 14, 12]), rows))["规则"]
    assert sheet["A1"].value == "单位" and sheet["A1"].font.bold
    assert sheet["A1"].fill.fgColor.rgb == "00DDE4EE" and sheet["A1"].alignment.wrap_text
    assert (sheet["A2"].value, sheet["A2"].data_type) == ("=1+1", "s")  # text, not a formula
    assert sheet["B2"].value == datetime(2021, 3, 31)
    assert (
        sheet["B2"].number_format == 'yyyy"年"m"月"d"日"'
        and sheet["B2"].alignment.vertical == "top"
    )
    assert sheet["C2"].value == 2500.5 and sheet["C3"].value == 17000
    assert sheet["B3"].value == datetime(2021, 3, 1, 10, 30)
    assert sheet["A3"].value == " 前后空格 "
    assert sheet["A4"].value == 'a&b<c>"d"'  # a control character XML cannot hold is left out
    assert sheet["B4"].value is None and sheet["C4"].value is None
    assert sheet["A5"].value is None and sheet["B5"].value is None  # Excel has no NaN
    assert sheet["C5"].value == 10**20


def test_a_sheet_keeps_its_widths_frozen_header_links_and_page_setup() -> None:
    summary = [[cell("标题")], [cell("范围"), cell("2021")], [], [cell("规则", HEADER)]]
    files = [[cell("文件", HEADER)], [cell("附件/101/a.pdf", LINK, "附件/101/a.pdf")]]
    book = written(
        ("汇总", Layout([26, 30], header=4), summary),
        ("附件", Layout([60], printable=False), files),
    )
    first, second = book["汇总"], book["附件"]
    assert first.freeze_panes == "A5" and first.print_title_rows == "$4:$4"
    assert first.column_dimensions["A"].width == 26 and first.column_dimensions["B"].width == 30
    assert first.page_setup.orientation == "landscape" and int(first.page_setup.paperSize) == 9
    assert first.sheet_properties.pageSetUpPr.fitToPage and first.print_options.horizontalCentered
    assert first.page_margins.left == 0.4
    assert second.freeze_panes == "A2" and second.print_title_rows is None
    assert second["A2"].hyperlink.target == "附件/101/a.pdf" and second["A2"].style == "Hyperlink"
    assert second.page_setup.orientation is None


def test_excel_day_numbers_count_from_the_end_of_1899() -> None:
    assert serial(date(2021, 3, 31)) == 44286
    assert serial(datetime(2021, 3, 31, 12, 0)) == 44286.5
    assert [column_letter(n) for n in (1, 26, 27, 52)] == ["A", "Z", "AA", "AZ"]


def test_two_sheets_of_one_name_are_told_apart_within_excels_31_characters() -> None:
    long = "r" * 31
    book = written(("A", Layout([10]), []), ("a", Layout([10]), []), (long, Layout([10]), []),
                   (long, Layout([10]), []))  # fmt: skip
    assert book.sheetnames == ["A", "a1", long, "r" * 30 + "1"]
