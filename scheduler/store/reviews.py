"""Review by the level above (``review.mode``): accept an event or return it with a comment.

Who reviews is who approves waivers (`scheduler.core.access.can_approve`): an admin, or a
clerk whose subtree holds the event's unit's parent, never the unit itself. Events of a unit
without a parent are not reviewed. Only a current event is reviewed; a decision can be changed
by a later one (a returned event accepted after a call), and each decision is one trail entry
(``review.accept``, ``review.return``) in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from scheduler.core.access import Principal, can_approve, lineage
from scheduler.core.problems import Message, single
from scheduler.core.rules import RuleBook
from scheduler.store import obligations, trail
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, Unit
from scheduler.store.models_reviews import ACCEPTED, RETURNED, EventReview

PENDING = "pending"
STATES = (PENDING, ACCEPTED, RETURNED)


@dataclass(frozen=True)
class QueueItem:
    """A current event a reviewer may decide, with its unit and its review so far."""

    event: Event
    unit: Unit
    review: EventReview | None

    @property
    def state(self) -> str:
        return self.review.status if self.review else PENDING


def decide(
    session: Session,
    event_id: int,
    accept: bool,
    comment: str,
    actor: str,
    now: datetime,
    user: Principal | None = None,
    where: str = "review",
    book: RuleBook | None = None,
) -> EventReview:
    """Accept (``accept``) or return the current event ``event_id``; returning needs a
    comment. ``user`` None is the operator, who may review every unit with a parent."""
    event = session.get(Event, event_id)
    if event is None or event.superseded_by is not None or event.voided_at is not None:
        raise single(Message("no_current_event", id=event_id), where)
    tree = _parents(session)
    chain = lineage(event.unit_id, tree)
    if len(chain) < 2:
        raise single(Message("no_level_above", id=event_id), where)
    if user is not None and not can_approve(user, chain):
        raise single(Message("event_not_below", id=event_id), where)
    comment = comment.strip()
    if not accept and not comment:
        raise single(Message("return_needs_comment"), where, field="comment")
    review = session.get(EventReview, event_id) or EventReview(event_id=event_id)
    review.status = ACCEPTED if accept else RETURNED
    review.reviewer = actor
    review.reviewer_user = user.user_id if user else None
    review.reviewed_at = now
    review.comment = comment or None
    session.add(review)
    subject = " ".join(p for p in (event.date.isoformat(), event.title, f"(#{event.id})") if p)
    action = "review.accept" if accept else "review.return"
    after = {"comment": comment} if comment else None
    trail.record(session, actor, action, subject, now, event.unit_id, None, after)
    obligations.touch(session, book, [event.unit_id])  # with ``book``, else marked
    return review


def queue(
    session: Session,
    user: Principal | None,
    state: str = PENDING,
    limit: int = 500,
    after: tuple[date, int] | None = None,
) -> list[QueueItem]:
    """Current events ``user`` (None: the operator) may review, in ``state`` (or ``all``),
    oldest first (by date and id, after ``after`` when given), at most ``limit``."""
    tree = _parents(session)
    reviewable = [
        unit_id
        for unit_id in tree
        if tree[unit_id] is not None and (user is None or can_approve(user, lineage(unit_id, tree)))
    ]
    statement = (
        select(Event, Unit, EventReview)
        .join(Unit, Unit.id == Event.unit_id)
        .outerjoin(EventReview, EventReview.event_id == Event.id)
        .where(CURRENT, Event.unit_id.in_(reviewable))
    )
    if state == PENDING:
        statement = statement.where(EventReview.event_id.is_(None))
    elif state != "all":
        statement = statement.where(EventReview.status == state)
    if after is not None:
        statement = statement.where(tuple_(Event.date, Event.id) > tuple_(*after))
    rows = session.execute(statement.order_by(Event.date, Event.id).limit(limit)).all()
    return [QueueItem(event, unit, review) for event, unit, review in rows]


def states(session: Session, event_ids: Collection[int]) -> dict[int, EventReview]:
    """The reviews of these events, by event id (an event without one is pending)."""
    ids = sorted(set(event_ids))
    found: dict[int, EventReview] = {}
    for start in range(0, len(ids), 500):
        statement = select(EventReview).where(EventReview.event_id.in_(ids[start : start + 500]))
        found.update((row.event_id, row) for row in session.scalars(statement))
    return found


def _parents(session: Session) -> dict[int, int | None]:
    return dict(session.execute(select(Unit.id, Unit.parent_id)).all())
