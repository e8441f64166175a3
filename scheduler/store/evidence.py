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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.core.jsontext import dumps
from scheduler.core.problems import Message, single
from scheduler.core.records import (
    EVENT_COLUMNS,
    EventParser,
    EventRow,
    ImportSummary,
    RowOutcome,
    Table,
    UnitSpan,
    event_digest,
    event_key,
)
from scheduler.core.rules import RuleBook
from scheduler.store import attachments, bulk, obligations, trail
from scheduler.store.models import Base, Event, EventAttendance, EventKind, Unit

EVENTS_LOCK = 0x6875_6971_6576  # the advisory lock of event writers on PostgreSQL ("huiqev")
T = TypeVar("T")
EVENTS, KINDS = Base.metadata.tables["events"], Base.metadata.tables["event_kinds"]
ATTENDANCE, TRAIL = Base.metadata.tables["event_attendance"], Base.metadata.tables["change_log"]
BUSY = "another change to the events is being saved; nothing was written, try again"


def import_events(
    session: Session, book: RuleBook, table: Table, actor: str, now: datetime,
    progress: Progress | None = None, rows: bool = True,
) -> ImportSummary:  # fmt: skip
    """Record events; a row whose (unit, ref) exists replaces that event, keeping history, and
    a row without ref whose date, time, kinds and title match a current event is that event.
    ``progress`` is told the number of rows done as they are. Without ``rows`` the summary
    holds the counts only, not each row's outcome and event id (what a file of millions of
    rows would fill memory with)."""
    summary, unit_ids = _record_events(session, book, table, actor, now, progress, rows)
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
        raise single(Message("no_current_event", id=event_id), where)
    unit = session.get_one(Unit, old.unit_id)
    if cells.get("unit") != unit.code:
        raise single(Message("event_keeps_unit"), where, field="unit")
    if not old.ref:
        old.ref = f"event-{old.id}"
        old.key = event_key(old.ref, old.date, old.time, [], "")
    return add_event(session, book, {**cells, "ref": old.ref}, actor, now)


def void_event(
    session: Session, event_id: int, reason: str, actor: str, now: datetime,
    book: RuleBook | None = None,
) -> None:  # fmt: skip
    """Void the current event ``event_id``; it stays in the history. Its unit's stored
    obligations follow (with ``book``; without it they are marked for the next refresh)."""
    event = session.get(Event, event_id)
    if event is None:
        raise single(Message("no_event", id=event_id), "events void")
    if event.superseded_by is not None:
        raise single(Message("event_replaced", id=event_id, by=event.superseded_by), "events void")
    if event.voided_at is not None:
        raise single(Message("event_void", id=event_id), "events void")
    if not reason.strip():
        raise single(Message("reason_required"), "events void", field="reason")
    event.voided_at, event.voided_by, event.void_reason = now, actor, reason
    subject, after = _event_subject(event), {"reason": reason}
    trail.record(session, actor, "event.void", subject, now, event.unit_id, None, after)
    obligations.touch(session, book, [event.unit_id])


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


CHUNK = 5_000  # rows checked and written together

Progress = Callable[[int], None]  # told how many more rows are done


