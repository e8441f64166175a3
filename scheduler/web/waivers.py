"""Waiver pages: a clerk's request from the obligation page (an admin's form waives directly),
the approvers' queue, and their decisions.

Who may decide is `scheduler.store.waivers`' rule, checked there: an admin, or a clerk whose
subtree holds the unit's parent; never the requester. The queue lists the requests of the units
the user may read and offers approve and refuse only where she may decide.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.core.access import Role, can_read, lineage
from scheduler.core.problems import InputError
from scheduler.store import waivers
from scheduler.store.database import transaction
from scheduler.store.models_waivers import WaiverRequest
from scheduler.web.forms import one_line
from scheduler.web.kit import (
    NotFound,
    PageRoute,
    Visit,
    VisitDep,
    checked_form,
    local_minute,
    local_path,
    page,
    parents,
    unit_for,
)
from scheduler.web.messages import problem_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
STATUSES = ("pending", "approved", "refused")


def _actor(visit: Visit) -> waivers.Actor:
    return waivers.Actor(visit.user.label, visit.user)


@router.post("/units/{code}/waive")
async def waive(request: Request, visit: VisitDep, code: str) -> Response:
    """A clerk's waiver request (pending until decided a level above); an admin's waiver."""
    form = await checked_form(request, visit)
    rule, period, reason = (str(form.get(key, "")).strip() for key in ("rule", "period", "reason"))
    book, now = visit.context.book, visit.now
    try:
        one_line({"rule": rule, "period": period, "reason": reason}, visit.lang, "waive")
        with transaction(visit.context.engine) as session:
            unit_for(session, visit.user, code, change=True)
            if visit.user.role is Role.ADMIN:
                waivers.waive(session, book, code, rule, period, reason, visit.user.label, now)
            else:
                waivers.request(session, book, code, rule, period, reason, _actor(visit), now)
    except InputError as error:
        return _message(request, visit, problem_text(error, visit.lang), f"/units/{code}")
    return RedirectResponse(local_path(str(form.get("back", "")), "/waivers"), status_code=303)


@router.get("/waivers")
def queue(request: Request, visit: VisitDep, status: str = "") -> HTMLResponse:
    """The waiver requests of the units the user may read, pending ones first."""
    status = status if status in STATUSES else ""
    context, actor = visit.context, _actor(visit)
    with transaction(context.engine) as session:
        tree = parents(session)
        readable = None
        if visit.user.role is not Role.ADMIN:
            readable = [u for u in tree if can_read(visit.user, lineage(u, tree))]
        rows = [
            (asked, unit, waivers.decision_problem(session, asked, actor, tree) is None)
            for asked, unit in waivers.requests(session, readable, status or None, 300)
        ]
    zone = context.settings.zone
    return page(
        request, visit, context, "waivers.html", rows=rows, status=status, statuses=STATUSES,
        book=context.book, moment=lambda m: local_minute(m, zone),
    )  # fmt: skip


@router.post("/waivers/{request_id}/{decision}")
async def decide(request: Request, visit: VisitDep, request_id: int, decision: str) -> Response:
    """Approve or refuse a pending request, by a user a level above its unit."""
    form = await checked_form(request, visit)
    if decision not in ("approve", "refuse"):
        raise NotFound
    comment = str(form.get("comment", "")).strip()
    try:
        one_line({"comment": comment}, visit.lang, "waivers")
        with transaction(visit.context.engine) as session:
            if session.get(WaiverRequest, request_id) is None:
                raise NotFound
            approve = decision == "approve"
            waivers.decide(
                session, request_id, approve, comment, _actor(visit), visit.now,
                visit.context.book,
            )  # fmt: skip
    except InputError as error:
        return _message(request, visit, problem_text(error, visit.lang), "/waivers")
    return RedirectResponse("/waivers", status_code=303)


def _message(request: Request, visit: Visit, heading: str, back: str) -> HTMLResponse:
    return page(
        request, visit, visit.context, "message.html", status_code=422, heading=heading, back=back
    )
