"""Words and dates in the interface languages: Chinese (zh, the default) and English (en)."""

from __future__ import annotations

from datetime import date

from scheduler.compliance import Status

STATUS_NAMES = {
    "zh": {
        Status.UPCOMING: "未开始",
        Status.OPEN: "进行中",
        Status.MET: "按时完成",
        Status.MET_LATE: "逾期完成",
        Status.OVERDUE: "已逾期",
        Status.MISSED: "未完成",
        Status.EXEMPT: "已豁免",
    },
    "en": {
        Status.UPCOMING: "upcoming",
        Status.OPEN: "open",
        Status.MET: "met",
        Status.MET_LATE: "met late",
        Status.OVERDUE: "overdue",
        Status.MISSED: "missed",
        Status.EXEMPT: "exempt",
    },
}

WORDS = {
    "zh": {
        "unit": "单位",
        "rule": "规则",
        "period": "期间",
        "due": "截止日期",
        "status": "状态",
        "required": "要求",
        "actual": "实际",
        "days_left": "剩余天数",
        "rate": "按时率",
        "rank": "名次",
        "points": "得分",
        "possible": "应得分",
        "met": "按时",
        "late": "逾期完成",
        "missed": "未完成",
        "legend": "图例",
        "totals": "合计",
        "no_rows": "(没有符合条件的义务)",
        "as_of": "截至",
        "year": "年度",
        "scorecard": "年度考核排名",
    },
    "en": {
        "unit": "Unit",
        "rule": "Rule",
        "period": "Period",
        "due": "Due",
        "status": "Status",
        "required": "Required",
        "actual": "Actual",
        "days_left": "Days left",
        "rate": "On time",
        "rank": "Rank",
        "points": "Points",
        "possible": "Possible",
        "met": "On time",
        "late": "Late",
        "missed": "Missed",
        "legend": "Legend",
        "totals": "Totals",
        "no_rows": "(no obligations match)",
        "as_of": "as of",
        "year": "Year",
        "scorecard": "Annual assessment ranking",
    },
}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def word(key: str, language: str = "zh") -> str:
    return WORDS[_lang(language)][key]


def status_name(status: Status, language: str = "zh") -> str:
    return STATUS_NAMES[_lang(language)][status]


def format_date(day: date, language: str = "zh") -> str:
    """A date as people write it: 2020年10月16日, or 16 Oct 2020."""
    if _lang(language) == "en":
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def format_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def _lang(language: str) -> str:
    return "en" if language == "en" else "zh"
