"""iCalendar documents from plain data: invites (RFC 5546 REQUEST / CANCEL) and feeds (PUBLISH).

Pure: no database, no clock; the caller passes the DTSTAMP (``stamp``). Every document carries a
VTIMEZONE for its zone, built from 2000-01-01 so that a fixed-offset zone like Asia/Shanghai is
one STANDARD block without an RDATE list (which Outlook misreads). Timed events are written in
local time with a TZID; deadlines are all-day events (``DTSTART;VALUE=DATE`` with the
non-inclusive ``DTEND`` of the next day). Lines end in CRLF and fold at 75 octets without
splitting a UTF-8 character (icalendar does both).

Invites follow RFC 5546: the recipient is an ATTENDEE with ``RSVP=TRUE`` and
``PARTSTAT=NEEDS-ACTION``; the organizer raises SEQUENCE on every change; a cancellation is
``METHOD:CANCEL`` with the same UID, a higher SEQUENCE and ``STATUS:CANCELLED``. A feed is
``METHOD:PUBLISH``: its events carry an ORGANIZER and no ATTENDEE (RFC 5546 §3.2.1), so a
subscription never discloses who was invited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vDuration
from icalendar.enums import STATUS, TRANSP

PRODID = "-//huiqi//会期//ZH"
TIMEZONE_FROM = date(2000, 1, 1)
ONE_HOUR = timedelta(hours=1)

InviteMethod = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True)
class Address:
    """A calendar user: an e-mail address and the name shown for it (CN)."""

    email: str
    name: str


@dataclass(frozen=True)
class Attendee:
    """An invited person; ``role`` is the RFC 5545 ROLE (REQ-PARTICIPANT, OPT-PARTICIPANT)."""

    email: str
    name: str
    role: str = "REQ-PARTICIPANT"


@dataclass(frozen=True)
class Meeting:
    """A planned meeting as calendars see it; ``start`` and ``end`` are time-zone aware."""

    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    location: str
    description: str
    organizer: Address
    attendees: tuple[Attendee, ...] = ()
    url: str | None = None
    alarm_before: timedelta | None = timedelta(days=1)
    alarm_text: str = ""
    cancelled: bool = False
    modified: datetime | None = None  # LAST-MODIFIED; a feed's DTSTAMP when given


@dataclass(frozen=True)
class Deadline:
    """An all-day entry on ``day``: the due date of an obligation."""

    uid: str
    day: date
    summary: str
    description: str
    url: str | None = None
    stamp: datetime | None = None  # a feed's DTSTAMP when given (else the feed's)


@dataclass(frozen=True)
class FeedHeader:
    """What a feed says about itself."""

    uid: str
    name: str
    zone: str
    organizer: Address
    refresh: timedelta = ONE_HOUR


def invite(meeting: Meeting, method: InviteMethod, stamp: datetime) -> str:
    """The iMIP calendar of ``method`` for ``meeting`` (one VEVENT, with its VTIMEZONE).

    A CANCEL always says ``STATUS:CANCELLED``; the caller gives it a SEQUENCE above the last one
    sent. ``stamp`` becomes DTSTAMP (the moment the invite is sent).
    """
    zone = _zone_of(meeting.start)
    calendar = Calendar.new(prodid=PRODID, method=method)
    del calendar["UID"]  # iMIP identifies the event by the VEVENT's UID alone
    event = _meeting_event(meeting, stamp, cancelled=meeting.cancelled or method == "CANCEL")
    event["ATTENDEE"] = [_attendee(person) for person in meeting.attendees]
    if method == "REQUEST" and meeting.alarm_before is not None:
        text = meeting.alarm_text or meeting.summary
        event.add_component(Alarm.new_display(text, trigger=-meeting.alarm_before))
    calendar.add_component(event)
    _add_timezone(calendar, zone)
    return _text(calendar)


def feed(
    header: FeedHeader,
    meetings: Sequence[Meeting],
    deadlines: Sequence[Deadline],
    stamp: datetime,
) -> str:
    """A subscription calendar (METHOD:PUBLISH): meetings, then all-day deadlines.

    Carries X-WR-CALNAME (and NAME), X-WR-TIMEZONE, the VTIMEZONE of ``header.zone`` even when no
    timed event needs it, and REFRESH-INTERVAL and X-PUBLISHED-TTL of ``header.refresh``. An
    item's DTSTAMP is its own time (``modified`` / ``stamp``) when it has one, else ``stamp``, so
    that the same facts give the same bytes (and the same ETag) on every request.
    """
    calendar = Calendar.new(prodid=PRODID, method="PUBLISH", uid=header.uid, name=header.name)
    calendar.add("REFRESH-INTERVAL", vDuration(header.refresh), parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(header.refresh))
    calendar.add("X-WR-TIMEZONE", header.zone)
    _add_timezone(calendar, header.zone)
    for meeting in meetings:
        _add_timezone(calendar, _zone_of(meeting.start))
        own = meeting.modified or stamp
        calendar.add_component(_meeting_event(meeting, own, cancelled=meeting.cancelled))
    for deadline in deadlines:
        own = deadline.stamp or stamp
        calendar.add_component(_deadline_event(deadline, header.organizer, own))
    return _text(calendar)


def _meeting_event(meeting: Meeting, stamp: datetime, cancelled: bool) -> Event:
    event = Event.new(
        uid=meeting.uid,
        sequence=meeting.sequence,
        stamp=_utc(stamp),
        start=meeting.start,
        end=meeting.end,
        summary=meeting.summary,
        location=meeting.location or None,
        description=meeting.description or None,
        organizer=_address(meeting.organizer),
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        url=meeting.url,
        last_modified=_utc(meeting.modified) if meeting.modified else None,
    )
    return event


def _deadline_event(deadline: Deadline, organizer: Address, stamp: datetime) -> Event:
    return Event.new(
        uid=deadline.uid,
        stamp=_utc(stamp),
        start=deadline.day,
        end=deadline.day + timedelta(days=1),
        summary=deadline.summary,
        description=deadline.description or None,
        organizer=_address(organizer),
        transparency=TRANSP.TRANSPARENT,
        url=deadline.url,
    )


def _address(person: Address) -> vCalAddress:
    return vCalAddress.new(person.email, cn=person.name or None)


def _attendee(person: Attendee) -> vCalAddress:
    return vCalAddress.new(
        person.email,
        cn=person.name or None,
        role=person.role,
        partstat="NEEDS-ACTION",
        rsvp=True,
    )


def _add_timezone(calendar: Calendar, zone: str) -> None:
    """Add the VTIMEZONE of ``zone`` (before any event) unless it is UTC or already there."""
    if zone in ("UTC", "Etc/UTC") or zone in {tz.tz_name for tz in calendar.timezones}:
        return
    calendar.subcomponents.insert(0, _timezone(zone))


@lru_cache(maxsize=16)
def _timezone(zone: str) -> Timezone:
    """The VTIMEZONE of ``zone`` (building one scans 38 years of offsets: done once per zone;
    calendars share the component and never change it)."""
    return Timezone.from_tzinfo(ZoneInfo(zone), tzid=zone, first_date=TIMEZONE_FROM)


def _zone_of(moment: datetime) -> str:
    zone = moment.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise ValueError(f"{moment.isoformat()}: a meeting time needs an IANA time zone")
    return zone.key


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()}: DTSTAMP needs a time zone")
    return moment.astimezone(UTC).replace(microsecond=0)


def _text(calendar: Calendar) -> str:
    return calendar.to_ical().decode("utf-8")
