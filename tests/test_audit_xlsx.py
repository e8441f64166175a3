"""The 台账's XLSX as XlsxWriter writes it (`scheduler.audit.xlsx`): it reads back in openpyxl
as the cells, types, styles, links and page setup it was given."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import unquote

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook as OpenpyxlWorkbook
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from scheduler.audit.xlsx import OPTIONS, Layout, Row, Styles, _sheet_name, _unique, _write_sheet
from scheduler.audit.xlsx import cell as a

Sheets = Callable[[Styles], list[tuple[str, Layout, list[Row]]]]


def written(sheets: Sheets) -> OpenpyxlWorkbook:
    """The sheets made by ``sheets`` from the workbook's styles, written and read back."""
    out = io.BytesIO()
    book = Workbook(out, OPTIONS)
    styles = Styles(book, "zh")
    for title, layout, rows in sheets(styles):
        _write_sheet(book.add_worksheet(title), layout, rows)
    book.close()
    return load_workbook(io.BytesIO(out.getvalue()))


def test_cells_read_back_as_text_numbers_and_dates_with_their_styles() -> None:
    def sheets(s: Styles) -> list[tuple[str, Layout, list[Row]]]:
        date_style: Format = s.columns[3]
        rows: list[Row] = [
            [a("单位", s.header), a("日期", s.header), a("金额", s.header)],
            [a("=1+1"), a(date(2021, 3, 31), date_style), a(Decimal("2500.5"))],
            [a(" 前后空格 "), a(datetime(2021, 3, 1, 10, 30), s.time), a(17000)],
            [a('a&b<c>"d"\x01'), None, a("")],
            [a(float("nan")), a(Decimal("Infinity")), a(10**20)],
            [a("@SUM(1+1)"), a("http://example.com"), a("012")],
        ]
        return [("规则", Layout([10, 14, 12]), rows)]

    sheet = written(sheets)["规则"]
    assert sheet["A1"].value == "单位" and sheet["A1"].font.bold
    assert sheet["A1"].fill.fgColor.rgb == "FFDDE4EE" and sheet["A1"].alignment.wrap_text
    assert sheet["A1"].alignment.vertical == "center"
    assert (sheet["A2"].value, sheet["A2"].data_type) == ("=1+1", "s")  # text, not a formula
    assert sheet["B2"].value == datetime(2021, 3, 31)
    assert sheet["B2"].number_format == 'yyyy"年"m"月"d"日"'
    assert sheet["B2"].alignment.vertical == "top" and sheet["B2"].alignment.wrap_text
    assert sheet["C2"].value == 2500.5 and sheet["C3"].value == 17000
    assert sheet["B3"].value == datetime(2021, 3, 1, 10, 30)
    assert sheet["B3"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["A3"].value == " 前后空格 "
    assert sheet["A4"].value == 'a&b<c>"d"'  # a control character XML cannot hold is left out
    assert sheet["B4"].value is None and sheet["C4"].value is None
    assert sheet["A5"].value is None and sheet["B5"].value is None  # Excel has no NaN
    assert sheet["C5"].value == 10**20
    texts = [(c.value, c.data_type, c.hyperlink) for c in sheet[6]]
    assert texts == [
        ("@SUM(1+1)", "s", None),
        ("http://example.com", "s", None),
        ("012", "s", None),
    ]


def test_a_sheet_keeps_its_widths_frozen_header_links_and_page_setup() -> None:
    names = ["a.pdf", "纪要 #1 (100%).pdf"]

    def sheets(s: Styles) -> list[tuple[str, Layout, list[Row]]]:
        summary = [[a("标题", s.title)], [a("范围"), a("2021")], [], [a("规则", s.header)]]
        files: list[Row] = [[a("文件", s.header)]]
        files += [[a(f"附件/101/{name}", s.link, f"附件/101/{name}")] for name in names]
        folder = [[a("附件", s.header)], [a("a.pdf", s.text, "附件/101/")]]
        return [
            ("汇总", Layout([26, 30], header=4), summary),
            ("附件", Layout([60], printable=False), files),
            ("规则", Layout([30]), folder),
        ]

    book = written(sheets)
    first, second, third = book["汇总"], book["附件"], book["规则"]
    assert first["A1"].font.sz == 14 and first["A1"].font.bold
    assert first.freeze_panes == "A5" and first.print_title_rows == "$4:$4"
    assert first.column_dimensions["A"].width == 26 and first.column_dimensions["B"].width == 30
    assert first.page_setup.orientation == "landscape" and int(first.page_setup.paperSize) == 9
    assert first.page_setup.fitToHeight == 0 and first.page_setup.fitToWidth in (None, 1)
    assert first.sheet_properties.pageSetUpPr.fitToPage and first.print_options.horizontalCentered
    assert (first.page_margins.left, first.page_margins.top, first.page_margins.header) == (
        0.4, 1, 0.5)  # fmt: skip
    assert second.freeze_panes == "A2" and second.print_title_rows is None
    assert second.column_dimensions["A"].width == 60
    assert second.page_setup.orientation is None and second.page_margins.left == 0.75
    targets = [second.cell(row, 1).hyperlink.target for row in (2, 3)]
    assert targets[0] == "附件\\101\\a.pdf"  # a relative link, a Windows path as Excel writes
    assert [unquote(t).replace("\\", "/") for t in targets] == [f"附件/101/{n}" for n in names]
    assert second["A3"].value == "附件/101/纪要 #1 (100%).pdf" and second["A3"].style == "Hyperlink"
    assert third["A2"].hyperlink.target == "附件\\101\\" and third["A2"].style == "Normal"
    assert third["A2"].alignment.vertical == "top"  # a linked cell keeps its own style


def test_two_sheets_of_one_name_are_told_apart_within_excels_31_characters() -> None:
    long, taken = "r" * 31, set[str]()
    names = []
    for title in ("A", "a", long, long, "x[1]:y*'", "'引号'"):
        name = _unique(_sheet_name(title), taken)
        taken.add(name.casefold())
        names.append(name)
    assert names == ["A", "a1", long, "r" * 30 + "1", "x_1__y_", "引号"]
    assert _sheet_name("𝒳" * 20) == "𝒳" * 15  # 31 UTF-16 units at most
    book = written(lambda s: [(name, Layout([10]), []) for name in names])
    assert book.sheetnames == names
