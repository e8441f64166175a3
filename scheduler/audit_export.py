"""The audit listing as files: CSV (UTF-8 with BOM, for Excel), XLSX and print-ready HTML.

Headers and words are Chinese by default, English with ``lang="en"``. CSV dates are ISO
(sortable); XLSX dates are real date cells shown as 2021年3月31日; HTML writes them as people do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.audit import AuditListing, AuditRow, Evidence
from scheduler.compliance import Status
from scheduler.i18n import format_date, format_rate, status_name
from scheduler.reports import json_number
from scheduler.summaries import SEVERITY, SYMBOLS
from scheduler.templating import page_environment

LABELS = {
    "zh": {
        "title": "工作台账",
        "unit_code": "单位代码",
        "unit": "单位",
        "rule": "规则",
        "rule_title": "规则名称",
        "cite": "依据条款",
        "period": "期间",
        "start": "开始日期",
        "end": "结束日期",
        "due": "截止日期",
        "status": "状态",
        "required": "要求",
        "actual": "实际",
        "evidence": "佐证材料",
        "evidence_ids": "佐证事件编号",
        "evidence_dates": "佐证日期",
        "evidence_titles": "佐证标题",
        "recorded_by": "记录人",
        "recorded_at": "记录时间",
        "waiver": "豁免",
        "waiver_reason": "豁免理由",
        "waiver_by": "豁免批准人",
        "summary": "汇总",
        "scope": "范围",
        "as_of": "截至",
        "filter_unit": "单位范围",
        "filter_rule": "规则",
        "filter_status": "状态",
        "all": "全部",
        "total": "义务数",
        "rate": "按时率",
        "generated": "生成时间",
        "none": "无",
        "approved_by": "批准人",
        "by": "记录",
        "trail": "变更记录",
        "changed_at": "时间",
        "changed_by": "操作人",
        "action": "操作",
        "subject": "对象",
        "before": "变更前",
        "after": "变更后",
    },
    "en": {
        "title": "Audit listing",
        "unit_code": "Unit code",
        "unit": "Unit",
        "rule": "Rule",
        "rule_title": "Rule title",
        "cite": "Clause",
        "period": "Period",
        "start": "Start",
        "end": "End",
        "due": "Due",
        "status": "Status",
        "required": "Required",
        "actual": "Actual",
        "evidence": "Evidence",
        "evidence_ids": "Evidence event ids",
        "evidence_dates": "Evidence dates",
        "evidence_titles": "Evidence titles",
        "recorded_by": "Recorded by",
        "recorded_at": "Recorded at",
        "waiver": "Waiver",
        "waiver_reason": "Waiver reason",
        "waiver_by": "Waiver approved by",
        "summary": "Summary",
        "scope": "Scope",
        "as_of": "As of",
        "filter_unit": "Units",
        "filter_rule": "Rule",
        "filter_status": "Status",
        "all": "all",
        "total": "Obligations",
        "rate": "On time",
        "generated": "Generated",
        "none": "none",
        "approved_by": "approved by",
        "by": "recorded by",
        "trail": "Change trail",
        "changed_at": "When",
        "changed_by": "Who",
        "action": "Action",
        "subject": "Subject",
        "before": "Before",
        "after": "After",
    },
}

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
)


def labels(lang: str) -> dict[str, str]:
    return LABELS["en" if lang == "en" else "zh"]


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
    ]


def to_csv(listing: AuditListing, lang: str, zone: ZoneInfo) -> bytes:
    """The listing as CSV bytes: UTF-8 with a BOM so that Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    words = labels(lang)
    writer.writerow([words[column] for column in CSV_COLUMNS])
    for row in listing.rows:
        writer.writerow(_csv_cells(row, lang, zone))
    return out.getvalue().encode("utf-8-sig")


# ----------------------------------------------------------------------------------------------
# HTML


@dataclass(frozen=True)
class HtmlContext:
    """What the print template needs beyond the listing."""

    lang: str
    zone: ZoneInfo
    generated: datetime
    filters: Sequence[tuple[str, str]]


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
        "rate": format_rate,
        "evidence_line": _evidence_line(lang, zone),
    }


def _evidence_line(lang: str, zone: ZoneInfo) -> Callable[[Evidence], str]:
    words = labels(lang)

    def line(e: Evidence) -> str:
        when = format_moment(e.recorded_at, lang, zone)
        return f"{format_date(e.day, lang)} {e.title} ({words['by']} {e.recorded_by}, {when})"

    return line
