"""The audit listing as an XLSX workbook (`scheduler.audit.sheetml`).

A summary sheet (the filters and one line per rule), one sheet per rule with a row per
obligation, and, when given, a sheet of the change trail. Every table has a bold header row that
stays frozen when scrolling and repeats on each printed page; columns have set widths; pages
print A4 landscape, fitted to the page width. Dates are real date cells shown as 2021年3月31日.
Text cells are always text, never formulas, whatever they start with.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

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
from scheduler.audit.sheetml import Layout, Row, Style, Workbook, cell
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


class Styles:
    """The workbook's cell styles and their numbers (`sheetml.Workbook`'s order, 0 the
    default): the title, the header, the trail's times, the links of the documents sheet, and
    a rule sheet's cells by kind of column and, for the status column, status."""

    def __init__(self, lang: str) -> None:
        top = "top"  # aligned to the top, text wrapped
        found: dict[object, Style] = {
            "title": Style(bold=True, size=14),
            "header": Style(bold=True, fill=HEADER_FILL, vertical="center"),
            "time": Style(number_format="yyyy-mm-dd hh:mm"),
            "link": Style(link=True),
            ("text", None): Style(vertical=top),
            ("date", None): Style(vertical=top, number_format=ZH_DATE if lang != "en" else EN_DATE),
            ("amount", None): Style(vertical=top, number_format="#,##0.##"),
        }
        for status in Status:
            found[("status", status)] = Style(vertical=top, fill=STATUS_FILLS.get(status))
        self.list = list(found.values())
        self.number = {key: n for n, key in enumerate(found, 1)}
        kinds = {**COLUMN_KINDS, STATUS_COLUMN: "text"}  # the status column: `of_status`
        last = len(RULE_COLUMNS) + 1  # and the review column
        self.columns = [self.number[(kinds.get(n, "text"), None)] for n in range(1, last + 1)]

    def of_status(self, status: Status | None) -> int:
        """The style of an obligation's status cell (coloured by status)."""
        return self.number[("status", status)] if status else self.number[("text", None)]


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
    styles = Styles(lang)
    book = Workbook(out, styles.list, generated)
    words = labels(lang)
    layout, rows = _summary_sheet(listing, lang, generated, zone, styles)
    book.add_sheet(words["summary"], layout, rows)
    links = None if documents is None else by_obligation(documents)
    for rule in listing.rules:
        layout, rows = _rule_sheet(listing.rows_of(rule), lang, zone, styles, links)
        book.add_sheet(_sheet_name(rule.id), layout, rows)
    if documents is not None:
        layout, rows = _documents_sheet(documents, lang, styles)
        book.add_sheet(words["documents"], layout, rows)
    if trail:
        layout, rows = _trail_sheet(trail, lang, zone, styles)
        book.add_sheet(words["trail"], layout, rows)
    book.close()


Sheet = tuple[Layout, Iterator[Row]]


def _header(texts: Sequence[str], styles: Styles) -> Row:
    return [cell(text, styles.number["header"]) for text in texts]


def _plain(values: Sequence[object]) -> Row:
    return [cell(value) for value in values]


def _documents_sheet(documents: Sequence[Document], lang: str, styles: Styles) -> Sheet:
    """One row per file of the bundle, its path a relative link to the file."""
    words, kinds = labels(lang), words_of(lang, "trail.document.")
    keys = ("unit_code", "rule", "period", "document_type", "document_file")
    link = styles.number["link"]

    def rows() -> Iterator[Row]:
        yield _header([words[key] for key in keys], styles)
        for d in documents:
            kind = kinds.get(d.kind, d.kind)
            yield [*_plain([d.unit_code, d.rule_id, d.period_label, kind]),
                   cell(d.path, link, d.path)]  # fmt: skip

    return Layout([10, 24, 14, 12, 60], printable=False), rows()


def _sheet_name(text: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in text)
    return cleaned[:31]


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
        yield [cell(words["title"], styles.number["title"])]
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
    columns, text = styles.columns, styles.number[("text", None)]

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
    time_style = styles.number["time"]

    def rows() -> Iterator[Row]:
        yield _header([words[key] for key in keys], styles)
        for change in trail:
            when = local_time(change.at, zone).replace(tzinfo=None)
            values = [change.actor, change.action, change.unit_code or "", change.subject,
                      change.before, change.after]  # fmt: skip
            yield [cell(when, time_style), *_plain(values)]

    return Layout([18, 14, 14, 10, 24, 40, 40]), rows()
