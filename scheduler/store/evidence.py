"""Recording evidence: event imports, single events, replacements, voids.

Each function works inside the caller's transaction, raises `InputError` before writing
anything when the input is bad, and writes the change trail in the same transaction: one entry
per import with its counts, one per event it recorded, replaced or voided. A replacement takes
the attachments of the version it replaces along (`scheduler.store.attachments`); a void keeps
them where they are.

One current event per (unit, key): the key is the ref, or for a row without one its date, time,
kinds and title (`scheduler.core.records.event_key`), and a partial unique index holds it in the
database. Every writer of events takes a lock first (`lock_events`), so two imports of one file
at the same time run one after the other: the second finds the first's events unchanged. Should
a writer slip past the lock, the index refuses its rows and the import fails whole, with one
line.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from scheduler.core.problems import single
from scheduler.core.records import (
    EVENT_COLUMNS,
    EventRow,
    ImportSummary,
    RowOutcome,
    Table,
    UnitSpan,
    event_key,
    parse_events,
)
from scheduler.core.rules import RuleBook
from scheduler.store import attachments, trail
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, EventAttendance, EventKind, Unit

EVENTS_LOCK = 0x6875_6971_6576  # the advisory lock of event writers on PostgreSQL ("huiqev")
BUSY = "another change to the events is being saved; nothing was written, try again"


def import_events(
    session: Session, book: RuleBook, table: Table, actor: str, now: datetime
) -> ImportSummary:
    """Record events; a row whose (unit, ref) exists replaces that event, keeping history, and
    a row without ref whose date, time, kinds and title match a current event is that event."""
    summary, unit_ids = _record_events(session, book, table, actor, now)
    trail.record_import(session, actor, now, "events", table.filename, summary, unit_ids)
    return summary


def add_event(
    session: Session, book: RuleBook, cells: dict[str, str], actor: str, now: datetime
) -> int:
    """Record one event given as cells of an events row; return its id (the existing event's
    when the same event is current already)."""
    table = Table(
        "huiqi events add",
        EVENT_COLUMNS,
        ((1, {column: cells.get(column, "") for column in EVENT_COLUMNS}),),
    )
    return _record_events(session, book, table, actor, now)[0].ids[0]


def replace_event(
    session: Session, book: RuleBook, event_id: int, cells: dict[str, str], actor: str,
    now: datetime,
) -> int:  # fmt: skip
    """A new version of the current event ``event_id`` at the same unit; the old one stays in
    the history. An event without ref gets ``event-ID`` as its ref first."""
    where = "events replace"
    old = session.get(Event, event_id)
    if old is None or old.superseded_by is not None or old.voided_at is not None:
        raise single(f"no current event {event_id}", where)
    unit = session.get_one(Unit, old.unit_id)
    if cells.get("unit") != unit.code:
        raise single("an event keeps its unit", where, field="unit")
    if not old.ref:
        old.ref = f"event-{old.id}"
        old.key = event_key(old.ref, old.date, old.time, [], "")
    return add_event(session, book, {**cells, "ref": old.ref}, actor, now)


def void_event(session: Session, event_id: int, reason: str, actor: str, now: datetime) -> None:
    """Void the current event ``event_id``; it stays in the history."""
    event = session.get(Event, event_id)
    if event is None:
        raise single(f"no event with id {event_id}", "events void")
    if event.superseded_by is not None:
        raise single(f"event {event_id} was replaced by event {event.superseded_by}", "events void")
    if event.voided_at is not None:
        raise single(f"event {event_id} is already void", "events void")
    if not reason.strip():
        raise single("a reason is required", "events void", field="reason")
    event.voided_at, event.voided_by, event.void_reason = now, actor, reason
    subject, after = _event_subject(event), {"reason": reason}
    trail.record(session, actor, "event.void", subject, now, event.unit_id, None, after)


def lock_events(session: Session, where: str) -> None:
    """Hold the event writers' lock until the transaction ends: PostgreSQL's transaction
    advisory lock, SQLite's write lock (``BEGIN IMMEDIATE``, waiting up to its busy timeout).
    A second writer waits, then reads what the first committed."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(EVENTS_LOCK)))
        return
    raw: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and not raw.in_transaction:
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:  # database is locked: the busy timeout passed
            raise single(BUSY, where) from error


@dataclass
class _Written:
    """One row of an events table as written: its event now, and the version it replaced."""

    row: EventRow
    event: Event
    replaced: Event | None = None
    fresh: bool = True  # a new row was written (False: the same event was current already)