def _record_events(
    session: Session, book: RuleBook, table: Table, actor: str, now: datetime,
    progress: Progress | None = None, keep: bool = True,
) -> tuple[ImportSummary, set[int]]:  # fmt: skip
    """Check the table's rows and write its new and changed events with their trail, a chunk
    at a time (the rows are read as a stream); the summary (with each row's outcome and event
    id when ``keep``) and the rows' unit ids. Once a row
    has a problem nothing more is written, every row is still checked, and `InputError` lists
    all problems: the caller's transaction then ends without any of it."""
    units = {
        code: (unit_id, UnitSpan(start, end))
        for unit_id, code, start, end in session.execute(
            select(Unit.id, Unit.code, Unit.active_from, Unit.active_to)
        )
    }
    parser = EventParser(
        table, book.event_kinds, book.roles, {code: span for code, (_, span) in units.items()}
    )
    lock_events(session, table.filename)
    session.flush()  # what the session holds goes first: the writes below bypass it
    outcomes: list[RowOutcome] = []
    ids: list[int] = []
    unit_ids: set[int] = set()
    written_units: set[int] = set()
    counts: Counter[str] = Counter()
    for chunk in chunks(parser.table.rows, CHUNK):
        rows = parser.feed(chunk)
        if not parser.problems:
            chunk_units = [units[row.unit][0] for row in rows]
            written = _write(session, rows, chunk_units, table.filename, actor, now)
            counts.update(written.outcomes)
            if keep:
                outcomes.extend(
                    RowOutcome(row.row, _row_subject(row), outcome)
                    for row, outcome in zip(rows, written.outcomes, strict=True)
                )
                ids.extend(written.ids)
            unit_ids.update(chunk_units)
            written_units.update(
                unit_id
                for unit_id, outcome in zip(chunk_units, written.outcomes, strict=True)
                if outcome != "unchanged"
            )
        if progress is not None:
            progress(len(chunk))
    parser.finish()
    obligations.touch(session, book, written_units)  # the stored obligations follow
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Event):
            session.expire(instance)  # rows the writes changed underneath the session
    if keep:
        return ImportSummary.of(outcomes, tuple(ids)), unit_ids
    totals = (counts["created"], counts["updated"], counts["unchanged"])
    return ImportSummary(*totals), unit_ids


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class _Chunk:
    """What writing one chunk of rows did: each row's outcome (``created``, ``updated``,
    ``unchanged``) and event id, in row order."""

    outcomes: list[str]
    ids: list[int]


_Fresh = tuple[int, EventRow, int, "_Current | None"]  # (position, row, unit id, current event)


def _write(
    session: Session, rows: Sequence[EventRow], unit_ids: Sequence[int], source: str,
    actor: str, now: datetime,
) -> _Chunk:  # fmt: skip
    """Write the new and changed events of ``rows`` with bulk statements: the events, their
    kinds and attendance, the replaced versions superseded, one trail entry per event
    written. A row is unchanged when its digest is its current event's."""
    current = _current_by_key(session, rows, unit_ids)
    ids: list[int] = []
    outcomes: list[str] = []
    fresh: list[_Fresh] = []
    for position, (row, unit_id) in enumerate(zip(rows, unit_ids, strict=True)):
        old = current.get((unit_id, row.key))
        if old is not None and old.digest == row.digest:
            ids.append(old.id)
            outcomes.append("unchanged")
            continue
        ids.append(0)  # its new id, below
        outcomes.append("created" if old is None else "updated")
        fresh.append((position, row, unit_id, old))
    try:
        new_ids = _insert_events(session, fresh, source, actor, now)
    except IntegrityError:
        raise single(BUSY, source) from None
    for (position, *_), new_id in zip(fresh, new_ids, strict=True):
        ids[position] = new_id
    replaced = [(old.id, new_id) for (_, _, _, old), new_id in zip(fresh, new_ids, strict=True)
                if old is not None]  # fmt: skip
    attachments.carry_forward_many(session, replaced)  # a new version keeps the documents
    _trail(session, actor, now, fresh, new_ids)
    return _Chunk(outcomes, ids)


