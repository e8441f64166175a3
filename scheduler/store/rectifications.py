"""整改 (rectification) items: open, answer, close (销号), reopen, list.

Who may do what follows the review's rule (`scheduler.core.access`): the level above the unit
(an admin, or a clerk whose subtree holds the unit's parent) opens, closes and reopens an item;
the unit (a clerk whose subtree holds it) answers. ``user`` None is the command line's operator,
who may do everything. An item is opened from a returned event (``event_id``), a missed
obligation (``rule_id`` and ``period_label``) or free text alone. Each function works in the
caller's transaction, refuses bad input with `InputError` before writing, and writes one trail
entry (``rectify.open|answer|close|reopen``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.config import FileSettings
from scheduler.core.access import Principal, can_approve, can_change, lineage
from scheduler.core.periods import BadLabel, period_of_label
from scheduler.core.problems import Message, single
from scheduler.core.rules import RuleBook
from scheduler.store import trail
from scheduler.store.attachments import Upload, check
from scheduler.store.blobs import BlobStore
from scheduler.store.filetypes import stored_name
from scheduler.store.models import Event, Unit
from scheduler.store.models_rectifications import ANSWERED, CLOSED, OPEN, Rectification

STATUSES = (OPEN, ANSWERED, CLOSED)
WHERE = "rectify"


@dataclass(frozen=True)
class Opening:
    """What an item is about: its unit (a code; from the event when one is named), the issue,
    the due date, and where it came from."""

    issue: str
    due: date
    unit: str | None = None
    event_id: int | None = None
    rule_id: str | None = None
    period_label: str | None = None


def open_item(
    session: Session,
    book: RuleBook,
    opening: Opening,
    actor: str,
    now: datetime,
    user: Principal | None = None,
) -> Rectification:
    """Open an item against a unit, a level above it."""
    issue = opening.issue.strip()
    if not issue:
        raise single(Message("issue_required"), WHERE, field="issue")
    unit, source = _unit_and_source(session, book, opening)
    if user is not None and not can_approve(user, _lineage(session, unit.id)):
        raise single(Message("unit_not_below", code=unit.code), WHERE, field="unit")
    item = Rectification(
        unit_id=unit.id,
        source=source,
        event_id=opening.event_id,
        rule_id=opening.rule_id,
        period_label=opening.period_label,
        issue=issue,
        due=opening.due,
        status=OPEN,
        opened_by=actor,
        opened_at=now,
    )
    session.add(item)
    session.flush()
    after = {"issue": issue, "due": opening.due, "source": source}
    if opening.rule_id:
        after |= {"rule": opening.rule_id, "period": opening.period_label}
    if opening.event_id:
        after["event"] = f"#{opening.event_id}"
    trail.record(session, actor, "rectify.open", _subject(item), now, unit.id, None, after)
    return item


def _unit_and_source(session: Session, book: RuleBook, opening: Opening) -> tuple[Unit, str]:
    if opening.event_id is not None:
        event = session.get(Event, opening.event_id)
        if event is None:
            raise single(Message("no_event_id", id=opening.event_id), WHERE, field="event")
        unit = session.get_one(Unit, event.unit_id)
        if opening.unit and opening.unit != unit.code:
            raise single(Message("event_at_unit", id=event.id, code=unit.code), WHERE, field="unit")
        return unit, "event"
    if not opening.unit:
        raise single(Message("unit_or_event"), WHERE, field="unit")
    found = session.scalar(select(Unit).where(Unit.code == opening.unit))
    if found is None:
        unknown = Message("unknown_code", what=Message("unit"), value=opening.unit)
        raise single(unknown, WHERE, field="unit")
    if opening.rule_id is None and opening.period_label is None:
        return found, "text"
    if opening.rule_id is None or not book.has_rule(opening.rule_id):
        raise single(Message("unknown_rule", value=opening.rule_id), WHERE, field="rule")
    try:
        period_of_label(opening.period_label or "")
    except BadLabel as error:
        bad = Message("bad_period", value=error.label, error=error.reason)
        raise single(bad, WHERE, field="period") from None
    return found, "obligation"


def answer(
    session: Session,
    item_id: int,
    note: str,
    actor: str,
    now: datetime,
    user: Principal | None = None,
    upload: tuple[BlobStore, FileSettings, Upload] | None = None,
) -> Rectification:
    """The unit's answer to an open item: a note and, optionally, a file (typed by content)."""
    item = _item(session, item_id)
    if user is not None and not can_change(user, _lineage(session, item.unit_id)):
        raise single(Message("item_not_at_yours", id=item_id), WHERE)
    if item.status != OPEN:
        raise single(Message(f"item_{item.status}_not_answered", id=item_id), WHERE)
    note = note.strip()
    if not note:
        raise single(Message("answer_needs_note"), WHERE, field="note")
    after: dict[str, object] = {"answer": note}
    item.answer_file = item.answer_media_type = item.answer_sha256 = None
    if upload is not None:
        store, limits, file = upload
        found = check(file, limits, WHERE)
        item.answer_sha256 = store.put(file.data)
        item.answer_file = stored_name(file.filename, found)
        item.answer_media_type = found.media_type
        after["file"] = item.answer_file
    item.answer, item.answered_by, item.answered_at = note, actor, now
    item.status = ANSWERED
    trail.record(session, actor, "rectify.answer", _subject(item), now, item.unit_id, None, after)
    return item


