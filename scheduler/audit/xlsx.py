"""The audit listing as an XLSX workbook (openpyxl).

A summary sheet (the filters and one line per rule), one sheet per rule with a row per
obligation, and, when given, a sheet of the change trail. Every table has a bold header row that
stays frozen when scrolling and repeats on each printed page; columns have set widths; pages
print A4 landscape, fitted to the page width. Dates are real date cells shown as 2021年3月31日.
Text cells are always text, never formulas, whatever they start with.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from copy import copy
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scheduler.audit.bundle import (
    Document,
    ObligationKey,
    by_obligation,
    folder_of,
    key_of,
    obligation_key,
)
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
from scheduler.core.gcpause import gc_paused
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

AMOUNT_COLUMN = 1 + [key for key, _ in RULE_COLUMNS].index("evidence_amounts")
COLUMN_KINDS = {4: "date", 5: "date", 6: "date", 7: "status", AMOUNT_COLUMN: "amount"}


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
    with gc_paused():  # tens of thousands of cells, none of them garbage until the end
        return _workbook(listing, lang, zone, generated, trail, documents)


def _workbook(
    listing: AuditListing,
    lang: str,
    zone: ZoneInfo,
    generated: datetime,
    trail: Sequence[Change],
    documents: Sequence[Document] | None,
) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None
    _summary_sheet(summary, listing, lang, generated, zone)
    links = None if documents is None else by_obligation(documents)
    for rule in listing.rules:
        sheet = book.create_sheet(_sheet_name(rule.id))
        _rule_sheet(sheet, listing.rows_of(rule), lang, zone, links)
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


def _link_cell(sheet: Worksheet, number: int, column: int, documents: Sequence[Document]) -> None:
    """The 附件 cell of an obligation: its file names, linked to its folder in the bundle."""
    cell = sheet.cell(number, column, "\n".join(d.path.rsplit("/", 1)[1] for d in documents))
    cell.hyperlink = folder_of(key_of(documents[0]))


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


def _rule_sheet(
    sheet: Worksheet,
    rows: Sequence[AuditRow],
    lang: str,
    zone: ZoneInfo,
    links: Mapping[ObligationKey, Sequence[Document]] | None = None,
) -> None:
    """One row per obligation (a payment rule's further payments on rows of their own); with
    ``links`` (the ZIP bundle's documents by obligation) a last 附件 column linking each
    obligation's folder."""
    words = labels(lang)
    reviewed = any(e.review is not None for row in rows for e in row.evidence)
    header = [words[key] for key, _ in RULE_COLUMNS] + ([words["reviewed"]] if reviewed else [])
    widths = [width for _, width in RULE_COLUMNS] + ([28] if reviewed else [])
    if links is not None:
        header.append(words["documents"])
        widths.append(30)
    sheet.append(header)
    styles = _RuleStyles(sheet, lang)
    number = 1  # the sheet row last written, counted: max_row walks every cell
    for row in rows:
        lines = _rule_lines(row, lang, zone)
        if reviewed:
            lines[0].append("\n".join(review_text(e, lang, zone) for e in row.evidence))
        for index, line in enumerate(lines):
            sheet.append([None if value == "" else value for value in line])  # empty: no cell
            number += 1
            written = [column for column, value in enumerate(line, 1) if value not in (None, "")]
            mine = links.get(obligation_key(row)) if links is not None and index == 0 else None
            if mine:
                _link_cell(sheet, number, len(header), mine)
                written.append(len(header))
            cells = [sheet.cell(number, column) for column in written]
            styles.apply(cells, row.status if index == 0 else None)
    _style_header(sheet, 1)
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    _widths(sheet, widths)
    _print_setup(sheet)


class _RuleStyles:
    """The styles of a rule sheet's cells, each made once through openpyxl's API and then copied
    onto the cells (as openpyxl copies a sheet): setting a style attribute on a cell looks the
    style up among all the workbook's, and a county's year has some 60,000 cells."""

    def __init__(self, sheet: Worksheet, lang: str) -> None:
        self.sheet = sheet
        self.date_format = ZH_DATE if lang != "en" else EN_DATE
        self.made: dict[tuple[str, Status | None], StyleArray] = {}

    def style(self, kind: str, status: Status | None) -> StyleArray:
        key = (kind, status)
        if key not in self.made:
            model = Cell(self.sheet)  # not in the sheet: only its style is kept
            model.alignment = Alignment(vertical="top", wrap_text=True)
            if kind == "date":
                model.number_format = self.date_format
            elif kind == "amount":
                model.number_format = "#,##0.##"
            if status in STATUS_FILLS:
                model.fill = PatternFill("solid", fgColor=STATUS_FILLS[status])
            self.made[key] = model._style
        return self.made[key]

    def apply(self, cells: Sequence[Cell], status: Status | None) -> None:
        """Style the written cells of one row; ``status`` colours its status cell (an
        obligation's row)."""
        for cell in cells:
            kind = COLUMN_KINDS.get(cell.column, "text")
            cell._style = copy(self.style(kind, status if kind == "status" else None))


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
    model = Cell(sheet)  # the time cells' style, made once and copied (see `_RuleStyles`)
    model.number_format = "yyyy-mm-dd hh:mm"
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
        sheet.cell(number, 1)._style = copy(model._style)
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