def _insert_events(
    session: Session, fresh: Sequence[_Fresh], source: str, actor: str, now: datetime
) -> list[int]:
    """Insert the new versions, their kinds and attendance; supersede what they replace. A
    replacement takes its key only once the version it replaces is superseded, so that the
    unique index on current (unit, key) holds at every step."""
    if not fresh:
        return []
    events = EVENTS
    rows = [row for _, row, _, _ in fresh]
    new_ids = bulk.reserve_ids(session, events, len(rows))
    keys = [row.key if old is None else f"~{uuid.uuid4().hex}" for _, row, _, old in fresh]
    columns: dict[str, Sequence[Any]] = {
        "id": new_ids, "unit_id": [unit_id for _, _, unit_id, _ in fresh], "key": keys,
    }  # fmt: skip
    for name, field in (("date", "day"), ("time", "time"), ("title", "title"),
                        ("amount", "amount"), ("ref", "ref"), ("digest", "digest")):  # fmt: skip
        columns[name] = list(map(attrgetter(field), rows))
    same = {"source": source, "recorded_by": actor, "recorded_at": now}
    bulk.insert_columns(session, events, columns, same)
    for table, name, labels in ((KINDS, "kind", "kinds"), (ATTENDANCE, "role", "attended")):
        pairs = [(new_id, label) for new_id, row in zip(new_ids, rows, strict=True)
                 for label in getattr(row, labels)]  # fmt: skip
        if pairs:
            event_ids, values = zip(*pairs, strict=True)
            bulk.insert_columns(session, table, {"event_id": event_ids, name: values})
    replaced = [
        {"old_id": old.id, "new_id": new_id, "new_key": row.key}
        for new_id, (_, row, _, old) in zip(new_ids, fresh, strict=True)
        if old is not None
    ]
    if replaced:
        session.execute(
            update(events)
            .where(events.c.id == bindparam("old_id"))
            .values(superseded_by=bindparam("new_id")),
            replaced,
        )
        session.execute(
            update(events)
            .where(events.c.id == bindparam("new_id"))
            .values(key=bindparam("new_key")),
            replaced,
        )
    return new_ids


def _trail(
    session: Session, actor: str, now: datetime, fresh: Sequence[_Fresh],
    new_ids: Sequence[int],
) -> None:  # fmt: skip
    """One entry per event written: ``event.add`` with its state, ``event.replace`` with the
    fields that changed and the version it replaces. The states go in as the JSON columns'
    processor would bind them, ``json.dumps`` (the engine's serializer), a text the database
    keeps as it is (SQLite's text, PostgreSQL's ``json``)."""
    actions: list[str] = []
    units: list[int] = []
    subjects: list[str] = []
    befores: list[str] = []
    afters: list[str] = []
    for new_id, (_, row, unit_id, old) in zip(new_ids, fresh, strict=True):
        day = row.day.isoformat()
        subjects.append(f"{day} {row.title} (#{new_id})" if row.title else f"{day} (#{new_id})")
        units.append(unit_id)
        if old is None:
            actions.append("event.add")
            befores.append("null")
            afters.append(_snapshot_json(row, day))
            continue
        before, after = trail.diff(old.state, _row_state(row))
        after["replaces"] = f"#{old.id}"
        actions.append("event.replace")
        befores.append(dumps(before or None))
        afters.append(dumps(after))
    columns: dict[str, Sequence[Any]] = {
        "action": actions, "unit_id": units, "subject": subjects, "before": befores,
        "after": afters,
    }  # fmt: skip
    same = {"at": now, "actor": actor}
    bulk.insert_columns(session, TRAIL, columns, same, raw=("before", "after"))


def _snapshot_json(row: EventRow, day: str) -> str:
    """``dumps(trail.snapshot(_row_state(row)))`` without its general conversions (``day``
    is the row's ISO date): the fields in that order, the empty ones left out."""
    state: dict[str, Any] = {"date": day}
    if row.time:
        state["time"] = row.time
    if row.title:
        state["title"] = row.title
    if row.kinds:
        state["kinds"] = sorted(row.kinds)
    if row.attended:
        state["attended"] = sorted(row.attended)
    if row.amount is not None:
        state["amount"] = f"{row.amount.normalize():f}"
    if row.ref:
        state["ref"] = row.ref
    return dumps(state)


def _row_subject(row: EventRow) -> str:
    return f"{row.unit} {row.day.isoformat()} {row.title}".rstrip()


