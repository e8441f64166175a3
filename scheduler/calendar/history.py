"""How the change trail tells a meeting's life: planned, changed, cancelled, held.

`scheduler.calendar.meetings` calls `log` in the transaction of each change; the entry names
the meeting by its local start, title and id, and holds the fields that changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from scheduler.store import trail
from scheduler.store.models_calendar import Meeting, as_utc


def state(meeting: Meeting, now: datetime) -> dict[str, Any]:
    """The meeting's fields as the trail keeps them, times local to ``now``'s zone."""
    return {
        "title": meeting.title,
        "kinds": list(meeting.kinds),
        "start": as_utc(meeting.starts_at).astimezone(now.tzinfo),
        "end": as_utc(meeting.ends_at).astimezone(now.tzinfo),
        "location": meeting.location,
        "agenda": meeting.agenda,
        "attendees": [a.name or a.email for a in meeting.attendees],
    }


def log(
    session: Session,
    by: str,
    action: str,
    meeting: Meeting,
    now: datetime,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """One entry ``meeting.<action>``; with ``before``, only the fields that changed."""
    start = as_utc(meeting.starts_at).astimezone(now.tzinfo)
    subject = f"{start:%Y-%m-%d %H:%M} {meeting.title} (#{meeting.id})"
    new = state(meeting, now) if after is None else after
    old, new = trail.diff(before, new) if before is not None else (None, new)
    trail.record(session, by, f"meeting.{action}", subject, now, meeting.unit_id, old, new)
