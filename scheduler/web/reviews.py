"""Review pages: the queue of events a reviewer may accept or return, and her decisions.

The queue lists the current events of units whose parent lies in the user's subtree (an
admin's: every unit with a parent), pending ones by default; who may decide is
`scheduler.store.reviews`' rule, checked there. Viewers review nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.core.access import Role
from scheduler.core.problems import InputError
from scheduler.store import reviews
from scheduler.store.database import transaction
from scheduler.web.forms import one_line
from scheduler.web.kit import (
    NotFound,
    PageRoute,
    Refused,
    VisitDep,
    checked_form,
    local_minute,
    page,
)
from scheduler.web.messages import problem_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/reviews")
def queue(request: Request, visit: VisitDep, status: str = "pending") -> HTMLResponse:
    """Events the user may review, oldest first."""
    if visit.user.role is Role.VIEWER:
        raise Refused
    status = status if status in (*reviews.STATES, "all") else "pending"
    context = visit.context
    with transaction(context.engine) as session:
        items = reviews.queue(session, visit.user, status, 300)
        for item in items:
            session.expunge(item.event)
    zone = context.settings.zone
    return page(
        request, visit, context, "reviews.html", items=items, status=status,
        statuses=(*reviews.STATES, "all"), moment=lambda m: local_minute(m, zone),
    )  # fmt: skip


@router.post("/reviews/{event_id}/{decision}")
async def decide(request: Request, visit: VisitDep, event_id: int, decision: str) -> Response:
    """Accept or return an event, by a user a level above its unit."""
    form = await checked_form(request, visit)
    if decision not in ("accept", "return"):
        raise NotFound
    comment = str(form.get("comment", "")).strip()
    try:
        one_line({"comment": comment}, visit.lang, "review")
        with transaction(visit.context.engine) as session:
            reviews.decide(
                session, event_id, decision == "accept", comment, visit.user.label, visit.now,
                visit.user, book=visit.context.book,
            )  # fmt: skip
    except InputError as error:
        return page(
            request, visit, visit.context, "message.html", status_code=422,
                heading=problem_text(error, visit.lang),
            back="/reviews",
        )  # fmt: skip
    return RedirectResponse("/reviews", status_code=303)
