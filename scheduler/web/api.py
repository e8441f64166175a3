"""The JSON API under ``/api``: bearer tokens (``huiqi tokens create``), the same scopes as the
pages, 422 naming the field on bad input with nothing written, lists in pages (`paging`). Units,
people and events live here; obligations, meetings and feeds in `scheduler.web.api_plans`. Its
OpenAPI schema is served at ``/api/openapi.json``, with the ruleset's kinds, roles and rules as
the values their fields take."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.openapi.utils import get_openapi
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from scheduler.core.problems import InputError, single
from scheduler.store import registry
from scheduler.store.database import transaction
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, Person, RoleAssignment, Unit
from scheduler.web import api_attachments, api_plans, api_reviews, paging
from scheduler.web.api_kit import (
    Caller,
    CallerDep,
    readable_ids,
    unit_in_scope,
    unprocessable,
)
from scheduler.web.api_models import (
    ERRORS,
    Code,
    Day,
    EventIn,
    EventOut,
    Id,
    PersonOut,
    UnitOut,
    VoidIn,
)
from scheduler.web.paging import DEFAULT_LIMIT, Cursor, Limit, Page

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


# ----------------------------------------------------------------------------------------------
# Units and people


@router.get("/units", response_model=Page[UnitOut])
def list_units(
    request: Request, who: CallerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[UnitOut]:
    """The units the token's user may read, by code."""
    after = paging.decode(cursor, [str])
    with transaction(who.context.engine) as session:
        readable = readable_ids(session, who.user)
        codes = dict(session.execute(select(Unit.id, Unit.code)).all())
        statement = select(Unit).where(Unit.id.in_(readable)).order_by(Unit.code)
        if after:
            statement = statement.where(Unit.code > after[0])
        units = session.scalars(statement.limit(limit + 1)).all()
        return paging.page(request, [([u.code], _unit_out(u, codes)) for u in units], limit)


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
        unit = unit_in_scope(session, who.user, code)
        codes = dict(session.execute(select(Unit.id, Unit.code)).all())
        return _unit_out(unit, codes)


@router.get("/people", response_model=Page[PersonOut])
def list_people(
    request: Request,
    who: CallerDep,
    unit: Code | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[PersonOut]:
    """People and their roles at the units the user may read (or at ``unit``)."""
    after = paging.decode(cursor, [str, str, int])
    with transaction(who.context.engine) as session:
        ids = (
            [unit_in_scope(session, who.user, unit).id] if unit else readable_ids(session, who.user)
        )
        order = (Unit.code, RoleAssignment.role, RoleAssignment.id)
        statement = (
            select(Person, RoleAssignment, Unit.code)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(RoleAssignment.unit_id.in_(ids))
            .order_by(*order)
        )
        if after:
            statement = statement.where(tuple_(*order) > tuple_(*after))
        rows = session.execute(statement.limit(limit + 1)).all()
        people = [([code, r.role, r.id], _person_out(p, r, code)) for p, r, code in rows]
        return paging.page(request, people, limit)


def _person_out(person: Person, held: RoleAssignment, code: str) -> PersonOut:
    return PersonOut(
        name=person.name,
        email=person.email,
        unit=code,
        role=held.role,
        valid_from=held.valid_from,
        valid_to=held.valid_to,
    )


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
        "time": body.time or "",
        "title": body.title,
        "attended": ";".join(body.attended),
        "amount": "" if body.amount is None else str(body.amount),
        "ref": body.ref or "",
    }


@router.get("/events", response_model=Page[EventOut])
def list_events(
    request: Request,
    who: CallerDep,
    unit: Code | None = None,
    first: Annotated[Day | None, Query(alias="from")] = None,
    last: Annotated[Day | None, Query(alias="to")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EventOut]:
    """Current events at the units the user may read (or at ``unit``), by date."""
    after = paging.decode(cursor, [str, int])
    with transaction(who.context.engine) as session:
        ids = (
            [unit_in_scope(session, who.user, unit).id] if unit else readable_ids(session, who.user)
        )
        statement = select(Event, Unit.code).join(Unit, Unit.id == Event.unit_id)
        statement = statement.where(CURRENT, Event.unit_id.in_(ids))
        if first:
            statement = statement.where(Event.date >= first)
        if last:
            statement = statement.where(Event.date <= last)
        if after:
            statement = statement.where(tuple_(Event.date, Event.id) > (_day(after[0]), after[1]))
        rows = session.execute(statement.order_by(Event.date, Event.id).limit(limit + 1))
        found = [([e.date.isoformat(), e.id], _event_out(e, code)) for e, code in rows]
        return paging.page(request, found, limit)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise paging.bad_cursor() from None


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
            unit = unit_in_scope(session, user, body.unit, change=True)
            cells, now = _cells(body), context.now()
            if replaces is None:
                event_id = registry.add_event(session, context.book, cells, user.label, now)
            else:
                _replaceable(session, replaces, unit)
                event_id = registry.replace_event(
                    session, context.book, replaces, cells, user.label, now
                )
            return _event_out(session.get_one(Event, event_id), unit.code)
    except InputError as error:
        raise unprocessable(error) from None


def _replaceable(session: Session, event_id: int, unit: Unit) -> None:
    """404 unless ``event_id`` is a current event; 422 unless it is at ``unit`` (in scope)."""
    old = session.get(Event, event_id)
    if old is None or old.superseded_by is not None or old.voided_at is not None:
        raise HTTPException(404, f"no current event {event_id}")
    if old.unit_id != unit.id:
        raise single("an event keeps its unit", "api", field="unit")


@router.post("/events/{event_id}/void", status_code=204)
def void_event(event_id: Id, body: VoidIn, who: CallerDep) -> None:
    """Void a current event: it stays in the history but no longer counts."""
    context, user = who.context, who.user
    with transaction(context.engine) as session:
        event = session.get(Event, event_id)
        if event is None or event.superseded_by is not None or event.voided_at is not None:
            raise HTTPException(404, f"no current event {event_id}")
        unit = session.get_one(Unit, event.unit_id)
        unit_in_scope(session, user, unit.code, change=True)
        registry.void_event(session, event_id, body.reason, user.label, context.now(), context.book)


router.include_router(api_plans.router)
router.include_router(api_attachments.router)
router.include_router(api_reviews.router)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> dict[str, Any]:
    """The API's OpenAPI schema (only the /api routes), naming the event kinds, roles and
    rules of the app's ruleset as the values those fields take."""
    schema = get_openapi(title="huiqi 会期 API", version="1", routes=router.routes)
    book = request.app.state.huiqi.book
    kinds, roles = sorted(book.event_kinds), sorted(book.roles)
    bodies = schema["components"]["schemas"]
    _enum(bodies["EventIn"]["properties"]["kinds"]["items"], kinds)
    _enum(bodies["EventIn"]["properties"]["attended"]["items"], roles)
    _enum(bodies["MeetingIn"]["properties"]["kinds"]["items"], kinds)
    for parameter in schema["paths"]["/api/obligations"]["get"]["parameters"]:
        if parameter["name"] == "rule":
            _enum(parameter["schema"]["anyOf"][0], sorted(rule.id for rule in book.rules))
    return schema


def _enum(schema: dict[str, Any], values: list[str]) -> None:
    """Restrict a string schema to ``values`` (the other constraints say nothing more)."""
    for key in ("minLength", "maxLength", "pattern"):
        schema.pop(key, None)
    schema["enum"] = values
