"""Meeting sign-in pages: the public sheet ``/s/TOKEN`` and the organiser's page.

``GET /s/TOKEN`` lists the meeting's attendees as large buttons (one plain form each) and a box
to type a name; ``POST`` signs that name (``self``) and shows it signed. No login, no script,
no location. The organiser's page ``/meetings/ID/signin`` (logged in, may change the unit)
shows the sheet's QR code (segno, inline SVG) and URL for the room screen, who signed, a form
to sign for someone present (代签) or add a name afterwards (补签), and "mark held from the
sign-ins". Every sign-in is in the trail with its mode.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from scheduler.calendar import meetings, signins
from scheduler.core.links import TokenRefused
from scheduler.core.problems import InputError
from scheduler.core.words import words
from scheduler.store.database import transaction
from scheduler.store.links import secret_key
from scheduler.store.models import Unit
from scheduler.store.models_calendar import Meeting, as_utc
from scheduler.store.models_links import LATE, PROXY, SELF
from scheduler.web.context import WebContext, web_context
from scheduler.web.kit import (
    NotFound,
    PageRoute,
    Visit,
    VisitDep,
    checked_form,
    language,
    page,
    unit_for,
)
from scheduler.web.messages import problem_text
from scheduler.web.phone import PRIVATE, phone_page, refused_page

router = APIRouter(include_in_schema=False)
staff_router = APIRouter(route_class=PageRoute, include_in_schema=False)
Context = Depends(web_context)


@router.get("/s/{token}")
def sheet_page(
    request: Request, token: str, signed: str = "", context: WebContext = Context
) -> Response:
    """The sign-in sheet on an attendee's phone."""
    with transaction(context.engine) as session:
        try:
            meeting = signins.open_sheet(session, secret_key(), token, context.now())
        except TokenRefused as refusal:
            return refused_page(request, context, refusal.reason)
        return _sheet(request, context, session, meeting, token, signed, "")


@router.post("/s/{token}")
async def sign_in(request: Request, token: str, context: WebContext = Context) -> Response:
    """Sign the tapped or typed name; back to the sheet saying so."""
    posted = await request.form()
    name = str(posted.get("name", ""))
    lang = language(request, context)
    with transaction(context.engine) as session:
        try:
            meeting = signins.open_sheet(session, secret_key(), token, context.now())
        except TokenRefused as refusal:
            return refused_page(request, context, refusal.reason)
        try:
            cleaned = " ".join(name.split())
            actor = signins.self_actor(cleaned, lang)
            signins.sign(session, meeting, cleaned, SELF, actor, context.now())
        except InputError:
            return _sheet(
                request, context, session, meeting, token, "", words(lang, "phone.")["need_name"]
            )
    target = f"/s/{token}?{urlencode({'signed': cleaned})}"
    return RedirectResponse(target, status_code=303, headers=PRIVATE)


def _sheet(
    request: Request,
    context: WebContext,
    session: Session,
    meeting: Meeting,
    token: str,
    signed: str,
    error: str,
) -> HTMLResponse:
    zone = context.settings.zone
    done = {s.name for s in signins.sheet(session, meeting.id)}
    names = [a.name for a in meeting.attendees if a.name]
    return phone_page(
        request, context, "signin_sheet.html", token=token, meeting=meeting,
        start=as_utc(meeting.starts_at).astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        names=names, done=done, signed=signed if signed in done else "", error=error,
        status_code=422 if error else 200,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# The organiser's page


@staff_router.get("/meetings/{meeting_id}/signin")
def organiser_page(request: Request, visit: VisitDep, meeting_id: int) -> HTMLResponse:
    """The QR code for the room screen, the sheet, 代签/补签 and mark held."""
    context = visit.context
    with transaction(context.engine) as session:
        meeting, unit = _meeting_of(session, visit, meeting_id)
        token = signins.sheet_token(secret_key(), meeting, context.settings.zone)
        url = f"{context.settings.web.base_url.rstrip('/')}/s/{token}"
        qr = Markup(segno.make(url, error="m").svg_inline(scale=6))
        zone = context.settings.zone
        rows = [
            (s.name, signins.mode_name(s.mode, visit.lang), s.by, s.at.astimezone(zone))
            for s in signins.sheet(session, meeting.id)
        ]
        names = [a.name for a in meeting.attendees if a.name]
        start = as_utc(meeting.starts_at).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return page(
            request, visit, context, "signin.html", meeting=meeting, unit=unit, url=url, qr=qr,
            rows=rows, names=names, start=start,
            modes=[(m, signins.mode_name(m, visit.lang)) for m in (PROXY, LATE)],
        )  # fmt: skip


@staff_router.post("/meetings/{meeting_id}/signin")
async def organiser_sign(request: Request, visit: VisitDep, meeting_id: int) -> Response:
    """代签 or 补签 by the organiser (the logged-in user is the actor)."""
    form = await checked_form(request, visit)
    mode = str(form.get("mode", PROXY))
    if mode not in (PROXY, LATE):
        mode = PROXY
    context = visit.context
    with transaction(context.engine) as session:
        meeting, _ = _meeting_of(session, visit, meeting_id)
        try:
            signins.sign(
                session, meeting, str(form.get("name", "")), mode, visit.user.label, visit.now
            )
        except InputError as error:
            back = f"/meetings/{meeting_id}/signin"
            return page(
                request, visit, context, "message.html", status_code=422,
                heading=problem_text(error, visit.lang),
                back=back,
            )  # fmt: skip
    return RedirectResponse(f"/meetings/{meeting_id}/signin", status_code=303)


@staff_router.post("/meetings/{meeting_id}/held-from-signins")
async def held_from_signins(request: Request, visit: VisitDep, meeting_id: int) -> Response:
    """Mark the meeting held; attendance from its sheet."""
    await checked_form(request, visit)
    context = visit.context
    with transaction(context.engine) as session:
        _, unit = _meeting_of(session, visit, meeting_id)
        try:
            signins.held_from_sheet(
                session, context.book, meeting_id, visit.user.label, visit.now, visit.lang
            )
        except InputError as error:
            back = f"/meetings/{meeting_id}/signin"
            return page(
                request, visit, context, "message.html", status_code=422,
                heading=problem_text(error, visit.lang),
                back=back,
            )  # fmt: skip
    return RedirectResponse(f"/units/{quote(unit.code)}", status_code=303)


def _meeting_of(session: Session, visit: Visit, meeting_id: int) -> tuple[Meeting, Unit]:
    try:
        meeting = meetings.find(session, meeting_id)
    except InputError:
        raise NotFound from None
    unit = session.get_one(Unit, meeting.unit_id)
    unit_for(session, visit.user, unit.code, change=True)
    return meeting, unit
