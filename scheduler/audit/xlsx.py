"""The audit listing as an XLSX workbook (openpyxl).

A summary sheet (the filters and one line per rule), one sheet per rule with a row per
obligation, and, when given, a sheet of the change trail. Every table has a bold header row that
stays frozen when scrolling and repeats on each printed page; columns have set widths; pages
print A4 landscape, fitted to the page width. Dates are real date cells shown as 2021年3月31日.
Text cells are always text, never formulas, whatever they start with.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scheduler.audit.bundle import Document, folder_of
from scheduler.audit.export import (
    filters_text,
    format_moment,
    is_money,
    labels,
    local_time,
    review_text,
    status_text,
)
from scheduler.audit.listing import AuditListing, AuditRow, Evidence
from scheduler.core.compliance import Status
from scheduler.core.summaries import SEVERITY
from scheduler.core.words import format_date, format_rate, status_name
from scheduler.core.words import words as words_of
from scheduler.store.reports import json_number
from scheduler.store.trail import Change
from scheduler.tables import never_formulas

ZH_DATE = 'yyyy"年"m"月"d"日"'
EN_DATE = "d mmm yyyy"
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
STATUS_FILLS = {
    Status.MET: "D8F0D8",
    Status.MET_LATE: "FFF1C2",
    Status.OVERDUE: "FFD8B0",
    Status.MISSED: "F8C8C8",
    Status.EXEMPT: "E4E4E4",
}
RULE_COLUMNS = (
    ("unit_code", 10),
    ("unit", 16),
    ("period", 12),
    ("start", 14),
    ("end", 14),
    ("due", 14),
    ("status", 12),
    ("required", 9),
    ("actual", 9),
    ("evidence_dates", 14),
    ("evidence_titles", 30),
    ("evidence_amounts", 12),
    ("recorded_by", 12),
    ("recorded_at", 18),
    ("waiver", 24),
)


def to_xlsx(
    listing: AuditListing,
    lang: str,
    zone: ZoneInfo,
    generated: datetime,
    trail: Sequence[Change] = (),
    documents: Sequence[Document] | None = None,
) -> bytes:
    """The workbook as bytes: summary, one sheet per rule, and the change trail if given.
    With ``documents`` (the ZIP bundle's) each rule sheet gets a 附件 column linking the
    obligation's folder, and a 附件清单 sheet links every file (relative links)."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    _summary_sheet(summary, listing, lang, generated, zone)
    for rule in listing.rules:
        sheet = book.create_sheet(_sheet_name(rule.id))
        _rule_sheet(sheet, listing.rows_of(rule), lang, zone)
        if documents is not None:
            _link_documents(sheet, listing.rows_of(rule), documents, lang)
    if documents is not None:
        _documents_sheet(book.create_sheet(labels(lang)["documents"]), documents, lang)
    if trail:
        _trail_sheet(book.create_sheet(labels(lang)["trail"]), trail, lang, zone)
    for sheet in book.worksheets:  # a title or reason starting with "=" stays text
        for cells in sheet.iter_rows():
            never_formulas(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _link_documents(
    sheet: Worksheet, rows: Sequence[AuditRow], documents: Sequence[Document], lang: str
) -> None:
    """A 附件 column: each obligation's file names, linked to its folder in the bundle."""
    by_key: dict[tuple[str, str, str], list[Document]] = {}
    for document in documents:
        key = (document.unit_code, document.rule_id, document.period_label)
        by_key.setdefault(key, []).append(document)
    column = sheet.max_column + 1
    top = Alignment(vertical="top", wrap_text=True)
    header = sheet.cell(1, column, labels(lang)["documents"])
    header.font, header.fill = sheet.cell(1, 1).font.copy(), sheet.cell(1, 1).fill.copy()
    # each obligation's first sheet row (a payment rule's further payments follow it, blank
    # in the unit code column)
    firsts = [c.row for (c,) in sheet.iter_rows(min_row=2, max_col=1) if c.value is not None]
    for number, row in zip(firsts, rows, strict=True):
        key = (row.unit.code, row.rule.id, row.obligation.period.label)
        mine = by_key.get(key)
        if not mine:
            continue
        cell = sheet.cell(number, column, "\n".join(d.path.rsplit("/", 1)[1] for d in mine))
        cell.hyperlink = folder_of(key)
        cell.alignment = top
    sheet.column_dimensions[sheet.cell(1, column).column_letter].width = 30


def _documents_sheet(sheet: Worksheet, documents: Sequence[Document], lang: str) -> None:
    """One row per file of the bundle, its path a relative link to the file."""
    words, kinds = labels(lang), words_of(lang, "trail.document.")
    keys = ("unit_code", "rule", "period", "document_type", "document_file")
    sheet.append([words[key] for key in keys])
    for number, document in enumerate(documents, start=2):
        sheet.append(
            [document.unit_code, document.rule_id, document.period_label,
             kinds.get(document.kind, document.kind), document.path]
        )  # fmt: skip
        cell = sheet.cell(number, 5)
        cell.hyperlink = document.path
        cell.style = "Hyperlink"
    _style_header(sheet, 1)
    sheet.freeze_panes = "A2"
    _widths(sheet, [10, 24, 14, 12, 60])


def _sheet_name(text: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in text)
    return cleaned[:31]


def _summary_sheet(
    sheet: Worksheet, listing: AuditListing, lang: str, generated: datetime, zone: ZoneInfo
) -> None:
    words = labels(lang)
    sheet.title = words["summary"]
    sheet.append([words["title"]])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in [*filters_text(listing, lang), (words["generated"], "")]:
        sheet.append([label, value])
    sheet.cell(sheet.max_row, 2).value = format_moment(generated, lang, zone)
    sheet.append([])
    header_row = sheet.max_row + 1
    statuses = [status_name(status, lang) for status in SEVERITY]
    sheet.append(
        [
            words["rule"],
            words["rule_title"],
            words["cite"],
            words["total"],
            *statuses,
            words["rate"],
        ]
    )
    for line in listing.summaries():
        counts = [line.counts.get(status, 0) for status in SEVERITY]
        sheet.append(
            [
                line.rule.id,
                line.rule.title(lang),
                line.rule.cite,
                line.total,
                *counts,
                format_rate(line.rate),
            ]
        )
    _style_header(sheet, header_row)
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    _widths(sheet, [26, 30, 40, 9, *([10] * len(SEVERITY)), 9])
    _print_setup(sheet)


def _rule_sheet(sheet: Worksheet, rows: Sequence[AuditRow], lang: str, zone: ZoneInfo) -> None:
    words = labels(lang)
    reviewed = any(e.review is not None for row in rows for e in row.evidence)
    sheet.append(
        [words[key] for key, _ in RULE_COLUMNS] + ([words["reviewed"]] if reviewed else [])
    )
    fills = {status: PatternFill("solid", fgColor=fill) for status, fill in STATUS_FILLS.items()}
    number = 1  # the sheet row last written, counted: max_row walks every cell
    for row in rows:
        lines = _rule_lines(row, lang, zone)
        if reviewed:
            lines[0].append("\n".join(review_text(e, lang, zone) for e in row.evidence))
        sheet.append(lines[0])
        number += 1
        fill = fills.get(row.status)
        if fill:
            sheet.cell(number, 7).fill = fill
        for line in lines[1:]:
            sheet.append(line)
            number += 1
    amounts = 1 + [key for key, _ in RULE_COLUMNS].index("evidence_amounts")
    for cells in sheet.iter_rows(min_row=2, min_col=amounts, max_col=amounts):
        for cell in cells:
            cell.number_format = "#,##0.##"
    date_format = ZH_DATE if lang != "en" else EN_DATE
    for cells in sheet.iter_rows(min_row=2, min_col=4, max_col=6):
        for cell in cells:
            cell.number_format = date_format
    top = Alignment(vertical="top", wrap_text=True)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = top
    _style_header(sheet, 1)
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    _widths(sheet, [width for _, width in RULE_COLUMNS] + ([28] if reviewed else []))
    _print_setup(sheet)


def _rule_lines(row: AuditRow, lang: str, zone: ZoneInfo) -> list[list[object]]:
    """The sheet rows of one obligation. A rule that adds up amounts gets one row per payment
    (the obligation's cells on the first), so each amount is a number cell Excel can add up;
    other rules list their evidence in one cell."""
    if not is_money(row) or len(row.evidence) < 2:
        return [_rule_cells(row, lang, zone, row.evidence)]
    first, *more = row.evidence
    lines = [_rule_cells(row, lang, zone, (first,))]
    blank: list[object] = [None] * 9
    for e in more:
        lines.append([*blank, *_evidence_cells(row, (e,), lang, zone), None])
    return lines


def _evidence_cells(
    row: AuditRow, evidence: Sequence[Evidence], lang: str, zone: ZoneInfo
) -> list[object]:
    amount: object = None
    if is_money(row):
        amount = json_number(evidence[0].amount) if len(evidence) == 1 else None
    return [
        "\n".join(_date_text(e.day, lang) for e in evidence),
        "\n".join(e.title for e in evidence),
        amount,
        "\n".join(e.recorded_by for e in evidence),
        "\n".join(f"{local_time(e.recorded_at, zone):%Y-%m-%d %H:%M}" for e in evidence),
    ]


def _rule_cells(
    row: AuditRow, lang: str, zone: ZoneInfo, evidence: Sequence[Evidence]
) -> list[object]:
    o, words = row.obligation, labels(lang)
    by = f"{words['approved_by']} {o.waiver.approved_by}" if o.waiver else ""
    waiver = (
        ""
        if o.waiver is None
        else f"{o.waiver.reason} " + (f"({by})" if lang == "en" else f"（{by}）")
    )
    return [
        row.unit.code,
        row.unit.name,
        o.period.label,
        o.period.start,
        o.period.end,
        o.due,
        status_text(o.status, lang),
        json_number(o.required),
        json_number(o.actual),
        *_evidence_cells(row, evidence, lang, zone),
        waiver,
    ]


def _date_text(day: date, lang: str) -> str:
    return format_date(day, lang)


def _trail_sheet(sheet: Worksheet, trail: Sequence[Change], lang: str, zone: ZoneInfo) -> None:
    words = labels(lang)
    keys = ("changed_at", "changed_by", "action", "unit_code", "subject", "before", "after")
    sheet.append([words[key] for key in keys])
    for number, change in enumerate(trail, start=2):
        when = local_time(change.at, zone).replace(tzinfo=None)
        sheet.append(
            [
                when,
                change.actor,
                change.action,
                change.unit_code or "",
                change.subject,
                change.before,
                change.after,
            ]
        )
        sheet.cell(number, 1).number_format = "yyyy-mm-dd hh:mm"
    _style_header(sheet, 1)
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    _widths(sheet, [18, 14, 14, 10, 24, 40, 40])
    _print_setup(sheet)


def _style_header(sheet: Worksheet, row: int) -> None:
    for cell in sheet[row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)


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
