"""The JSON API under ``/api``: bearer tokens (``huiqi tokens create``), the same scopes as the
pages, 422 naming the field on bad input with nothing written. Its OpenAPI schema is served at
``/api/openapi.json``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.calendar import feeds, invites, meetings
from scheduler.core.access import Principal, can_change, can_read, lineage
from scheduler.core.problems import InputError
from scheduler.store import accounts, registry, reports
from scheduler.store.database import transaction
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, Person, RoleAssignment, Unit
from scheduler.store.models_calendar import as_utc
from scheduler.transports.mail import make_mailer
from scheduler.web.api_models import (
    Code,
    EventIn,
    EventOut,
    FeedIn,
    FeedOut,
    Id,
    MeetingIn,
    MeetingOut,
    PersonOut,
    UnitOut,
    VoidIn,
)
from scheduler.web.context import WebContext, web_context
from scheduler.web.kit import parents

router = APIRouter(prefix="/api", tags=["api"])
Year = Annotated[int | None, Query(ge=2000, le=2100)]


class Caller(BaseModel):
    """The user a token acts as, with the app's parts."""

    model_config = {"arbitrary_types_allowed": True}
    user: Any
    context: Any


def caller(request: Request, context: WebContext = Depends(web_context)) -> Caller:  # noqa: B008
    """The token's user; 401 without a valid ``Authorization: Bearer`` token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    with transaction(context.engine) as session:
        user = accounts.token_user(session, token.strip())
    if user is None:
        raise HTTPException(401, "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
    return Caller(user=user, context=context)


CallerDep = Annotated[Caller, Depends(caller)]


def unprocessable(error: InputError) -> HTTPException:
    """422 in FastAPI's shape, each problem naming its field."""
    detail = [
        {
            "loc": ["body", (p.field or "").lstrip("-") or "body"],
            "msg": p.message,
            "type": "value_error",
        }
        for p in error.problems
    ]
    return HTTPException(422, detail)


def _unit(session: Session, user: Principal, code: str, change: bool = False) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise HTTPException(404, f"unknown unit {code!r}")
    chain = lineage(unit.id, parents(session))
    if not (can_change(user, chain) if change else can_read(user, chain)):
        raise HTTPException(403, f"unit {code} is outside your scope")
    return unit


def _readable(session: Session, user: Principal) -> list[int]:
    tree = parents(session)
    return [unit for unit in tree if can_read(user, lineage(unit, tree))]


# ----------------------------------------------------------------------------------------------
# Units and people


@router.get("/units", response_model=list[UnitOut])
def list_units(who: CallerDep) -> list[UnitOut]:
    """The units the token's user may read."""
    with transaction(who.context.engine) as session:
        readable = set(_readable(session, who.user))
        codes = dict(session.execute(select(Unit.id, Unit.code)).all())
        units = session.scalars(select(Unit).order_by(Unit.code)).all()
        return [_unit_out(u, codes) for u in units if u.id in readable]


def _unit_out(unit: Unit, codes: dict[int, str]) -> UnitOut:
    parent = codes.get(unit.parent_id) if unit.parent_id else None
    return UnitOut(
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        parent=parent,
        active_from=unit.active_from,
        active_to=unit.active_to,
    )


@router.get("/units/{code}", response_model=UnitOut)
def get_unit(code: Code, who: CallerDep) -> UnitOut:
    with transaction(who.context.engine) as session:
        unit = _unit(session, who.user, code)
        codes = dict(session.execute(select(Unit.id, Unit.code)).all())
        return _unit_out(unit, codes)


@router.get("/people", response_model=list[PersonOut])
def list_people(who: CallerDep, unit: Code | None = None) -> list[PersonOut]:
    """People and their roles at the units the user may read (or at ``unit``)."""
    with transaction(who.context.engine) as session:
        ids = [_unit(session, who.user, unit).id] if unit else _readable(session, who.user)
        rows = session.execute(
            select(Person, RoleAssignment, Unit.code)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(RoleAssignment.unit_id.in_(ids))
            .order_by(Unit.code, RoleAssignment.role)
        )
        return [
            PersonOut(
                name=p.name,
                email=p.email,
                unit=code,
                role=r.role,
                valid_from=r.valid_from,
                valid_to=r.valid_to,
            )
            for p, r, code in rows
        ]


# ----------------------------------------------------------------------------------------------
# Events


def _event_out(event: Event, code: str) -> EventOut:
    return EventOut(
        id=event.id,
        unit=code,
        date=event.date,
        time=event.time,
        title=event.title,
        kinds=sorted(k.kind for k in event.kinds),
        attended=sorted(a.role for a in event.attendance),
        amount=None if event.amount is None else float(event.amount),
        ref=event.ref,
        recorded_by=event.recorded_by,
    )


def _cells(body: EventIn) -> dict[str, str]:
    return {
        "unit": body.unit,
        "kinds": ";".join(body.kinds),
        "date": body.date.isoformat(),
        "time": body.time.strftime("%H:%M") if body.time else "",
        "title": body.title,
        "attended": ";".join(body.attended),
        "amount": "" if body.amount is None else str(body.amount),
        "ref": body.ref or "",
    }


