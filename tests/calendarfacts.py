"""Shared parts of the calendar tests: settings on a test database, a fixed "now", parsing
calendars back with two independent libraries, and golden-file normalisation."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import vobject
from icalendar import Calendar
from sqlalchemy import Engine

from scheduler.calendar import meetings
from scheduler.config import Settings
from scheduler.core.rules import RuleBook
from scheduler.store.database import transaction
from tests.conftest import ROOT

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2021, 3, 1, 10, 0, tzinfo=SHANGHAI)
GOLDEN = ROOT / "tests" / "fixtures" / "calendar"
FIXED_UUID = "00000000-0000-4000-8000-000000000000"


def calendar_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings on ``database_url`` with the project's templates and the shipped defaults."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "base_dir": str(ROOT),
        "web": {"base_url": "https://huiqi.example.org"},
        "calendar": {"organizer_name": "西和县妇联", "organizer_email": "fulian@example.org"},
        **overrides,
    }
    return Settings(**values)


def plan(
    engine: Engine,
    book: RuleBook,
    now: datetime = NOW,
    **options: str | None,
) -> meetings.Change:
    """Plan a meeting at 东山镇 (101) through the service; options are the CLI's strings."""
    raw: dict[str, str | None] = {
        "unit": "101",
        "kinds": "hearing;study",
        "start": "2021-03-12 09:30",
        "end": "11:00",
        "title": "党委会听取妇联工作汇报",
        "location": "镇政府三楼会议室",
        "agenda": "1. 妇联工作汇报\n2. 研究下季度工作",
        **options,
    }
    fields = meetings.read_fields(raw, SHANGHAI, "meetings plan")
    with transaction(engine) as session:
        return meetings.plan(session, book, fields, "刘主席", now, "huiqi")


@dataclass(frozen=True)
class ParsedEvent:
    """What both parsers agree an event says."""

    uid: str
    start_utc: datetime | None
    zone: str | None
    sequence: int | None
    status: str | None


def parse_both(text: str) -> tuple[list[ParsedEvent], list[ParsedEvent]]:
    """The events of ``text`` as icalendar and as vobject read them."""
    return _with_icalendar(text), _with_vobject(text)


def _with_icalendar(text: str) -> list[ParsedEvent]:
    found = []
    for event in Calendar.from_ical(text).events:
        start = event.start
        timed = isinstance(start, datetime)
        found.append(
            ParsedEvent(
                str(event["UID"]),
                start.astimezone(UTC) if timed else None,
                str(start.tzinfo) if timed else None,
                int(event["SEQUENCE"]) if "SEQUENCE" in event else None,
                str(event["STATUS"]) if "STATUS" in event else None,
            )
        )
    return found


def _with_vobject(text: str) -> list[ParsedEvent]:
    found = []
    for event in vobject.readOne(text).vevent_list:
        start = event.dtstart.value
        timed = isinstance(start, datetime)
        zone = event.dtstart.params.get("X-VOBJ-ORIGINAL-TZID", [None])[0]
        found.append(
            ParsedEvent(
                event.uid.value,
                start.astimezone(UTC) if timed else None,
                zone if timed else None,
                int(event.sequence.value) if hasattr(event, "sequence") else None,
                event.status.value if hasattr(event, "status") else None,
            )
        )
    return found


def normalised(text: str) -> list[str]:
    """The unfolded lines of ``text`` with DTSTAMP and the random part of meeting UIDs fixed."""
    lines = text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")
    fixed = [re.sub(r"^DTSTAMP:\d{8}T\d{6}Z$", "DTSTAMP:20000101T000000Z", line) for line in lines]
    return [re.sub(r"meeting-[0-9a-f-]{36}@", f"meeting-{FIXED_UUID}@", line) for line in fixed]


def check_golden(name: str, text: str) -> None:
    """Compare with the .ics file ``tests/fixtures/calendar/NAME``, both normalised; with
    HUIQI_REGOLDEN=1 (re)write that file first, folded and with CRLF like the original."""
    path: Path = GOLDEN / name
    if os.environ.get("HUIQI_REGOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        folded = "\r\n".join(fold(line) for line in normalised(text) if line)
        path.write_bytes(f"{folded}\r\n".encode())
    assert normalised(text) == normalised(path.read_bytes().decode("utf-8"))


def fold(line: str, limit: int = 75) -> str:
    """RFC 5545 §3.1 folding: at most ``limit`` octets a line, never inside a character."""
    pieces, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append(current)
            current, size = " ", 1
        current, size = current + char, size + width
    return "\r\n".join([*pieces, current])
