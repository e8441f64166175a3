"""Planned meetings: plan, update, cancel, mark held, list.

Each function works inside the caller's transaction and raises `InputError` before writing
anything when the input is bad. Those that change what attendees should know return the
`Notice`s to send once the transaction has committed (`scheduler.calendar.invites` sends them):
planning invites everybody (REQUEST); an update raises SEQUENCE, re-invites the attendees and
cancels those it removed; a cancellation raises SEQUENCE and sends CANCEL. A meeting whose start
is not after ``now`` sends nothing, so backfilling history never mails anybody.

Attendees default to the holders, on the meeting's day, of the roles the meeting's rules name
(responsible, then notify) at its unit; ``--attendees`` names roles or e-mail addresses instead.
Marking a meeting held records an event of its kinds (ref ``meeting-ID``) through
`scheduler.store.registry`, so the compliance of the obligations it serves changes at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.calendar import history
from scheduler.calendar.attendees import attendees_for, attendees_of
from scheduler.calendar.ics import Attendee
from scheduler.core.problems import InputError, Message, Problem, Refused, message_of
from scheduler.core.records import parse_day, parse_time, split_list
from scheduler.core.rules import RuleBook
from scheduler.store import registry
from scheduler.store.models import Unit
from scheduler.store.models_calendar import Meeting, MeetingAttendee, as_utc

T = TypeVar("T")


@dataclass(frozen=True)
class MeetingFields:
    """What a plan or an update says; None leaves a field as it is (or unset when planning)."""

    unit: str | None = None
    kinds: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    title: str | None = None
    location: str | None = None
    agenda: str | None = None
    attendees: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Notice:
    """Invites to send after commit: ``method`` to ``recipients`` at the meeting's ``sequence``."""

    meeting_id: int
    method: Literal["REQUEST", "CANCEL"]
    sequence: int
    recipients: tuple[Attendee, ...]
    before: Mapping[str, Any] | None = None  # an update's earlier state (`history.state`)


@dataclass(frozen=True)
class Change:
    """The meeting after a change, and the notices it calls for."""

    meeting: Meeting
    notices: tuple[Notice, ...] = ()
    unchanged: bool = False
    skipped: tuple[str, ...] = field(default=())


# ----------------------------------------------------------------------------------------------
# Reading the options


def read_fields(raw: dict[str, str | None], zone: ZoneInfo, where: str) -> MeetingFields:
    """Parse command options (strings) into `MeetingFields`, all problems at once."""
    problems: list[Problem] = []

    def attempt(key: str, parse: Callable[[str], T]) -> T | None:
        text = raw.get(key)
        if text is None:
            return None
        try:
            return parse(text.strip())
        except ValueError as error:
            problems.append(Problem(where, None, f"--{key}", message_of(error)))
            return None

    start = attempt("start", lambda text: parse_moment(text, zone))
    end = attempt("end", lambda text: parse_end(text, start, zone))
    kinds = attempt("kinds", _nonempty_list)
    attendees = attempt("attendees", _nonempty_list)
    if problems:
        raise InputError(problems)
    return MeetingFields(
        unit=raw.get("unit"),
        kinds=kinds,
        start=start,
        end=end,
        title=raw.get("title"),
        location=raw.get("location"),
        agenda=raw.get("agenda"),
        attendees=attendees,
    )


def parse_moment(text: str, zone: ZoneInfo) -> datetime:
    """A local date and time ``2021-03-12 09:30`` (or ``…T09:30``) in ``zone``."""
    day, _, clock = text.replace("T", " ").partition(" ")
    if not clock.strip():
        raise Refused(Message("bad_moment", value=text, shown=repr(text)))
    hours, minutes = parse_time(clock.strip()).split(":")
    return datetime.combine(parse_day(day), datetime.min.time(), zone).replace(
        hour=int(hours), minute=int(minutes)
    )


def parse_end(text: str, start: datetime | None, zone: ZoneInfo) -> datetime:
    """The end: a full date and time, or ``HH:MM`` on the start's day."""
    if " " in text.strip() or "T" in text:
        return parse_moment(text, zone)
    if start is None:
        raise ValueError(f"bad end {text!r}: give the date too, or a --start")
    hours, minutes = parse_time(text).split(":")
    return start.replace(hour=int(hours), minute=int(minutes))


def _nonempty_list(text: str) -> tuple[str, ...]:
    items = split_list(text)
    if not items:
        raise ValueError("expected one or more items separated by ';' or ','")
    return items


# ----------------------------------------------------------------------------------------------
# The service


def plan(
    session: Session, book: RuleBook, fields: MeetingFields, by: str, now: datetime, domain: str
) -> Change:
    """Create a planned meeting and invite its attendees (unless it starts in the past)."""
    where = "meetings plan"
    required = ("unit", "kinds", "start", "end", "title")
    missing = [key for key in required if not getattr(fields, key)]
    if missing:
        raise _problem(where, f"--{missing[0]}", Message("required"))
    unit = _unit(session, fields.unit or "", where)
    assert fields.kinds and fields.start and fields.end and fields.title
    _check_meeting(book, unit, fields.kinds, fields.start, fields.end, where)
    people, skipped = attendees_for(
        session, book, unit, fields.kinds, fields.start.date(), fields.attendees, where
    )
    meeting = _new_meeting(unit, fields, f"meeting-{uuid.uuid4()}@{domain}", by, now)
    meeting.attendees = people
    session.add(meeting)
    session.flush()
    history.log(session, by, "plan", meeting, now)
    notices = _notices(meeting, "REQUEST", people, now)
    return Change(meeting, notices, skipped=skipped)


