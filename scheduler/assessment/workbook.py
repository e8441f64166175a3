"""The scorecard as the XLSX 考核表 an assessor signs (openpyxl).

One sheet per unit kind: a title, the as-of day and how scores are computed, then a row per unit
with its rank, a column per rule (its earned points, the rule's points in the header), the total,
the possible points and the share; under the table the 考核人 and 日期 lines to sign. Numbers
are number cells; headers are Chinese by default; pages print A4 landscape, one page wide, the
header row repeated on each page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scheduler.assessment.sheets import explain, kind_name, labels, safe_cell
from scheduler.core.assessment import Scorecard, UnitScore
from scheduler.core.words import format_date
from scheduler.store.reports import json_number

HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_ROW = 5


def to_xlsx(cards: Sequence[Scorecard], year: int, as_of: date, lang: str) -> bytes:
    """The workbook as bytes: one sheet per scorecard (unit kind)."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for card in cards:
        _card_sheet(
            book.create_sheet(_sheet_name(kind_name(card.kind, lang))), card, year, as_of, lang
        )
    if not cards:
        book.create_sheet(labels(lang)["title"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_name(text: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return "".join("_" if ch in "[]:*?/\\" else ch for ch in text)[:31]


def _card_sheet(sheet: Worksheet, card: Scorecard, year: int, as_of: date, lang: str) -> None:
    names = labels(lang)
    header = _header(card, lang)
    width = len(header)
    _banner(
        sheet, 1, names["sheet_title"].format(year=year, kind=kind_name(card.kind, lang)), width
    )
    sheet["A1"].font = Font(bold=True, size=14)
    _banner(sheet, 2, f"{names['as_of']} {format_date(as_of, lang)}", width)
    _banner(sheet, 3, "\n".join(explain(card, lang)), width)
    sheet.row_dimensions[3].height = 75
    for column, text in enumerate(header, start=1):
        sheet.cell(HEADER_ROW, column, text)
    for line in card.lines:
        sheet.append(_row(line))
    _style_table(sheet, width, len(card.lines))
    _signature_lines(sheet, names["assessor"], names["date"], width)
    _widths(sheet, [7, 12, 16, *([14] * len(card.rules)), 10, 10, 9])
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 4)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    _print_setup(sheet)


def _header(card: Scorecard, lang: str) -> list[str]:
    names = labels(lang)
    rules = [
        f"{rule.title(lang)}\n({names['worth'].format(points=json_number(rule.points))})"
        for rule in card.rules
    ]
    return [names["rank"], names["unit_code"], names["unit_name"], *rules,
            names["total"], names["possible"], names["share"]]  # fmt: skip


def _row(line: UnitScore) -> list[object]:
    return [
        line.rank,
        safe_cell(line.unit.code),
        safe_cell(line.unit.name),
        *(float(score.earned) if score.counted else None for score in line.rules),
        float(line.total),
        float(line.possible),
        None if line.share is None else float(line.share),
    ]


def _banner(sheet: Worksheet, row: int, text: str, width: int) -> None:
    sheet.cell(row, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def _style_table(sheet: Worksheet, width: int, rows: int) -> None:
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BOX
    sheet.row_dimensions[HEADER_ROW].height = 48
    for cells in sheet.iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + rows, max_col=width):
        for cell in cells:
            cell.border = BOX
            if cell.column > 3:
                cell.number_format = "0%" if cell.column == width else "0.00"


def _signature_lines(sheet: Worksheet, assessor: str, day: str, width: int) -> None:
    """考核人 and 日期, each followed by a line to sign on."""
    row = sheet.max_row + 3
    sheet.cell(row, 2, f"{assessor}:")
    date_column = max(5, width - 2)
    sheet.cell(row, date_column, f"{day}:")
    for column in (*range(3, min(5, date_column)), *range(date_column + 1, date_column + 3)):
        sheet.cell(row, column).border = Border(bottom=THIN)


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _print_setup(sheet: Worksheet) -> None:
    """A4 landscape, fitted to one page wide, as many pages tall as needed."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