@router.get("/events", response_model=list[EventOut])
def list_events(
    who: CallerDep,
    unit: Code | None = None,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> list[EventOut]:
    """Current events at the units the user may read (or at ``unit``), by date."""
    with transaction(who.context.engine) as session:
        ids = [_unit(session, who.user, unit).id] if unit else _readable(session, who.user)
        statement = select(Event, Unit.code).join(Unit, Unit.id == Event.unit_id)
        statement = statement.where(CURRENT, Event.unit_id.in_(ids))
        if first:
            statement = statement.where(Event.date >= first)
        if last:
            statement = statement.where(Event.date <= last)
        rows = session.execute(statement.order_by(Event.date, Event.id).limit(5000))
        return [_event_out(event, code) for event, code in rows]


@router.post("/events", response_model=EventOut, status_code=201)
def create_event(body: EventIn, who: CallerDep) -> EventOut:
    """Record an event; an existing (unit, ref) is replaced, keeping its history."""
    return _record(who, body, None)


@router.put("/events/{event_id}", response_model=EventOut)
def replace_event(event_id: Id, body: EventIn, who: CallerDep) -> EventOut:
    """Replace a current event with a new version (the old one stays in the history)."""
    return _record(who, body, event_id)


def _record(who: Caller, body: EventIn, replaces: int | None) -> EventOut:
    context, user = who.context, who.user
    try:
        with transaction(context.engine) as session:
            unit = _unit(session, user, body.unit, change=True)
            if replaces is not None:
                _current(session, user, replaces)
            cells, now = _cells(body), context.now()
            if replaces is None:
                event_id = registry.add_event(session, context.book, cells, user.label, now)
            else:
                event_id = registry.replace_event(
                    session, context.book, replaces, cells, user.label, now
                )
            return _event_out(session.get_one(Event, event_id), unit.code)
    except InputError as error:
        raise unprocessable(error) from None


def _current(session: Session, user: Principal, event_id: int) -> Event:
    """The current event ``event_id`` at a unit the user may change; 404 otherwise."""
    event = session.get(Event, event_id)
    if event is None or event.superseded_by is not None or event.voided_at is not None:
        raise HTTPException(404, f"no current event {event_id}")
    _unit(session, user, session.get_one(Unit, event.unit_id).code, change=True)
    return event


@router.post("/events/{event_id}/void", status_code=204)
def void_event(event_id: Id, body: VoidIn, who: CallerDep) -> None:
    """Void a current event: it stays in the history but no longer counts."""
    context, user = who.context, who.user
    try:
        with transaction(context.engine) as session:
            _current(session, user, event_id)
            registry.void_event(session, event_id, body.reason, user.label, context.now())
    except InputError as error:
        raise unprocessable(error) from None


# ----------------------------------------------------------------------------------------------
# Obligations, meetings, feeds


@router.get("/obligations")
def list_obligations(
    who: CallerDep,
    year: Year = None,
    unit: Code | None = None,
    rule: Code | None = None,
    status: Annotated[
        str | None, Query(pattern="^(upcoming|open|met|met_late|overdue|missed|exempt)$")
    ] = None,
) -> list[dict[str, Any]]:
    """Obligations of ``year`` in the user's scope, as ``huiqi status --format json`` gives them."""
    context, user = who.context, who.user
    today = context.now().date()
    with transaction(context.engine) as session:
        if unit:
            _unit(session, user, unit)
        code = unit or _scope_code(session, user)
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
        rows = reports.status_rows(session, context.book, selection)
    return [row.to_json() for row in rows if status is None or row.obligation.status == status]


def _scope_code(session: Session, user: Principal) -> str | None:
    if user.unit_id is None:
        return None
    return session.scalar(select(Unit.code).where(Unit.id == user.unit_id))


@router.get("/meetings", response_model=list[MeetingOut])
def list_meetings(who: CallerDep, year: Year = None, unit: Code | None = None) -> list[MeetingOut]:
    """Meetings starting in ``year`` at the units the user may read (or at ``unit``)."""
    context, user = who.context, who.user
    zone = context.settings.zone
    year = year or context.now().year
    with transaction(context.engine) as session:
        ids = [_unit(session, user, unit).id] if unit else _readable(session, user)
        start = datetime(year, 1, 1, tzinfo=zone)
        found = meetings.listing(session, ids, start, start.replace(year=year + 1))
        return [
            MeetingOut(
                id=m.id,
                unit=u.code,
                title=m.title,
                status=m.status,
                start=as_utc(m.starts_at).astimezone(zone).isoformat(),
                end=as_utc(m.ends_at).astimezone(zone).isoformat(),
                kinds=list(m.kinds),
            )
            for m, u in found
        ]


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
            unit = _unit(session, user, body.unit, change=True)
            fields = meetings.read_fields(raw, zone, "meetings plan")
            change = meetings.plan(
                session, context.book, fields, user.label, now, context.settings.calendar.uid_domain
            )
            m = change.meeting
            out = MeetingOut(
                id=m.id,
                unit=unit.code,
                title=m.title,
                status=m.status,
                start=as_utc(m.starts_at).astimezone(zone).isoformat(),
                end=as_utc(m.ends_at).astimezone(zone).isoformat(),
                kinds=list(m.kinds),
            )
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
        unit = _unit(session, user, body.unit)
        scope = "subtree" if body.subtree else "unit"
        new = feeds.create(session, context.settings, scope, unit.code, user.label, context.now())
    return FeedOut(url=new.url, webcal=new.webcal)


@router.get("/openapi.json", include_in_schema=False)
def openapi() -> dict[str, Any]:
    """The API's OpenAPI schema (only the /api routes)."""
    return get_openapi(title="huiqi 会期 API", version="1", routes=router.routes)
