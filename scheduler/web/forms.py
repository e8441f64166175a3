"""Change pages: record an event (with optional attachments), void it, plan a meeting, mark it
held, make a calendar link (waivers: `scheduler.web.waivers`). Server-side validation: on error
the form comes back with each message next to its field and nothing saved. Every field is one
line: a control character (a line break, a tab …) is refused, as the JSON API refuses it. The
services write the change trail; a page only names the user."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.calendar import feeds, invites, meetings
from scheduler.core.problems import InputError, Problem
from scheduler.core.words import words
from scheduler.store import attachments, registry
from scheduler.store.database import transaction
from scheduler.store.models import Event, Unit
from scheduler.store.models_calendar import CalendarFeed, as_utc
from scheduler.transports.mail import make_mailer
from scheduler.web.attachments import body_refusal, posted_files, store_files
from scheduler.web.context import WebContext
from scheduler.web.kit import (
    NotFound,
    PageRoute,
    Visit,
    VisitDep,
    checked_form,
    page,
    unit_for,
)
from scheduler.web.messages import form_message, problem_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
EVENT_FIELDS = ("date", "time", "title", "amount", "ref")
MEETING_FIELDS = ("start", "end", "title", "location", "agenda", "attendees")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(values: Mapping[str, str], lang: str, where: str = "form") -> None:
    """Refuse (`InputError`, naming each field) values holding a control character."""
    message = words(lang, "page.")["no_control"]
    problems = [
        Problem(where, None, name, message)
        for name, value in values.items()
        if CONTROL.search(value)
    ]
    if problems:
        raise InputError(problems)


def field_errors(
    error: InputError, aliases: Mapping[str, str] | None = None, lang: str = "en"
) -> dict[str, str]:
    """Each problem's message (in ``lang``) by form field (``--start`` → ``start``); others
    under ``""``."""
    found: dict[str, str] = {}
    for problem in error.problems:
        name = (problem.field or "").lstrip("-")
        name = (aliases or {}).get(name, name)
        found.setdefault(name, form_message(problem.message, lang))
    return found


def _redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


# ----------------------------------------------------------------------------------------------
# Events


@router.get("/units/{code}/events/new")
def event_form(request: Request, visit: VisitDep, code: str) -> HTMLResponse:
    with transaction(visit.context.engine) as session:
        unit = unit_for(session, visit.user, code, change=True)
    values = {"date": visit.today.isoformat()}
    return _form_page(
        request, visit, "event_form.html", unit, {}, values=values, kinds=[], attended=[]
    )


def _form_page(
    request: Request,
    visit: Visit,
    template: str,
    unit: Unit,
    errors: Mapping[str, str],
    **values: Any,
) -> HTMLResponse:
    """A record or plan form, with the values given and errors next to their fields (422)."""
    status_code = 422 if errors else 200
    return page(
        request,
        visit,
        visit.context,
        template,
        unit=unit,
        errors=errors,
        book=visit.context.book,
        status_code=status_code,
        files=visit.context.settings.files,
        document_kinds=attachments.KINDS,
        document_names=words(visit.lang, "trail.document."),
        **values,
    )


def _posted(form: Any, name: str) -> list[str]:
    """The values of a multi-valued form field (checkboxes)."""
    return [str(value) for value in form.getlist(name)]


@router.post("/units/{code}/events/new")
async def record_event(request: Request, visit: VisitDep, code: str) -> Response:
    """Record the event and attach its files (optional) in one transaction: a refused file
    saves nothing."""
    refused = body_refusal(request, visit.context.settings.files)
    if refused:
        return page(
            request,
            visit,
            visit.context,
            "message.html",
            status_code=refused[0],
            heading=refused[1].said(visit.lang),
            back=f"/units/{code}/events/new",
        )
    form = await checked_form(request, visit)
    kinds = _posted(form, "kinds")
    attended = _posted(form, "attended")
    values = {key: str(form.get(key, "")).strip() for key in EVENT_FIELDS}
    values["attachment_type"] = str(form.get("attachment_type", "other"))
    cells = {**values, "unit": code, "kinds": ";".join(kinds), "attended": ";".join(attended)}
    cells.pop("attachment_type")
    try:
        one_line(cells, visit.lang)
        files = await posted_files(
            form, visit.context.settings.files, {"files": "attachment_type", "photo": "=photo"}
        )
        with transaction(visit.context.engine) as session:
            unit_for(session, visit.user, code, change=True)
            event_id = registry.add_event(
                session, visit.context.book, cells, visit.user.label, visit.now
            )
            store_files(visit, session, event_id, files)
    except InputError as error:
        with transaction(visit.context.engine) as session:
            unit = unit_for(session, visit.user, code, change=True)
        return _form_page(
            request,
            visit,
            "event_form.html",
            unit,
            field_errors(error, lang=visit.lang),
            values=values,
            kinds=kinds,
            attended=attended,
        )
    return _redirect(f"/units/{code}#event-{event_id}")


@router.post("/events/{event_id}/void")
async def void_event(request: Request, visit: VisitDep, event_id: int) -> Response:
    form = await checked_form(request, visit)
    reason = str(form.get("reason", "")).strip()
    with transaction(visit.context.engine) as session:
        event = session.get(Event, event_id)
        if event is None:
            raise NotFound
        unit = session.get_one(Unit, event.unit_id)
        unit_for(session, visit.user, unit.code, change=True)
        try:
            one_line({"reason": reason}, visit.lang, "events void")
            registry.void_event(
                session, event_id, reason, visit.user.label, visit.now, visit.context.book
            )
        except InputError as error:
            return page(
                request,
                visit,
                visit.context,
                "message.html",
                status_code=422,
                heading=problem_text(error, visit.lang),
                back=f"/units/{unit.code}",
            )
    return _redirect(f"/units/{unit.code}")


# ----------------------------------------------------------------------------------------------
# Meetings and calendar links


@router.get("/units/{code}/meetings/new")
def meeting_form(request: Request, visit: VisitDep, code: str) -> HTMLResponse:
    with transaction(visit.context.engine) as session:
        unit = unit_for(session, visit.user, code, change=True)
    return _form_page(request, visit, "meeting_form.html", unit, {}, values={}, kinds=[])


@router.post("/units/{code}/meetings/new")
async def plan_meeting(request: Request, visit: VisitDep, code: str) -> Response:
    form = await checked_form(request, visit)
    context = visit.context
    kinds = _posted(form, "kinds")
    values = {key: str(form.get(key, "")).strip() for key in MEETING_FIELDS}
    raw: dict[str, str | None] = {**values, "unit": code, "kinds": ";".join(kinds)}
    raw = {key: (value or None) for key, value in raw.items()}
    try:
        one_line({**values, "kinds": ";".join(kinds)}, visit.lang)
        with transaction(context.engine) as session:
            unit_for(session, visit.user, code, change=True)
            fields = meetings.read_fields(raw, context.settings.zone, "meetings plan")
            change = meetings.plan(
                session,
                context.book,
                fields,
                visit.user.label,
                visit.now,
                context.settings.calendar.uid_domain,
            )
    except InputError as error:
        with transaction(context.engine) as session:
            unit = unit_for(session, visit.user, code, change=True)
        return _form_page(
            request,
            visit,
            "meeting_form.html",
            unit,
            field_errors(error, lang=visit.lang),
            values=values,
            kinds=kinds,
        )
    _send(visit, change.notices)
    return _redirect(f"/units/{code}")


def _send(visit: Visit, notices: Any) -> None:
    """Send invites after the plan committed; failures stay visible on the meeting."""
    context = visit.context
    if notices:
        invites.deliver(
            context.engine,
            context.book,
            context.settings,
            make_mailer(context.settings),
            notices,
            visit.now,
        )


@router.post("/meetings/{meeting_id}/held")
async def mark_held(request: Request, visit: VisitDep, meeting_id: int) -> Response:
    form = await checked_form(request, visit)
    attended = _posted(form, "attended")
    context = visit.context
    with transaction(context.engine) as session:
        try:
            meeting = meetings.find(session, meeting_id)
        except InputError:
            raise NotFound from None
        unit = session.get_one(Unit, meeting.unit_id)
        unit_for(session, visit.user, unit.code, change=True)
        try:
            meetings.held(session, context.book, meeting_id, attended, visit.user.label, visit.now)
        except InputError as error:
            return page(
                request,
                visit,
                context,
                "message.html",
                status_code=422,
                heading=problem_text(error, visit.lang),
                back=f"/units/{unit.code}",
            )
    return _redirect(f"/units/{unit.code}")


@router.post("/units/{code}/feed")
async def make_feed(request: Request, visit: VisitDep, code: str) -> Response:
    """One feed of the unit per person: a second click shows the one there is (its link was
    shown once); ``want=another`` makes one more, ``want=replace`` revokes hers first."""
    want = str((await checked_form(request, visit)).get("want", ""))
    context, by = visit.context, visit.user.label
    with transaction(context.engine) as session:
        unit = unit_for(session, visit.user, code)
        existing = feeds.made_by(session, code, by)
        if existing and want not in ("another", "replace"):
            return page(request, visit, context, "feed.html", unit=unit, links=[],
                        existing=existing, created=_created(existing, context))  # fmt: skip
        if want == "replace":
            for feed in existing:
                feeds.revoke(session, str(feed.id), by, visit.now)
        new = feeds.create(session, context.settings, "unit", code, by, visit.now)
    links = [("webcal", new.webcal), (urlsplit(new.url).scheme, new.url)]
    return page(request, visit, context, "feed.html", unit=unit, links=links, existing=[],
                created=[])  # fmt: skip


def _created(found: list[CalendarFeed], context: WebContext) -> list[str]:
    zone = context.settings.zone
    return [as_utc(feed.created_at).astimezone(zone).strftime("%Y-%m-%d %H:%M") for feed in found]