def close(
    session: Session, item_id: int, comment: str, actor: str, now: datetime,
    user: Principal | None = None,
) -> Rectification:  # fmt: skip
    """Close (销号) an open or answered item, a level above its unit."""
    return _decide(session, item_id, CLOSED, comment, actor, now, user)


def reopen(
    session: Session, item_id: int, comment: str, actor: str, now: datetime,
    user: Principal | None = None,
) -> Rectification:  # fmt: skip
    """Reopen an answered or closed item with a comment (what is still missing)."""
    if not comment.strip():
        raise single(Message("reopen_needs_comment"), WHERE, field="comment")
    return _decide(session, item_id, OPEN, comment, actor, now, user)


def _decide(
    session: Session,
    item_id: int,
    status: str,
    comment: str,
    actor: str,
    now: datetime,
    user: Principal | None,
) -> Rectification:
    item = _item(session, item_id)
    if user is not None and not can_approve(user, _lineage(session, item.unit_id)):
        raise single(Message("item_not_below", id=item_id), WHERE)
    allowed = (OPEN, ANSWERED) if status == CLOSED else (ANSWERED, CLOSED)
    if item.status not in allowed:
        raise single(Message(f"item_is_{item.status}", id=item_id), WHERE)
    before = {"status": item.status}
    item.status, item.decided_by, item.decided_at = status, actor, now
    item.comment = comment.strip() or None
    after: dict[str, object] = {"status": status}
    if item.comment:
        after["comment"] = item.comment
    action = "rectify.close" if status == CLOSED else "rectify.reopen"
    trail.record(session, actor, action, _subject(item), now, item.unit_id, before, after)
    return item


def listing(
    session: Session, unit_ids: Collection[int] | None = None, status: str | None = None
) -> list[tuple[Rectification, Unit]]:
    """Items (of ``unit_ids``; None: all) in ``status`` (None: all), by due date."""
    statement = select(Rectification, Unit).join(Unit, Unit.id == Rectification.unit_id)
    if unit_ids is not None:
        statement = statement.where(Rectification.unit_id.in_(sorted(unit_ids)))
    if status is not None:
        statement = statement.where(Rectification.status == status)
    rows = session.execute(statement.order_by(Rectification.due, Rectification.id)).all()
    return [(item, unit) for item, unit in rows]


def _item(session: Session, item_id: int) -> Rectification:
    item = session.get(Rectification, item_id)
    if item is None:
        raise single(Message("no_item", id=item_id), WHERE)
    return item


def _lineage(session: Session, unit_id: int) -> tuple[int, ...]:
    return lineage(unit_id, dict(session.execute(select(Unit.id, Unit.parent_id)).all()))


def _subject(item: Rectification) -> str:
    return f"#{item.id} {item.issue[:60]}"