def _record_events(
    session: Session, book: RuleBook, table: Table, actor: str, now: datetime
) -> tuple[ImportSummary, list[int]]:
    """Write the table's new and changed events with their trail; the summary and the rows'
    unit ids."""
    units = {
        code: (unit_id, UnitSpan(start, end))
        for unit_id, code, start, end in session.execute(
            select(Unit.id, Unit.code, Unit.active_from, Unit.active_to)
        )
    }
    rows = parse_events(
        table, book.event_kinds, book.roles, {code: span for code, (_, span) in units.items()}
    )
    unit_ids = [units[row.unit][0] for row in rows]
    lock_events(session, table.filename)
    current = _current_by_key(session, rows, unit_ids)
    written = []
    for row, unit_id in zip(rows, unit_ids, strict=True):
        old = current.get((unit_id, row.key))
        if old is not None and _same_event(old, row):
            written.append(_Written(row, old, fresh=False))
            continue
        new = _new_event(unit_id, row, table.filename, actor, now)
        session.add(new)
        written.append(_Written(row, new, old))
    _save(session, table.filename, written)
    for item in written:
        if item.replaced is not None:
            attachments.carry_forward(session, item.replaced.id, item.event.id)
        if item.fresh:
            _log_event(session, actor, now, item)
    outcomes = [
        RowOutcome(item.row.row, _row_subject(item.row), _outcome(item)) for item in written
    ]
    ids = tuple(item.event.id for item in written)
    return ImportSummary.of(outcomes, ids), unit_ids


def _outcome(item: _Written) -> str:
    if not item.fresh:
        return "unchanged"
    return "created" if item.replaced is None else "updated"


def _row_subject(row: EventRow) -> str:
    return f"{row.unit} {row.day.isoformat()} {row.title}".rstrip()


def _save(session: Session, where: str, written: Sequence[_Written]) -> None:
    """Flush the new versions. A replacement takes its key only once the version it replaces
    is superseded, so that the unique index on current (unit, key) holds at every step."""
    replacing = [item for item in written if item.replaced is not None]
    for item in replacing:
        item.event.key = f"~{uuid.uuid4().hex}"
    try:
        session.flush()
        for item in replacing:
            assert item.replaced is not None
            item.replaced.superseded_by = item.event.id
        session.flush()
        for item in replacing:
            item.event.key = item.row.key
        session.flush()
    except IntegrityError:
        raise single(BUSY, where) from None


def _log_event(session: Session, actor: str, now: datetime, item: _Written) -> None:
    new, old = item.event, item.replaced
    subject = _event_subject(new)
    if old is None:
        after = _event_state(new)
        trail.record(session, actor, "event.add", subject, now, new.unit_id, None, after)
        return
    before, after = trail.diff(_event_state(old), _event_state(new))
    after["replaces"] = f"#{old.id}"
    trail.record(session, actor, "event.replace", subject, now, new.unit_id, before, after)


def _event_subject(event: Event) -> str:
    """How the trail names an event: its date, title and id."""
    parts = (event.date.isoformat(), event.title, f"(#{event.id})")
    return " ".join(part for part in parts if part)


def _event_state(event: Event) -> dict[str, Any]:
    return {
        "date": event.date,
        "time": event.time,
        "title": event.title,
        "kinds": sorted(kind.kind for kind in event.kinds),
        "attended": sorted(a.role for a in event.attendance),
        "amount": event.amount,
        "ref": event.ref,
    }


def _current_by_key(
    session: Session, rows: Sequence[EventRow], unit_ids: Sequence[int]
) -> dict[tuple[int, str], Event]:
    """The current events at the rows' units whose keys the rows carry, by (unit, key)."""
    wanted = {(unit_id, row.key) for row, unit_id in zip(rows, unit_ids, strict=True)}
    keys, units = sorted({key for _, key in wanted}), sorted(set(unit_ids))
    found: dict[tuple[int, str], Event] = {}
    for start in range(0, len(keys), 500):
        statement = (
            select(Event)
            .options(selectinload(Event.kinds), selectinload(Event.attendance))
            .where(CURRENT, Event.unit_id.in_(units), Event.key.in_(keys[start : start + 500]))
        )
        for event in session.scalars(statement):
            if (event.unit_id, event.key) in wanted:
                found[(event.unit_id, event.key)] = event
    return found


def _same_event(event: Event, row: EventRow) -> bool:
    amount = None if event.amount is None else Decimal(event.amount)
    return (
        event.date == row.day
        and event.time == row.time
        and event.title == row.title
        and amount == row.amount
        and {kind.kind for kind in event.kinds} == set(row.kinds)
        and {a.role for a in event.attendance} == set(row.attended)
    )


def _new_event(unit_id: int, row: EventRow, source: str, actor: str, now: datetime) -> Event:
    return Event(
        unit_id=unit_id,
        date=row.day,
        time=row.time,
        title=row.title,
        amount=row.amount,
        ref=row.ref,
        key=row.key,
        source=source,
        recorded_by=actor,
        recorded_at=now,
        kinds=[EventKind(kind=kind) for kind in row.kinds],
        attendance=[EventAttendance(role=role) for role in row.attended],
    )
