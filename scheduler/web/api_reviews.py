"""The JSON API's review by the level above (included in `scheduler.web.api`'s router): the
queue of events the caller may review, and accepting or returning one with a comment.

Who decides is `scheduler.store.reviews`' rule (an admin, or a clerk whose subtree holds the
event's unit's parent): a current event the caller may not decide is a 403, an event that is
not current (or none) a 404, a return without a comment a 422. Each decision is one trail entry,
written by the store in the request's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, StringConstraints
from sqlalchemy.orm import Session

from scheduler.core.access import Principal, can_approve, lineage
from scheduler.core.problems import InputError
from scheduler.store import reviews
from scheduler.store.database import transaction
from scheduler.store.models import Event, Unit
from scheduler.web import paging
from scheduler.web.api_kit import CallerDep, unprocessable
from scheduler.web.api_models import Id, Text, _Body
from scheduler.web.kit import parents
from scheduler.web.paging import DEFAULT_LIMIT, Cursor, Limit, Page

router = APIRouter()
Said = Annotated[
    str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*[^\s][^\x00-\x1f\x7f]*$")
]


class ReviewOut(BaseModel):
    """An event in the review queue and its review so far (``status`` pending: none yet)."""

    event: int
    unit: str
    unit_name: str
    date: dt.date
    title: str
    recorded_by: str
    status: str
    reviewer: str | None
    reviewed_at: dt.datetime | None
    comment: str | None


class AcceptIn(_Body):
    comment: Text = ""


class ReturnIn(_Body):
    """What the unit should correct (required)."""

    comment: Said


def _out(item: reviews.QueueItem, zone: ZoneInfo) -> ReviewOut:
    """The item, its review time in local time with its offset."""
    review = item.review
    return ReviewOut(
        event=item.event.id,
        unit=item.unit.code,
        unit_name=item.unit.name,
        date=item.event.date,
        title=item.event.title,
        recorded_by=item.event.recorded_by,
        status=item.state,
        reviewer=review.reviewer if review else None,
        reviewed_at=_local(review.reviewed_at, zone) if review else None,
        comment=review.comment if review else None,
    )


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A stored time in ``zone`` (SQLite hands it back naive, as written: local)."""
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


@router.get("/reviews", response_model=Page[ReviewOut])
def list_reviews(
    request: Request,
    who: CallerDep,
    status: Literal["pending", "accepted", "returned", "all"] = "pending",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ReviewOut]:
    """Current events the token's user may review, in ``status``, oldest first."""
    after = paging.decode(cursor, [str, int])
    start = (_day(after[0]), after[1]) if after else None
    with transaction(who.context.engine) as session:
        items = reviews.queue(session, who.user, status, limit + 1, start)
        zone = who.context.settings.zone
        rows = [([i.event.date.isoformat(), i.event.id], _out(i, zone)) for i in items]
        return paging.page(request, rows, limit)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise paging.bad_cursor() from None


@router.post("/reviews/{event_id}/accept", response_model=ReviewOut)
def accept(event_id: Id, body: AcceptIn, who: CallerDep) -> ReviewOut:
    """Accept an event (with ``review.mode: required`` it counts from now on)."""
    return _decide(who, event_id, True, body.comment)


@router.post("/reviews/{event_id}/return", response_model=ReviewOut)
def return_event(event_id: Id, body: ReturnIn, who: CallerDep) -> ReviewOut:
    """Return an event to its unit with a comment; the unit's clerk is told."""
    return _decide(who, event_id, False, body.comment)


def _decide(who: CallerDep, event_id: int, accept: bool, comment: str) -> ReviewOut:
    context, user = who.context, who.user
    with transaction(context.engine) as session:
        event, unit = _decidable(session, user, event_id)
        try:
            review = reviews.decide(
                session, event_id, accept, comment, user.label, context.now(), user, "api",
                context.book,
            )  # fmt: skip
        except InputError as error:
            raise unprocessable(error) from None
        return _out(reviews.QueueItem(event, unit, review), context.settings.zone)


def _decidable(session: Session, user: Principal, event_id: int) -> tuple[Event, Unit]:
    """404 unless ``event_id`` is a current event; 403 unless ``user`` is a level above it."""
    event = session.get(Event, event_id)
    if event is None or event.superseded_by is not None or event.voided_at is not None:
        raise HTTPException(404, f"no current event {event_id}")
    chain = lineage(event.unit_id, parents(session))
    if not can_approve(user, chain):
        raise HTTPException(403, f"event {event_id} is not at a unit below yours")
    return event, session.get_one(Unit, event.unit_id)
