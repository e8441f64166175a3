"""Set-based loading of the engine's facts: a fixed number of statements per evaluation,
whatever the number of units, events or periods."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, select
from sqlalchemy.orm import Session

from scheduler.core.compliance import EventFacts, UnitFacts, WaiverFacts, WaiverKey
from scheduler.core.gcpause import gc_paused
from scheduler.store.models import Event, EventAttendance, EventKind, Unit, Waiver
from scheduler.store.models_reviews import EventReview

CURRENT = and_(Event.superseded_by.is_(None), Event.voided_at.is_(None))


def flushed_connection(session: Session) -> Connection:
    """The session's connection, for Core reads, with pending ORM changes flushed first (as the
    session's own queries would autoflush them)."""
    session.flush()
    return session.connection()


# A unit's columns in the order of `UnitFacts`' fields.
UNIT_COLUMNS = (Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.active_from,
                Unit.active_to, Unit.attributes)  # fmt: skip


def unit_facts(session: Session) -> list[UnitFacts]:
    """Every unit, in code order (one statement)."""
    rows = flushed_connection(session).execute(select(*UNIT_COLUMNS).order_by(Unit.code))
    return [UnitFacts(*row) for row in rows]


def event_facts(
    session: Session,
    kinds: Collection[str],
    first: date,
    last: date,
    unit_ids: Sequence[int] | None = None,
    reviews: bool = False,
) -> list[EventFacts]:
    """Current events of ``kinds`` dated in ``[first, last]`` (two statements; with
    ``reviews``, a third gives each event its review state).

    Rows are read through the session's connection (Core) and fetched at once: the ORM's result
    machinery and row-by-row fetching cost more than the queries on a province."""
    if not kinds:
        return []
    with gc_paused():
        found = _event_facts(flushed_connection(session), kinds, first, last, unit_ids)
        if not reviews:
            return found
        states = dict(
            flushed_connection(session)
            .execute(select(EventReview.event_id, EventReview.status))
            .all()
        )
        return [fact._replace(review=states.get(fact.id)) for fact in found]


def _event_facts(
    connection: Connection,
    kinds: Collection[str],
    first: date,
    last: date,
    unit_ids: Sequence[int] | None,
) -> list[EventFacts]:
    scope = [CURRENT]
    if unit_ids is not None:
        scope.append(Event.unit_id.in_(unit_ids))
    rows = connection.execute(
        select(Event.id, Event.unit_id, Event.date, Event.amount, EventKind.kind)
        .join(EventKind, EventKind.event_id == Event.id)
        .where(*scope, Event.date >= first, Event.date <= last, EventKind.kind.in_(sorted(kinds)))
    ).all()
    found: dict[int, tuple[int, date, Any]] = {}
    event_kinds: dict[int, list[str]] = defaultdict(list)
    for event_id, unit_id, day, amount, kind in rows:
        found[event_id] = (unit_id, day, amount)
        event_kinds[event_id].append(kind)
    attended = _attendance(connection, unit_ids, found)
    nobody: frozenset[str] = frozenset()
    return [
        EventFacts(
            event_id,
            unit_id,
            day,
            frozenset(event_kinds[event_id]),
            amount,
            frozenset(attended[event_id]) if event_id in attended else nobody,
        )
        for event_id, (unit_id, day, amount) in found.items()
    ]


def _attendance(
    connection: Connection, unit_ids: Sequence[int] | None, wanted: Collection[int]
) -> dict[int, list[str]]:
    """The roles that attended the ``wanted`` events.

    For a whole-area evaluation the statement reads the attendance table straight through and
    leaves the choice to ``wanted``: joining the events back to apply the window again made
    SQLite walk the date index and fetch events one by one, several times slower (measured on
    a province, where the window holds nearly every event)."""
    query = select(EventAttendance.event_id, EventAttendance.role)
    if unit_ids is not None:
        query = query.join(Event, Event.id == EventAttendance.event_id).where(
            Event.unit_id.in_(unit_ids)
        )
    attended: dict[int, list[str]] = defaultdict(list)
    for event_id, role in connection.execute(query).all():
        if event_id in wanted:
            attended[event_id].append(role)
    return attended


def waiver_facts(session: Session) -> dict[WaiverKey, WaiverFacts]:
    """Every waiver by (unit id, rule id, period label) (one statement)."""
    rows = flushed_connection(session).execute(
        select(
            Waiver.unit_id, Waiver.rule_id, Waiver.period_label, Waiver.reason, Waiver.approved_by
        )
    )
    return {(unit, rule, label): WaiverFacts(reason, by) for unit, rule, label, reason, by in rows}
