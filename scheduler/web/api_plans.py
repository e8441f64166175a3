"""The JSON API's obligations, meetings and feeds (included in `scheduler.web.api`'s router)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from scheduler.calendar import feeds, invites, meetings
from scheduler.core.compliance import Status
from scheduler.core.problems import InputError
from scheduler.store import reports
from scheduler.store.database import transaction
from scheduler.store.models_calendar import Meeting, as_utc
from scheduler.transports.mail import make_mailer
from scheduler.web import paging
from scheduler.web.api_kit import CallerDep, readable_ids, unit_in_scope, unprocessable
from scheduler.web.api_models import (
    Code,
    FeedIn,
    FeedOut,
    MeetingIn,
    MeetingOut,
    ObligationOut,
    Year,
)
from scheduler.web.kit import scope_code
from scheduler.web.paging import DEFAULT_LIMIT, Cursor, Limit, Page

router = APIRouter()


@router.get("/obligations", response_model=Page[ObligationOut])
def list_obligations(
    request: Request,
    who: CallerDep,
    year: Year = None,
    unit: Code | None = None,
    rule: Code | None = None,
    status: Annotated[
        str | None, Query(pattern="^(upcoming|open|met|met_late|overdue|missed|exempt)$")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ObligationOut]:
    """Obligations of ``year`` in the user's scope, as ``huiqi status --format json`` gives
    them, in its order; the cursor counts the obligations already given."""
    context, user = who.context, who.user
    today = context.now().date()
    offset = (paging.decode(cursor, [int]) or [0])[0]
    if offset < 0:
        raise paging.bad_cursor()
    with transaction(context.engine) as session:
        if unit:
            unit_in_scope(session, user, unit)
        code = unit or scope_code(session, user)
        if rule and not context.book.has_rule(rule):
            raise HTTPException(
                422,
                [
                    {
                        "loc": ["query", "rule"],
                        "msg": f"unknown rule {rule!r}",
                        "type": "value_error",
                    }
                ],
            )
        selection = reports.year_selection(year or today.year, today, code, rule)
        wanted = None if status is None else Status(status)
        found = reports.status_page(session, context.book, selection, wanted, offset, limit + 1)
    window = [ObligationOut.model_validate(o) for o in found]
    return paging.page(request, [([offset + n + 1], o) for n, o in enumerate(window)], limit)


@router.get("/meetings", response_model=Page[MeetingOut])
def list_meetings(
    request: Request,
    who: CallerDep,
    year: Year = None,
    unit: Code | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[MeetingOut]:
    """Meetings starting in ``year`` at the units the user may read (or at ``unit``)."""
    context, user = who.context, who.user
    zone = context.settings.zone
    year = year or context.now().year
    after = paging.decode(cursor, [str, int])
    with transaction(context.engine) as session:
        ids = [unit_in_scope(session, user, unit).id] if unit else readable_ids(session, user)
        start = datetime(year, 1, 1, tzinfo=zone)
        found = meetings.listing(session, ids, start, start.replace(year=year + 1))
        keyed = [([as_utc(m.starts_at).isoformat(), m.id], m, u) for m, u in found]
        if after:
            keyed = [row for row in keyed if (row[0][0], row[0][1]) > (after[0], after[1])]
        rows = [(key, _meeting_out(m, u.code, zone)) for key, m, u in keyed[: limit + 1]]
        return paging.page(request, rows, limit)


def _meeting_out(m: Meeting, code: str, zone: Any) -> MeetingOut:
    return MeetingOut(
        id=m.id,
        unit=code,
        title=m.title,
        status=m.status,
        start=as_utc(m.starts_at).astimezone(zone).isoformat(),
        end=as_utc(m.ends_at).astimezone(zone).isoformat(),
        kinds=list(m.kinds),
    )


@router.post("/meetings", response_model=MeetingOut, status_code=201)
def plan_meeting(body: MeetingIn, who: CallerDep) -> MeetingOut:
    """Plan a meeting at a unit the user may change and send its invites."""
    context, user = who.context, who.user
    zone, now = context.settings.zone, context.now()
    raw: dict[str, str | None] = {
        "unit": body.unit, "kinds": ";".join(body.kinds), "title": body.title,
        "start": body.start, "end": body.end, "location": body.location or None,
        "agenda": body.agenda or None,
        "attendees": ";".join(body.attendees) if body.attendees else None,
    }  # fmt: skip
    try:
        with transaction(context.engine) as session:
            unit = unit_in_scope(session, user, body.unit, change=True)
            fields = meetings.read_fields(raw, zone, "meetings plan")
            change = meetings.plan(
                session, context.book, fields, user.label, now, context.settings.calendar.uid_domain
            )
            out = _meeting_out(change.meeting, unit.code, zone)
    except InputError as error:
        raise unprocessable(error) from None
    if change.notices:
        invites.deliver(
            context.engine,
            context.book,
            context.settings,
            make_mailer(context.settings),
            change.notices,
            now,
        )
    return out


@router.post("/feeds", response_model=FeedOut, status_code=201)
def create_feed(body: FeedIn, who: CallerDep) -> FeedOut:
    """A calendar subscription URL for a unit the user may read; shown once."""
    context, user = who.context, who.user
    with transaction(context.engine) as session:
        unit = unit_in_scope(session, user, body.unit)
        scope = "subtree" if body.subtree else "unit"
        new = feeds.create(session, context.settings, scope, unit.code, user.label, context.now())
    return FeedOut(url=new.url, webcal=new.webcal)
