"""Meeting sign-in (签到): a sheet per planned meeting at ``/s/TOKEN``, open on its day only.

The token (`scheduler.core.links`, kind ``s``) names the meeting and expires at the end of the
meeting's local day; it is the same all day (no rotating codes), so the room screen shows one
QR code. It opens only on that day (`Refusal.NOT_TODAY` before) and only while the meeting is
planned (`Refusal.CLOSED` once cancelled or held). An attendee taps her name (one of the
meeting's attendees) or types it; the organiser can sign for someone present (代签, ``proxy``)
or add a name afterwards (补签, ``late``, also once the day is over). Each name signs once; each
sign-in is in the trail with its mode. No location, no photo, no score: a sign-in is evidence
of attendance. `held_from_sheet` marks the meeting held with the roles of the attendees who
signed (an event's attendance is by role) and keeps every signed name in the trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.calendar import history, meetings
from scheduler.core.links import SIGN_IN, Claims, Refusal, TokenRefused, make_token, read_token
from scheduler.core.problems import Message, single
from scheduler.core.rules import RuleBook
from scheduler.core.words import word
from scheduler.store.models_calendar import Meeting, as_utc
from scheduler.store.models_links import SELF, SIGN_MODES, MeetingSignIn

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_CHARS = 200


@dataclass(frozen=True)
class Signed:
    """One name on the sheet, as the pages show it."""

    name: str
    mode: str
    by: str
    at: datetime


def sheet_token(key: bytes, meeting: Meeting, zone: ZoneInfo) -> str:
    """The sign-in token of ``meeting``: stable, valid until the end of its local day."""
    day = as_utc(meeting.starts_at).astimezone(zone).date()
    ends = datetime.combine(day + timedelta(days=1), time(0), zone)
    return make_token(key, Claims(SIGN_IN, meeting.id, 0, ends), nonce=f"m{meeting.id}")


def open_sheet(session: Session, key: bytes, token: str, now: datetime) -> Meeting:
    """The meeting whose sheet ``token`` opens at ``now`` (a local time); else `TokenRefused`."""
    claims = read_token(key, token, SIGN_IN, now)
    meeting = session.get(Meeting, claims.first)
    if meeting is None:
        raise TokenRefused(Refusal.TAMPERED)
    if meeting.status != "planned":
        raise TokenRefused(Refusal.CLOSED)
    if as_utc(meeting.starts_at).astimezone(now.tzinfo).date() != now.date():
        raise TokenRefused(Refusal.NOT_TODAY)
    return meeting


def sign(
    session: Session, meeting: Meeting, name: str, mode: str, by: str, now: datetime
) -> MeetingSignIn:
    """Put ``name`` on the sheet (once: signing again returns the first sign-in)."""
    where = "meetings sign-in"
    name = " ".join(name.split())
    if not name or len(name) > NAME_CHARS or CONTROL.search(name):
        raise single(Message("name_length", most=NAME_CHARS), where, field="name")
    if mode not in SIGN_MODES:
        raise single(Message("sign_mode", choices=list(SIGN_MODES)), where, field="mode")
    if meeting.status == "cancelled":
        raise single(Message("meeting_cancelled", id=meeting.id), where, field="ID")
    found = session.scalar(
        select(MeetingSignIn).where(
            MeetingSignIn.meeting_id == meeting.id, MeetingSignIn.name == name
        )
    )
    if found is not None:
        return found
    person = next((a.person_id for a in meeting.attendees if a.name == name), None)
    signed = MeetingSignIn(
        meeting_id=meeting.id, name=name, person_id=person, mode=mode, signed_by=by,
        signed_at=as_utc(now),
    )  # fmt: skip
    session.add(signed)
    session.flush()
    history.log(session, by, "signin", meeting, now, after={"name": name, "mode": mode})
    return signed


def sheet(session: Session, meeting_id: int) -> list[Signed]:
    """The sheet of a meeting in signing order."""
    rows = session.scalars(
        select(MeetingSignIn)
        .where(MeetingSignIn.meeting_id == meeting_id)
        .order_by(MeetingSignIn.id)
    )
    return [Signed(r.name, r.mode, r.signed_by, as_utc(r.signed_at)) for r in rows]


def held_from_sheet(
    session: Session, book: RuleBook, meeting_id: int, by: str, now: datetime, lang: str = "zh"
) -> meetings.Change:
    """Mark the meeting held, its attendance the roles of the attendees on its sheet; the
    trail entry lists every signed name, 代签 and 补签 marked (in ``lang``)."""
    meeting = meetings.find(session, meeting_id)
    signed = sheet(session, meeting_id)
    names = {s.name for s in signed}
    roles = [a.role for a in meeting.attendees if a.role and a.name in names]
    shown = [_shown(s, lang) for s in signed]
    return meetings.held(
        session, book, meeting_id, list(dict.fromkeys(roles)), by, now, signed_in=shown
    )


def _shown(signed: Signed, lang: str) -> str:
    """A name as the trail lists it: 代签 and 补签 marked."""
    if signed.mode == SELF:
        return signed.name
    return word("signin.marked", lang).format(name=signed.name, mode=mode_name(signed.mode, lang))


def mode_name(mode: str, lang: str) -> str:
    """代签, 补签 or 本人签到 (or the English words)."""
    return word(f"signin.mode.{mode}", lang)


def self_actor(name: str, lang: str) -> str:
    """The trail's actor of a sign-in on the sheet: 经签到页由NAME签到."""
    return word("signin.actor", lang).format(name=name)