def _new_meeting(unit: Unit, fields: MeetingFields, uid: str, by: str, now: datetime) -> Meeting:
    assert fields.kinds and fields.start and fields.end and fields.title
    return Meeting(
        uid=uid,
        unit_id=unit.id,
        kinds=list(fields.kinds),
        title=fields.title,
        location=fields.location or "",
        agenda=fields.agenda or "",
        starts_at=as_utc(fields.start),
        ends_at=as_utc(fields.end),
        sequence=0,
        status="planned",
        created_by=by,
        created_at=as_utc(now),
        updated_at=as_utc(now),
    )


def update(
    session: Session, book: RuleBook, meeting_id: int, fields: MeetingFields, by: str,
    now: datetime,
) -> Change:  # fmt: skip
    """Change a planned meeting: SEQUENCE + 1, REQUEST to attendees, CANCEL to removed ones."""
    where = "meetings update"
    meeting = _planned(session, meeting_id, where)
    unit = session.get_one(Unit, meeting.unit_id)
    start = fields.start or as_utc(meeting.starts_at).astimezone(now.tzinfo)
    end = fields.end or (start + (meeting.ends_at - meeting.starts_at))
    kinds = fields.kinds or tuple(meeting.kinds)
    _check_meeting(book, unit, kinds, start, end, where)
    before, told = _snapshot(meeting), history.state(meeting, now)
    removed: list[MeetingAttendee] = []
    skipped: tuple[str, ...] = ()
    if fields.attendees is not None:
        day = start.date()
        people, skipped = attendees_for(session, book, unit, kinds, day, fields.attendees, where)
        removed = _replace_attendees(meeting, people)
    meeting.kinds, meeting.starts_at, meeting.ends_at = list(kinds), as_utc(start), as_utc(end)
    for key in ("title", "location", "agenda"):
        if getattr(fields, key) is not None:
            setattr(meeting, key, getattr(fields, key))
    if _snapshot(meeting) == before:
        return Change(meeting, unchanged=True, skipped=skipped)
    meeting.sequence += 1
    meeting.updated_at = as_utc(now)
    session.flush()
    history.log(session, by, "update", meeting, now, before=told)
    notices = _notices(meeting, "REQUEST", meeting.attendees, now, told)
    notices += _notices(meeting, "CANCEL", removed, now)
    return Change(meeting, notices, skipped=skipped)


def cancel(session: Session, meeting_id: int, reason: str, by: str, now: datetime) -> Change:
    """Cancel a planned meeting: SEQUENCE + 1 and METHOD:CANCEL to every attendee."""
    where = "meetings cancel"
    if not reason.strip():
        raise _problem(where, "--reason", Message("reason_required"))
    meeting = _planned(session, meeting_id, where)
    meeting.status, meeting.cancel_reason = "cancelled", reason.strip()
    meeting.sequence += 1
    meeting.updated_at = as_utc(now)
    session.flush()
    history.log(session, by, "cancel", meeting, now, after={"reason": meeting.cancel_reason})
    return Change(meeting, _notices(meeting, "CANCEL", meeting.attendees, now))


def pending(session: Session, meeting_id: int, now: datetime) -> Change:
    """What a meeting still owes its attendees: the current invite to those who have not
    received it, or the cancellation to those who were invited before it was cancelled."""
    meeting = _meeting(session, meeting_id, "meetings send")
    if meeting.status == "planned":
        late = [a for a in meeting.attendees if a.sent_sequence != meeting.sequence]
        return Change(meeting, _notices(meeting, "REQUEST", late, now))
    if meeting.status == "cancelled":
        late = [
            a
            for a in meeting.attendees
            if a.sent_sequence is not None and a.sent_sequence < meeting.sequence
        ]
        return Change(meeting, _notices(meeting, "CANCEL", late, now))
    return Change(meeting)


def held(
    session: Session,
    book: RuleBook,
    meeting_id: int,
    attended: Sequence[str],
    by: str,
    now: datetime,
    signed_in: Sequence[str] | None = None,
) -> Change:
    """Record the meeting as held: an event of its kinds, dated its local day, linked to it.

    Marking it held again replaces that event (same ref), e.g. to correct who attended.
    ``signed_in``: the names of its sign-in sheet, kept in the trail entry.
    """
    where = "meetings held"
    meeting = _meeting(session, meeting_id, where)
    if meeting.status == "cancelled":
        raise _problem(where, "ID", Message("meeting_cancelled", id=meeting_id))
    start = as_utc(meeting.starts_at).astimezone(now.tzinfo)
    if start.date() > now.date():
        raise _problem(where, "ID", Message("meeting_not_yet", id=meeting_id, day=f"{start:%F}"))
    unknown = [role for role in attended if role not in book.roles]
    if unknown:
        known = sorted(book.roles)
        message = Message("unknown_choice", what=Message("role"), value=unknown[0], known=known)
        raise _problem(where, "--attended", message)
    cells = _event_cells(meeting, session.get_one(Unit, meeting.unit_id), start, attended)
    meeting.event_id = registry.add_event(session, book, cells, by, now)
    meeting.status, meeting.updated_at = "held", as_utc(now)
    after: dict[str, object] = {"attended": list(attended), "event": f"#{meeting.event_id}"}
    if signed_in is not None:
        after["signed_in"] = list(signed_in)
    history.log(session, by, "held", meeting, now, after=after)
    return Change(meeting)


