"""The audit listing as an XLSX workbook, written with XlsxWriter.

A summary sheet (the filters and one line per rule), one sheet per rule with a row per
obligation, and, when given, a sheet of the change trail. Every table has a bold header row that
stays frozen when scrolling and repeats on each printed page; columns have set widths; pages
print A4 landscape, fitted to the page width. Dates are real date cells shown as 2021年3月31日.
Text cells are always text (``write_string``, inline strings), never formulas or links,
whatever they start with; characters XML cannot hold (controls other than tab and line breaks)
are left out, a text is cut at Excel's 32,767 characters, and a number that is not finite
(Excel has none) leaves its cell empty. XlsxWriter's ``constant_memory`` mode writes each row
out once the next one starts, so the workbook holds one row of cells at a time.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

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

ZH_DATE = 'yyyy"年"m"月"d"日"'
EN_DATE = "d mmm yyyy"
HEADER_FILL = "DDE4EE"
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
STATUS_COLUMN = 7
OPTIONS = {
    "constant_memory": True,  # rows written out as they come, strings inline
    "strings_to_formulas": False,  # `write` would otherwise take "=..." for a formula;
    "strings_to_urls": False,  # every cell is written by its type anyway
    "strings_to_numbers": False,
    "remove_timezone": True,  # a time's zone dropped (times are local already)
}
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what XML cannot hold
LINK_ESCAPES = str.maketrans(
    {ch: f"%{ord(ch):02x}" for ch in '%#" <>[]^`{}'}
)  # XlsxWriter's escapes, and # (else the rest is taken for a place in the file)
PIXELS = 7  # of a character of the default font: a width of w is stored as w characters


@dataclass(frozen=True)
class Layout:
    """A sheet's column widths (in characters, as stored); the header row (frozen with the
    rows above it, and on a printable sheet repeated on each page); printable: A4 landscape,
    one page wide, centred."""

    widths: Sequence[float]
    header: int = 1
    printable: bool = True


Cell = tuple[object, Format | None, str | None]  # value, style, relative link
Row = Sequence[Cell | None]


def cell(value: object, style: Format | None = None, link: str | None = None) -> Cell | None:
    """A cell, or none for an empty value (``None`` or ``""``)."""
    return None if value is None or value == "" else (value, style, link)


class Styles:
    """The workbook's cell styles: the title, the header, the trail's times, the links of the
    documents sheet (None: XlsxWriter's built-in Hyperlink style), and a rule sheet's cells by
    kind of column and, for the status column, status."""

    def __init__(self, book: Workbook, lang: str) -> None:
        top = {"valign": "top", "text_wrap": True}
        date_format = ZH_DATE if lang != "en" else EN_DATE
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.header = book.add_format(
            {"bold": True, "bg_color": f"#{HEADER_FILL}", "pattern": 1, "valign": "vcenter",
             "text_wrap": True}
        )  # fmt: skip
        self.time = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.link: Format | None = None
        self.text = book.add_format(top)
        kinds = {
            "text": self.text,
            "date": book.add_format({**top, "num_format": date_format}),
            "amount": book.add_format({**top, "num_format": "#,##0.##"}),
        }
        self.statuses = {
            status: book.add_format({**top, "bg_color": f"#{rgb}", "pattern": 1})
            if (rgb := STATUS_FILLS.get(status))
            else self.text
            for status in Status
        }
        last = len(RULE_COLUMNS) + 1  # and the review column
        named = {**COLUMN_KINDS, STATUS_COLUMN: "text"}  # the status column: `of_status`
        self.columns = [kinds[named.get(n, "text")] for n in range(1, last + 1)]

    def of_status(self, status: Status | None) -> Format:
        """The style of an obligation's status cell (coloured by status)."""
        return self.statuses[status] if status else self.text


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
        out = io.BytesIO()
        _workbook(out, listing, lang, zone, generated, trail, documents)
        return out.getvalue()


def _workbook(
    out: io.BytesIO,
    listing: AuditListing,
    lang: str,
    zone: ZoneInfo,
    generated: datetime,
    trail: Sequence[Change],
    documents: Sequence[Document] | None,
) -> None:
    book = Workbook(out, OPTIONS)
    created = generated.astimezone(UTC).replace(tzinfo=None) if generated.tzinfo else generated
    book.set_properties({"author": "huiqi", "created": created})
    styles, words, names = Styles(book, lang), labels(lang), set[str]()

    def add(title: str, sheet: Sheet) -> None:
        name = _unique(_sheet_name(title), names)
        names.add(name.casefold())
        _write_sheet(book.add_worksheet(name), *sheet)

    add(words["summary"], _summary_sheet(listing, lang, generated, zone, styles))
    links = None if documents is None else by_obligation(documents)
    for rule in listing.rules:
        add(rule.id, _rule_sheet(listing.rows_of(rule), lang, zone, styles, links))
    if documents is not None:
        add(words["documents"], _documents_sheet(documents, lang, styles))
    if trail:
        add(words["trail"], _trail_sheet(trail, lang, zone, styles))
    book.close()


Sheet = tuple[Layout, Iterator[Row]]


def _write_sheet(sheet: Worksheet, layout: Layout, rows: Iterable[Row]) -> None:
    """The sheet's layout and page setup, then its rows (row 1 first, a row's cells from
    column A, None for none)."""
    for column, width in enumerate(layout.widths):
        sheet.set_column_pixels(column, column, width * PIXELS)
    sheet.freeze_panes(layout.header, 0)
    if layout.printable:
        sheet.repeat_rows(layout.header - 1)
        sheet.set_paper(9)  # A4
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)  # one page wide, as many long as it takes
        sheet.center_horizontally()
        sheet.set_margins(left=0.4, right=0.4, top=1, bottom=1)
    else:
        sheet.set_margins(left=0.75, right=0.75, top=1, bottom=1)
    sheet.set_header("", margin=0.5)
    sheet.set_footer("", margin=0.5)
    for number, row in enumerate(rows):
        for column, item in enumerate(row):
            if item is not None:
                _write_cell(sheet, number, column, *item)


