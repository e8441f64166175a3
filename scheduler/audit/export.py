"""The audit listing as files: CSV (UTF-8 with BOM, for Excel), XLSX and print-ready HTML.

Headers and words are Chinese by default, English with ``lang="en"``. CSV dates are ISO
(sortable); XLSX dates are real date cells shown as 2021年3月31日; HTML writes them as people do.
A CSV text cell that a spreadsheet would run as a formula gets a leading ``'`` (`csv_row`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.audit.bundle import Document, by_obligation, obligation_key
from scheduler.audit.listing import AuditListing, AuditRow, Evidence
from scheduler.core.compliance import Status
from scheduler.core.rules import SumRequirement
from scheduler.core.summaries import SEVERITY, SYMBOLS
from scheduler.core.words import Words, format_date, format_rate, status_name, words
from scheduler.store.reports import json_number
from scheduler.tables import csv_row

CSV_COLUMNS = (
    "unit_code",
    "unit",
    "rule",
    "rule_title",
    "cite",
    "period",
    "start",
    "end",
    "due",
    "status",
    "required",
    "actual",
    "evidence_ids",
    "evidence_dates",
    "evidence_titles",
    "recorded_by",
    "recorded_at",
    "waiver_reason",
    "waiver_by",
    "evidence_amounts",
)


def labels(lang: str) -> Words:
    """The words of the listing's columns, headings and filters."""
    return words(lang, "audit.")


def status_text(status: Status, lang: str) -> str:
    """A status with its symbol, never colour alone: ``✔ 按时完成``."""
    return f"{SYMBOLS[status]} {status_name(status, lang)}"


def local_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """A stored time in the local zone (SQLite hands back naive local times)."""
    return moment if moment.tzinfo is None else moment.astimezone(zone)


def format_moment(moment: datetime, lang: str, zone: ZoneInfo) -> str:
    local = local_time(moment, zone)
    return f"{format_date(local.date(), lang)} {local:%H:%M}"


def number_text(value: Decimal | None) -> str:
    return "" if value is None else str(json_number(value))


def money_text(value: Decimal | None) -> str:
    """An amount with thousands separators and cents only when it has them: ``17,000``,
    ``2,500.50``; empty for none."""
    if value is None:
        return ""
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def is_money(row: AuditRow) -> bool:
    """Whether the row's rule adds up amounts (its evidence are payments)."""
    return isinstance(row.rule.requirement, SumRequirement)


# ----------------------------------------------------------------------------------------------
# CSV


def _csv_cells(row: AuditRow, lang: str, zone: ZoneInfo) -> list[str]:
    o, evidence = row.obligation, row.evidence
    waiver = o.waiver
    return [
        row.unit.code,
        row.unit.name,
        row.rule.id,
        row.rule.title(lang),
        row.rule.cite,
        o.period.label,
        o.period.start.isoformat(),
        o.period.end.isoformat(),
        o.due.isoformat(),
        status_text(o.status, lang),
        number_text(o.required),
        number_text(o.actual),
        "; ".join(str(e.event_id) for e in evidence),
        "; ".join(e.day.isoformat() for e in evidence),
        "; ".join(e.title for e in evidence),
        "; ".join(e.recorded_by for e in evidence),
        "; ".join(f"{local_time(e.recorded_at, zone):%Y-%m-%d %H:%M}" for e in evidence),
        waiver.reason if waiver else "",
        waiver.approved_by if waiver else "",
        "; ".join(number_text(e.amount) for e in evidence) if is_money(row) else "",
    ]


def to_csv(listing: AuditListing, lang: str, zone: ZoneInfo) -> bytes:
    """The listing as CSV bytes: UTF-8 with a BOM so that Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    words = labels(lang)
    extra = REVIEW_COLUMNS if listing.reviewed else ()
    writer.writerow([words[column] for column in (*CSV_COLUMNS, *extra)])
    for row in listing.rows:
        cells = _csv_cells(row, lang, zone) + (_review_cells(row, lang, zone) if extra else [])
        writer.writerow(csv_row(cells))
    return out.getvalue().encode("utf-8-sig")


REVIEW_COLUMNS = ("review_state", "reviewer", "reviewed_at", "review_comment")


def _review_cells(row: AuditRow, lang: str, zone: ZoneInfo) -> list[str]:
    """With review on: each evidence's review state, reviewer, review time and comment."""
    words, evidence = labels(lang), row.evidence
    return [
        "; ".join(words[f"review_{e.review}"] if e.review else "" for e in evidence),
        "; ".join(e.reviewer or "" for e in evidence),
        "; ".join(
            f"{local_time(e.reviewed_at, zone):%Y-%m-%d %H:%M}" if e.reviewed_at else ""
            for e in evidence
        ),
        "; ".join(e.review_comment or "" for e in evidence),
    ]