def _event_cells(
    meeting: Meeting, unit: Unit, start: datetime, attended: Sequence[str]
) -> dict[str, str]:
    """The meeting as a row of an events file (ref ``meeting-ID``)."""
    return {
        "unit": unit.code,
        "kinds": ";".join(meeting.kinds),
        "date": start.date().isoformat(),
        "time": f"{start:%H:%M}",
        "title": meeting.title,
        "attended": ";".join(attended),
        "ref": f"meeting-{meeting.id}",
    }


def find(session: Session, meeting_id: int) -> Meeting:
    return _meeting(session, meeting_id, "meetings")


def listing(
    session: Session, unit_ids: Sequence[int] | None, first: datetime, last: datetime
) -> list[tuple[Meeting, Unit]]:
    """Meetings starting in ``[first, last)`` (at ``unit_ids`` when given), by start."""
    query = (
        select(Meeting, Unit)
        .join(Unit, Unit.id == Meeting.unit_id)
        .where(Meeting.starts_at >= as_utc(first), Meeting.starts_at < as_utc(last))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if unit_ids is not None:
        query = query.where(Meeting.unit_id.in_(unit_ids))
    return [(meeting, unit) for meeting, unit in session.execute(query)]


# ----------------------------------------------------------------------------------------------
# Attendees


def _replace_attendees(meeting: Meeting, people: list[MeetingAttendee]) -> list[MeetingAttendee]:
    """Put ``people`` in place of the attendees; return those removed."""
    old = {a.email.lower(): a for a in meeting.attendees}
    new = {a.email.lower() for a in people}
    removed = [a for key, a in old.items() if key not in new]
    kept = []
    for person in people:
        existing = old.get(person.email.lower())
        if existing is not None:
            existing.position, existing.name, existing.role = (
                person.position,
                person.name,
                person.role,
            )
            kept.append(existing)
        else:
            kept.append(person)
    meeting.attendees = kept
    return removed


# ----------------------------------------------------------------------------------------------
# Helpers


def _check_meeting(
    book: RuleBook,
    unit: Unit,
    kinds: Sequence[str],
    start: datetime,
    end: datetime,
    where: str,
) -> None:
    for kind in kinds:
        if kind not in book.event_kinds:
            known = sorted(book.event_kinds)
            what = Message("event_kind")
            raise _problem(
                where, "--kinds", Message("unknown_choice", what=what, value=kind, known=known)
            )
    if end <= start:
        raise _problem(where, "--end", Message("end_not_after", end=f"{end:%F %H:%M}"))
    if end - start > timedelta(days=7):
        raise _problem(where, "--end", Message("meeting_too_long", days=7))
    day = start.date()
    if (unit.active_from and day < unit.active_from) or (unit.active_to and day > unit.active_to):
        raise _problem(where, "--start", Message("unit_not_active", code=unit.code, day=day))


def _notices(
    meeting: Meeting,
    method: Literal["REQUEST", "CANCEL"],
    people: Sequence[MeetingAttendee],
    now: datetime,
    before: Mapping[str, Any] | None = None,
) -> tuple[Notice, ...]:
    """The notice for ``people``; none when nobody is concerned or the meeting has started."""
    if not people or as_utc(meeting.starts_at) <= as_utc(now):
        return ()
    return (Notice(meeting.id, method, meeting.sequence, attendees_of(people), before),)


def _snapshot(meeting: Meeting) -> tuple[object, ...]:
    people = tuple((a.email, a.name, a.role) for a in meeting.attendees)
    return (
        tuple(meeting.kinds),
        as_utc(meeting.starts_at),
        as_utc(meeting.ends_at),
        meeting.title,
        meeting.location,
        meeting.agenda,
        people,
    )


def _unit(session: Session, code: str, where: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise _problem(where, "--unit", Message("unknown_code", what=Message("unit"), value=code))
    return unit


def _meeting(session: Session, meeting_id: int, where: str) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise _problem(where, "ID", Message("no_meeting", id=meeting_id))
    return meeting


def _planned(session: Session, meeting_id: int, where: str) -> Meeting:
    meeting = _meeting(session, meeting_id, where)
    if meeting.status != "planned":
        raise _problem(where, "ID", Message(f"meeting_is_{meeting.status}", id=meeting_id))
    return meeting


def _problem(where: str, field_name: str, message: str | Message) -> InputError:
    return InputError([Problem(where, None, field_name, message)])
