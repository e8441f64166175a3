"""The 整改台账: every rectification item with its issue, due date, answer and decision, as CSV
(UTF-8 with a BOM, cells that never run as formulas) or XLSX (text cells always text)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from scheduler.audit.export import labels, local_time
from scheduler.core.words import words
from scheduler.store.models import Unit
from scheduler.store.models_rectifications import Rectification
from scheduler.tables import csv_row, never_formulas

COLUMNS = (
    "rectify_id", "rectify_unit_code", "rectify_unit", "rectify_source", "rectify_issue",
    "rectify_due", "rectify_status", "rectify_opened_by", "rectify_answer",
    "rectify_answered_by", "rectify_decided_by", "rectify_comment",
)  # fmt: skip
Items = Sequence[tuple[Rectification, Unit]]


def cells(item: Rectification, unit: Unit, lang: str, zone: ZoneInfo) -> list[object]:
    """One item's cells, in `COLUMNS` order."""
    sources, statuses = words(lang, "trail.source."), words(lang, "trail.status.")
    source = sources.get(item.source, item.source)
    if item.rule_id:
        source = f"{source} {item.rule_id} {item.period_label or ''}".rstrip()
    if item.event_id:
        source = f"{source} #{item.event_id}"
    return [
        item.id,
        unit.code,
        unit.name,
        source,
        item.issue,
        item.due.isoformat(),
        statuses.get(item.status, item.status),
        f"{item.opened_by} {local_time(item.opened_at, zone):%Y-%m-%d}",
        item.answer or "",
        _who(item.answered_by, item.answered_at, zone),
        _who(item.decided_by, item.decided_at, zone),
        item.comment or "",
    ]


def _who(name: str | None, moment: datetime | None, zone: ZoneInfo) -> str:
    if not name or moment is None:
        return ""
    return f"{name} {local_time(moment, zone):%Y-%m-%d}"


def to_csv(items: Items, lang: str, zone: ZoneInfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    names = labels(lang)
    writer.writerow([names[key] for key in COLUMNS])
    for item, unit in items:
        writer.writerow(csv_row(cells(item, unit, lang, zone)))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(items: Items, lang: str, zone: ZoneInfo) -> bytes:
    names = labels(lang)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = names["rectify_sheet"]
    sheet.append([names[key] for key in COLUMNS])
    for number, (item, unit) in enumerate(items, start=2):
        sheet.append(cells(item, unit, lang, zone))
        never_formulas(sheet[number])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for letter, width in zip(
        "ABCDEFGHIJKL", (6, 10, 14, 20, 36, 12, 10, 16, 36, 16, 16, 24), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
