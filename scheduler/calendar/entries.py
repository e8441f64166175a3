"""A planned meeting as a calendar entry: the mapping from the database's `Meeting` to the
`scheduler.calendar.ics.Meeting` that invites and feeds both write.

The DESCRIPTION holds the agenda, the obligations the meeting serves (rule titles and cited
clauses) and a link to the unit's page, in the configured language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from scheduler.calendar import ics
from scheduler.calendar.attendees import rules_served
from scheduler.config import Settings
from scheduler.core.rules import Rule, RuleBook
from scheduler.core.words import word, words
from scheduler.store.models import Unit
from scheduler.store.models_calendar import Meeting, as_utc


def unit_url(settings: Settings, unit_code: str) -> str:
    """The unit's page in the web app."""
    return f"{settings.web.base_url.rstrip('/')}/units/{unit_code}"


def describe(meeting: Meeting, unit: Unit, rules: Sequence[Rule], settings: Settings) -> str:
    """DESCRIPTION: the agenda, the obligations served (title — cited clause), the unit's page."""
    lang = settings.language
    names = words(lang, "invite.")
    blocks = []
    if meeting.agenda.strip():
        blocks.append(f"{names['agenda']}\n{meeting.agenda.strip()}")
    if rules:
        pattern = "· {}（{}）" if lang == "zh" else "- {} ({})"
        lines = [pattern.format(rule.title(lang), rule.cite) for rule in rules]
        blocks.append(f"{names['serves']}\n" + "\n".join(lines))
    blocks.append(f"{names['page']}{unit_url(settings, unit.code)}")
    return "\n\n".join(blocks)


def calendar_meeting(
    meeting: Meeting,
    unit: Unit,
    book: RuleBook,
    settings: Settings,
    attendees: Sequence[ics.Attendee] = (),
) -> ics.Meeting:
    """The meeting as `scheduler.calendar.ics` writes it, in the configured zone."""
    zone = settings.zone
    start = as_utc(meeting.starts_at).astimezone(zone)
    rules = rules_served(book, meeting.kinds, unit.kind, start.date())
    alarm = settings.calendar.alarm_days
    return ics.Meeting(
        uid=meeting.uid,
        sequence=meeting.sequence,
        start=start,
        end=as_utc(meeting.ends_at).astimezone(zone),
        summary=meeting.title,
        location=meeting.location,
        description=describe(meeting, unit, rules, settings),
        organizer=organizer(settings),
        attendees=tuple(attendees),
        url=unit_url(settings, unit.code),
        alarm_before=timedelta(days=alarm) if alarm else None,
        alarm_text=word("invite.alarm", settings.language).format(title=meeting.title),
        cancelled=meeting.status == "cancelled",
        modified=as_utc(meeting.updated_at),
    )


def organizer(settings: Settings) -> ics.Address:
    return ics.Address(settings.calendar.organizer_email, settings.calendar.organizer_name)