def _row_state(row: EventRow) -> dict[str, Any]:
    return {
        "date": row.day, "time": row.time, "title": row.title, "kinds": sorted(row.kinds),
        "attended": sorted(row.attended), "amount": row.amount, "ref": row.ref,
    }  # fmt: skip


def _event_subject(event: Event) -> str:
    """How the trail names an event: its date, title and id."""
    parts = (event.date.isoformat(), event.title, f"(#{event.id})")
    return " ".join(part for part in parts if part)


class _Current(NamedTuple):
    """A current event a row may stand for: its id, digest and (for the trail) its state."""

    id: int
    digest: str
    state: dict[str, Any]


def _current_by_key(
    session: Session, rows: Sequence[EventRow], unit_ids: Sequence[int]
) -> dict[tuple[int, str], _Current]:
    """The current events at the rows' units whose keys the rows carry, by (unit, key): one
    Core statement for the chunk reading ids and digests; the states, kinds and roles are read
    (for the trail's diff) only for the events a row changes and for events written before
    digests were kept, which get their digest now."""
    events = EVENTS
    wanted = {(unit_id, row.key): row.digest for row, unit_id in zip(rows, unit_ids, strict=True)}
    keys, units = sorted({key for _, key in wanted}), sorted(set(unit_ids))
    statement = select(events.c.id, events.c.unit_id, events.c.key, events.c.digest).where(
        events.c.superseded_by.is_(None), events.c.voided_at.is_(None),
        events.c.unit_id.in_(units), events.c.key.in_(keys),
    )  # fmt: skip
    result: dict[tuple[int, str], _Current] = {}
    differing: dict[int, tuple[tuple[int, str], str | None]] = {}  # id: (unit, key), digest
    for event_id, unit_id, key, digest in session.execute(statement).all():
        where = (unit_id, key)
        if where not in wanted:
            continue
        if digest == wanted[where]:
            result[where] = _Current(event_id, digest, {})  # unchanged: no diff to make
        else:
            differing[event_id] = (where, digest)
    for event_id, state in _states(session, list(differing)).items():
        where, digest = differing[event_id]
        digest = digest or event_digest(
            state["date"], state["time"], state["title"], state["amount"], state["kinds"],
            state["attended"],
        )  # fmt: skip
        result[where] = _Current(event_id, digest, state)
    return result


def _states(session: Session, event_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The states of the events ``event_ids`` as the trail's diff compares them."""
    events = EVENTS
    kinds, attended = _labels(session, event_ids)
    states = {}
    ordered = sorted(event_ids)
    for start in range(0, len(ordered), 500):
        statement = select(
            events.c.id, events.c.date, events.c.time, events.c.title, events.c.amount,
            events.c.ref,
        ).where(events.c.id.in_(ordered[start : start + 500]))  # fmt: skip
        for event in session.execute(statement):
            states[event.id] = {
                "date": event.date, "time": event.time, "title": event.title,
                "kinds": sorted(kinds.get(event.id, ())),
                "attended": sorted(attended.get(event.id, ())),
                "amount": event.amount, "ref": event.ref,
            }  # fmt: skip
    return states


def _labels(
    session: Session, event_ids: Sequence[int]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The kinds and the attending roles of ``event_ids``."""
    kinds: dict[int, list[str]] = {}
    attended: dict[int, list[str]] = {}
    ordered = sorted(event_ids)
    for start in range(0, len(ordered), 500):
        part = ordered[start : start + 500]
        for event_id, kind in session.execute(
            select(EventKind.event_id, EventKind.kind).where(EventKind.event_id.in_(part))
        ):
            kinds.setdefault(event_id, []).append(kind)
        for event_id, role in session.execute(
            select(EventAttendance.event_id, EventAttendance.role).where(
                EventAttendance.event_id.in_(part)
            )
        ):
            attended.setdefault(event_id, []).append(role)
    return kinds, attended
