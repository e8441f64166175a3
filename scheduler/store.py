"""Set-based loading of the engine's facts: a fixed number of statements per evaluation,
whatever the number of units, events or periods."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from scheduler.compliance import EventFacts, UnitFacts, WaiverFacts, WaiverKey
from scheduler.models import Event, EventAttendance, EventKind, Unit, Waiver

CURRENT = and_(Event.superseded_by.is_(None), Event.voided_at.is_(None))


def unit_facts(session: Session) -> list[UnitFacts]:
    """Every unit, in code order (one statement)."""
    rows = session.execute(
        select(
            Unit.id,
            Unit.code,
            Unit.name,
            Unit.kind,
            Unit.parent_id,
            Unit.active_from,
            Unit.active_to,
            Unit.attributes,
        ).order_by(Unit.code)
    )
    return [UnitFacts(*row) for row in rows]


def event_facts(
    session: Session,
    kinds: Collection[str],
    first: date,
    last: date,
    unit_ids: Sequence[int] | None = None,
) -> list[EventFacts]:
    """Current events of ``kinds`` dated in ``[first, last]`` (two statements)."""
    if not kinds:
        return []
    window = [CURRENT, Event.date >= first, Event.date <= last]
    if unit_ids is not None:
        window.append(Event.unit_id.in_(unit_ids))
    rows = session.execute(
        select(Event.id, Event.unit_id, Event.date, Event.amount, EventKind.kind)
        .join(EventKind, EventKind.event_id == Event.id)
        .where(*window, EventKind.kind.in_(sorted(kinds)))
    )
    found: dict[int, tuple[int, date, Any]] = {}
    event_kinds: dict[int, set[str]] = defaultdict(set)
    for event_id, unit_id, day, amount, kind in rows:
        found[event_id] = (unit_id, day, amount)
        event_kinds[event_id].add(kind)
    attended = _attendance(session, window)
    return [
        EventFacts(
            event_id,
            unit_id,
            day,
            frozenset(event_kinds[event_id]),
            amount,
            frozenset(attended.get(event_id, ())),
        )
        for event_id, (unit_id, day, amount) in found.items()
    ]


def _attendance(session: Session, window: list[Any]) -> dict[int, set[str]]:
    rows = session.execute(
        select(EventAttendance.event_id, EventAttendance.role)
        .join(Event, Event.id == EventAttendance.event_id)
        .where(*window)
    )
    attended: dict[int, set[str]] = defaultdict(set)
    for event_id, role in rows:
        attended[event_id].add(role)
    return attended


def waiver_facts(session: Session) -> dict[WaiverKey, WaiverFacts]:
    """Every waiver by (unit id, rule id, period label) (one statement)."""
    rows = session.execute(
        select(
            Waiver.unit_id, Waiver.rule_id, Waiver.period_label, Waiver.reason, Waiver.approved_by
        )
    )
    return {(unit, rule, label): WaiverFacts(reason, by) for unit, rule, label, reason, by in rows}