def _write_cell(
    sheet: Worksheet, row: int, column: int, value: object, style: Format | None, link: str | None
) -> None:
    """One cell, by the type of its value: text always as text."""
    if isinstance(value, str):
        text = ILLEGAL.sub("", value) if ILLEGAL.search(value) else value
        if link is None:
            sheet.write_string(row, column, text, style)
        else:
            target = "external:" + link.translate(LINK_ESCAPES)
            sheet.write_url(row, column, target, style, text)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, style)
    elif isinstance(value, int | float | Decimal):
        if _finite(value):
            sheet.write_number(row, column, value, style)
        else:
            sheet.write_blank(row, column, None, style)
    elif isinstance(value, date):
        sheet.write_datetime(row, column, value, style)
    else:
        raise TypeError(f"cannot write {value!r} into a cell")


def _finite(number: int | float | Decimal) -> bool:
    if isinstance(number, Decimal):
        return number.is_finite()
    return isinstance(number, int) or math.isfinite(number)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _sheet_name(text: str) -> str:
    """Excel sheet names: at most 31 characters (UTF-16 units), none of []:*?/\\, not
    starting or ending with an apostrophe."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in text).strip("'") or "_"
    while _utf16_length(cleaned) > 31:
        cleaned = cleaned[:-1]
    return cleaned


def _unique(title: str, taken: set[str]) -> str:
    """``title``, or with a number after it (within Excel's 31 characters) when another
    sheet has it already (``taken``: their names casefolded): Excel refuses a workbook with two
    sheets of one name."""
    candidate, number = title, 1
    while candidate.casefold() in taken:
        suffix = str(number)
        candidate, number = _sheet_name(title[: 31 - len(suffix)]) + suffix, number + 1
    return candidate


def _header(texts: Sequence[str], styles: Styles) -> Row:
    return [cell(text, styles.header) for text in texts]


def _plain(values: Sequence[object]) -> Row:
    return [cell(value) for value in values]


def _documents_sheet(documents: Sequence[Document], lang: str, styles: Styles) -> Sheet:
    """One row per file of the bundle, its path a relative link to the file."""
    words, kinds = labels(lang), words_of(lang, "trail.document.")
    keys = ("unit_code", "rule", "period", "document_type", "document_file")
    link = styles.link

    def rows() -> Iterator[Row]:
        yield _header([words[key] for key in keys], styles)
        for d in documents:
            kind = kinds.get(d.kind, d.kind)
            yield [*_plain([d.unit_code, d.rule_id, d.period_label, kind]),
                   cell(d.path, link, d.path)]  # fmt: skip

    return Layout([10, 24, 14, 12, 60], printable=False), rows()


def _summary_sheet(
    listing: AuditListing, lang: str, generated: datetime, zone: ZoneInfo, styles: Styles
) -> Sheet:
    """The title, the filters and the time it was made, then a table of one line per rule."""
    words = labels(lang)
    filters = [
        *filters_text(listing, lang),
        (words["generated"], format_moment(generated, lang, zone)),
    ]
    header_row = len(filters) + 3  # the title, the filters, a blank row
    statuses = [status_name(status, lang) for status in SEVERITY]
    header = [words["rule"], words["rule_title"], words["cite"], words["total"], *statuses,
              words["rate"]]  # fmt: skip

    def rows() -> Iterator[Row]:
        yield [cell(words["title"], styles.title)]
        for label, value in filters:
            yield _plain([label, value])
        yield []
        yield _header(header, styles)
        for line in listing.summaries():
            counts = [line.counts.get(status, 0) for status in SEVERITY]
            yield _plain([line.rule.id, line.rule.title(lang), line.rule.cite, line.total,
                          *counts, format_rate(line.rate)])  # fmt: skip

    return Layout([26, 30, 40, 9, *([10] * len(SEVERITY)), 9], header=header_row), rows()


def _rule_sheet(
    rows: Sequence[AuditRow],
    lang: str,
    zone: ZoneInfo,
    styles: Styles,
    links: Mapping[ObligationKey, Sequence[Document]] | None = None,
) -> Sheet:
    """One row per obligation (a payment rule's further payments on rows of their own); with
    ``links`` (the ZIP bundle's documents by obligation) a last 附件 column linking each
    obligation's folder: its file names, linked to the folder."""
    words = labels(lang)
    reviewed = any(e.review is not None for row in rows for e in row.evidence)
    header = [words[key] for key, _ in RULE_COLUMNS] + ([words["reviewed"]] if reviewed else [])
    widths = [width for _, width in RULE_COLUMNS] + ([28] if reviewed else [])
    if links is not None:
        header.append(words["documents"])
        widths.append(30)
    columns, text = styles.columns, styles.text

    def sheet_rows() -> Iterator[Row]:
        yield _header(header, styles)
        for row in rows:
            lines = _rule_lines(row, lang, zone)
            if reviewed:
                lines[0].append("\n".join(review_text(e, lang, zone) for e in row.evidence))
            for index, line in enumerate(lines):
                out = [cell(value, columns[n]) for n, value in enumerate(line)]
                if index == 0:
                    out[STATUS_COLUMN - 1] = cell(
                        line[STATUS_COLUMN - 1], styles.of_status(row.status)
                    )
                    mine = links.get(obligation_key(row)) if links is not None else None
                    if mine:
                        out += [None] * (len(header) - 1 - len(out))
                        names = "\n".join(d.path.rsplit("/", 1)[1] for d in mine)
                        out.append(cell(names, text, folder_of(key_of(mine[0]))))
                yield out

    return Layout(widths), sheet_rows()


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


def _trail_sheet(trail: Sequence[Change], lang: str, zone: ZoneInfo, styles: Styles) -> Sheet:
    words = labels(lang)
    keys = ("changed_at", "changed_by", "action", "unit_code", "subject", "before", "after")
    time_style = styles.time

    def rows() -> Iterator[Row]:
        yield _header([words[key] for key in keys], styles)
        for change in trail:
            when = local_time(change.at, zone).replace(tzinfo=None)
            values = [change.actor, change.action, change.unit_code or "", change.subject,
                      change.before, change.after]  # fmt: skip
            yield [cell(when, time_style), *_plain(values)]

    return Layout([18, 14, 14, 10, 24, 40, 40]), rows()