# ----------------------------------------------------------------------------------------------
# HTML


@dataclass(frozen=True)
class HtmlContext:
    """What the print template needs beyond the listing: with ``documents`` (the evidence's
    attachments, `scheduler.audit.bundle.documents_of`) each obligation lists its own, each
    linked to ``link(document)`` where that gives an address (the web app's download, for a
    reader who may read the unit; none in a file written by the command line)."""

    lang: str
    zone: ZoneInfo
    generated: datetime
    filters: Sequence[tuple[str, str]]
    documents: Sequence[Document] = ()
    link: Callable[[Document], str | None] = field(default=lambda document: None)


def filters_text(listing: AuditListing, lang: str) -> list[tuple[str, str]]:
    """The listing's filters as (label, value) pairs, for the page and the summary sheet."""
    words, query = labels(lang), listing.query
    return [
        (words["scope"], query.scope),
        (words["filter_unit"], query.unit or words["all"]),
        (words["filter_rule"], query.rule or words["all"]),
        (words["filter_status"], status_text(query.status, lang) if query.status else words["all"]),
        (words["as_of"], format_date(query.as_of, lang)),
    ]


def to_html(listing: AuditListing, templates: Path, context: HtmlContext) -> bytes:
    """The print-ready page (``templates/audit/listing.html``), A4 landscape when printed."""
    from scheduler.templating import page_environment  # Jinja2: only the print version needs it

    env = page_environment(str(templates))
    page = env.get_template("audit/listing.html").render(**html_variables(listing, context))
    return page.encode("utf-8")


def html_variables(listing: AuditListing, context: HtmlContext) -> dict[str, object]:
    lang, zone = context.lang, context.zone
    return {
        "lang": lang,
        "t": labels(lang),
        "listing": listing,
        "summaries": listing.summaries(),
        "filters": context.filters,
        "generated": format_moment(context.generated, lang, zone),
        "statuses": SEVERITY,
        "status_text": lambda status: status_text(status, lang),
        "status_name": lambda status: status_name(status, lang),
        "date": lambda day: format_date(day, lang),
        "moment": lambda moment: format_moment(moment, lang, zone),
        "number": number_text,
        "money": money_text,
        "is_money": is_money,
        "rate": format_rate,
        "evidence_line": _evidence_line(lang, zone),
        "documents": bool(context.documents),
        "documents_of": _documents_of(context),
        "document_kind": _document_kind(lang),
        "document_link": context.link,
    }


def _documents_of(context: HtmlContext) -> Callable[[AuditRow], Sequence[Document]]:
    filed = by_obligation(context.documents)
    return lambda row: filed.get(obligation_key(row), ())


def _document_kind(lang: str) -> Callable[[Document], str]:
    """A document's type as a word with its colon: ``会议记录：``, ``Minutes: ``."""
    kinds = words(lang, "trail.document.")
    colon = ": " if lang == "en" else "："

    def kind(document: Document) -> str:
        word = kinds.get(document.kind, document.kind)
        return word[:1].upper() + word[1:] + colon  # a label: "Minutes: " (no case in Chinese)

    return kind


def review_text(e: Evidence, lang: str, zone: ZoneInfo) -> str:
    """An evidence's review as the listing shows it (empty with review.mode off):
    ``已通过 县妇联 2021-06-30 10:00``, ``已退回 … （请补充会议记录）``, ``待审核``."""
    if e.review is None:
        return ""
    text = labels(lang)[f"review_{e.review}"]
    if e.reviewer and e.reviewed_at:
        text += f" {e.reviewer} {local_time(e.reviewed_at, zone):%Y-%m-%d %H:%M}"
    if e.review_comment:
        text += f" ({e.review_comment})" if lang == "en" else f"（{e.review_comment}）"
    return text


def _evidence_line(lang: str, zone: ZoneInfo) -> Callable[[Evidence], str]:
    words = labels(lang)

    def line(e: Evidence) -> str:
        when = format_moment(e.recorded_at, lang, zone)
        paid = f" · {words['amount'].format(amount=money_text(e.amount))}" if e.amount else ""
        by = f"{words['by']} {e.recorded_by}"
        if lang == "en":
            text = f"{format_date(e.day, lang)} {e.title}{paid} ({by}, {when})"
        else:
            text = f"{format_date(e.day, lang)} {e.title}{paid}（{by}，{when}）"
        review = review_text(e, lang, zone)
        return f"{text} · {review}" if review else text

    return line
