"""Stored obligations, brought up to date when their inputs change.

The rows (`scheduler.store.models_obligations`) are `scheduler.core.ledger` entries: the pure
engine computes them, the store only keeps them. Their inputs are per unit and rule: the rule's
definition, the unit (kind, active dates, attributes, whether it has a parent), its current
events of the rule's kind, its waivers under the rule, the events' review states and the
review mode. So:

* `touch` computes again the rules of the units a change concerns, in the transaction of the
  change (every writer of events, waivers, reviews and units calls it); a (unit, rule) whose
  inputs' fingerprint is unchanged is left as it is. A writer without the rulebook marks the
  units instead (`mark`), and the next `settle` computes them.
* `settle` brings everything up to date with a rulebook: the rules whose definition (or the
  review mode) changed, new rules and a horizon moved to a later year are computed again for
  every unit, rules no longer in the book are dropped, marked units are computed again.
* `current` says whether the rows answer a read of ``[first, last]`` under this rulebook.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, String, delete, func, insert, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from scheduler.core.compliance import EventFacts, UnitFacts, WaiverFacts
from scheduler.core.ledger import FOREVER, Allocation, Entry, ledger
from scheduler.core.periods import Period
from scheduler.core.rules import Rule, RuleBook
from scheduler.store import bulk
from scheduler.store.facts import event_facts
from scheduler.store.models import Base, Unit, Waiver
from scheduler.store.models_obligations import (
    DirtyUnit,
    ObligationEvent,
    ObligationRule,
    ObligationSource,
    StoredObligation,
)
from scheduler.store.models_reviews import EventReview

OBLIGATIONS = Base.metadata.tables["obligations"]
ALLOCATION = Base.metadata.tables["obligation_events"]
SOURCES = Base.metadata.tables["obligation_sources"]
CHUNK = 500  # ids in one IN list
UNITS_AT_ONCE = 2_000  # units computed together by a refresh
REPLANNED = 500  # unit-rule pairs a settle writes from which PostgreSQL's statistics are redone
OBLIGATIONS_LOCK = 0x6875_6971_6F62  # the advisory lock of refreshers on PostgreSQL ("huiqob")


def horizon_for(day: date) -> date:
    """How far the rows reach when computed on ``day``: periods starting by the end of the
    next year."""
    return date(day.year + 1, 12, 31)


# ----------------------------------------------------------------------------------------------
# Digests


@lru_cache(maxsize=1024)
def rule_digest(rule: Rule, review_mode: str) -> str:
    """A digest of the rule's definition as the engine reads it, and of the review mode (kept
    per rule: a rulebook's rules live as long as it)."""
    return _digest([_plain(dataclasses.asdict(rule)), review_mode])


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in sorted(value.items())}
    if isinstance(value, frozenset | set):
        return sorted(_plain(item) for item in value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, _plain(dataclasses.asdict(value))]
    if isinstance(value, date | Decimal | Enum):
        return str(value)
    return value


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(
    rule_sum: str,
    unit: UnitFacts,
    events: Sequence[EventFacts],
    waivers: Mapping[str, WaiverFacts],
    horizon: date,
) -> str:
    """The fingerprint of one (unit, rule)'s inputs (``events`` of the rule's kind)."""
    return _digest(
        [
            rule_sum,
            horizon.isoformat(),
            [unit.kind, unit.parent_id is None, str(unit.active_from), str(unit.active_to)],
            _plain(dict(unit.attributes)),
            [
                [e.id, e.day.isoformat(), str(e.amount), sorted(e.attended), e.review]
                for e in sorted(events, key=lambda e: (e.day, e.id))
            ],
            sorted([label, w.reason, w.approved_by] for label, w in waivers.items()),
        ]
    )


# ----------------------------------------------------------------------------------------------
# Writers' side


def mark(session: Session, unit_ids: Iterable[int]) -> None:
    """Mark units whose facts changed, for the next `settle` (when no rulebook is at hand)."""
    rows = [{"unit_id": unit_id} for unit_id in sorted(set(unit_ids))]
    if not rows:
        return
    connection = session.connection()
    build = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(build(DirtyUnit).on_conflict_do_nothing(), rows)


def touch(session: Session, book: RuleBook | None, unit_ids: Iterable[int]) -> int:
    """Compute again the kept rules of these units (with ``book``; without it, `mark` them);
    the number of (unit, rule) pairs written. Nothing while no obligation is kept at all (the
    first `settle` computes every unit), and a rule not kept with this definition is left to
    `settle`, which computes it for every unit."""
    ids = sorted(set(unit_ids))
    kept = _kept(session) if ids else {}
    if not kept:
        return 0
    if book is None:
        mark(session, ids)
        return 0
    rules = [rule for rule in book.rules if kept.get(rule.id, (None,))[0] == _rule_sum(rule, book)]
    if not rules:
        return 0
    horizon = min(kept[rule.id][1] for rule in rules)
    return _refresh(session, book, rules, ids, horizon)


def _rule_sum(rule: Rule, book: RuleBook) -> str:
    return rule_digest(rule, book.review_mode)


def _kept(session: Session) -> dict[str, tuple[str, date]]:
    session.flush()
    rows = session.connection().execute(
        select(ObligationRule.rule_id, ObligationRule.digest, ObligationRule.horizon)
    )
    return {rule_id: (digest, horizon) for rule_id, digest, horizon in rows}


def settle(session: Session, book: RuleBook, today: date) -> int:
    """Bring every stored obligation up to date with ``book``; the pairs written."""
    kept = _kept(session)
    horizon = max([horizon_for(today), *(stored for _, stored in kept.values())])
    connection = session.connection()
    stale = [rule for rule in book.rules if kept.get(rule.id) != (_rule_sum(rule, book), horizon)]
    gone = sorted(set(kept) - {rule.id for rule in book.rules})
    if gone:
        _drop(connection, gone)
    written = _refresh(session, book, stale, None, horizon) if stale else 0
    for rule in stale:
        connection.execute(delete(ObligationRule).where(ObligationRule.rule_id == rule.id))
        connection.execute(
            insert(ObligationRule).values(
                rule_id=rule.id, digest=_rule_sum(rule, book), horizon=horizon
            )
        )
    dirty = list(connection.execute(select(DirtyUnit.unit_id)).scalars())
    fresh = [rule for rule in book.rules if rule not in stale]
    if dirty and fresh:
        written += _refresh(session, book, fresh, dirty, horizon)
    if dirty:
        for chunk in _chunks(dirty):
            connection.execute(delete(DirtyUnit).where(DirtyUnit.unit_id.in_(chunk)))
    if written >= REPLANNED and connection.dialect.name == "postgresql":
        # a first build or a rule computed for every unit: the planner's statistics of the
        # tables are those of before (none at first), which sends the dashboard's counts
        # through the wrong plans until autovacuum comes by
        connection.exec_driver_sql("ANALYZE obligations, obligation_events")
    return written


def current(session: Session, book: RuleBook, last: date) -> bool:
    """True when the rows answer reads up to ``last`` under ``book``: every rule kept with its
    definition, far enough, and no unit waiting."""
    kept = _kept(session)
    for rule in book.rules:
        digest, horizon = kept.get(rule.id, ("", date.min))
        if digest != _rule_sum(rule, book) or horizon < last:
            return False
    waiting = session.connection().execute(select(DirtyUnit.unit_id).limit(1)).first()
    return waiting is None


def _drop(connection: Connection, rule_ids: Sequence[str]) -> None:
    owned = select(StoredObligation.id).where(StoredObligation.rule_id.in_(rule_ids))
    connection.execute(delete(ObligationEvent).where(ObligationEvent.obligation_id.in_(owned)))
    connection.execute(delete(StoredObligation).where(StoredObligation.rule_id.in_(rule_ids)))
    connection.execute(delete(ObligationSource).where(ObligationSource.rule_id.in_(rule_ids)))
    connection.execute(delete(ObligationRule).where(ObligationRule.rule_id.in_(rule_ids)))


# ----------------------------------------------------------------------------------------------
# Computing


def _refresh(
    session: Session,
    book: RuleBook,
    rules: Sequence[Rule],
    unit_ids: Sequence[int] | None,
    horizon: date,
) -> int:
    """Compute ``rules`` again for ``unit_ids`` (None: every unit) and write the pairs whose
    fingerprint changed, `UNITS_AT_ONCE` units at a time (so that a first build of a province
    holds one batch's facts and entries, not all of them). On PostgreSQL the refreshers take a
    transaction advisory lock first, so two writers of one unit's rows run one after the other
    (SQLite has one writer)."""
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(OBLIGATIONS_LOCK)))
    if unit_ids is None:
        unit_ids = list(connection.execute(select(Unit.id).order_by(Unit.id)).scalars())
    written = 0
    for start in range(0, len(unit_ids), UNITS_AT_ONCE):
        batch = unit_ids[start : start + UNITS_AT_ONCE]
        written += _refresh_units(session, book, rules, batch, horizon)
    return written


def _refresh_units(
    session: Session, book: RuleBook, rules: Sequence[Rule], unit_ids: Sequence[int], horizon: date
) -> int:
    connection = session.connection()
    units = _units(connection, unit_ids)
    ids = [unit.id for unit in units]
    kinds = {rule.requirement.kind for rule in rules}
    earliest = min(rule.effective_from for rule in rules)
    events = _events(session, kinds, earliest, ids, book.review_mode != "off")
    waivers = _waivers(connection, ids, [rule.id for rule in rules])
    stored = _fingerprints(connection, ids, [rule.id for rule in rules])
    by_unit_kind: dict[tuple[int, str], list[EventFacts]] = defaultdict(list)
    for event in events:
        for kind in event.kinds:
            by_unit_kind[(event.unit_id, kind)].append(event)
    sums = {rule.id: _rule_sum(rule, book) for rule in rules}
    changed: list[tuple[int, str, str]] = []
    computed: list[Entry] = []
    for unit in units:
        mine = []
        for rule in rules:
            if unit.kind not in rule.applies_to:
                continue
            facts = by_unit_kind.get((unit.id, rule.requirement.kind), ())
            print_ = fingerprint(
                sums[rule.id], unit, facts, waivers.get((unit.id, rule.id), {}), horizon
            )
            if stored.pop((unit.id, rule.id), None) != print_:
                mine.append(rule)
                changed.append((unit.id, rule.id, print_))
        if not mine:
            continue
        served = {
            e.id: e for rule in mine for e in by_unit_kind.get((unit.id, rule.requirement.kind), ())
        }
        unit_waivers = {
            (unit.id, rule.id, label): waiver
            for rule in mine
            for label, waiver in waivers.get((unit.id, rule.id), {}).items()
        }
        computed.extend(
            ledger(mine, [unit], served.values(), unit_waivers, horizon, book.review_mode)
        )
    gone = list(stored)  # pairs of rules that no longer apply to their unit
    _write(connection, changed, gone, computed)
    return len(changed)


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _units(connection: Connection, unit_ids: Sequence[int]) -> list[UnitFacts]:
    columns = (
        Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.active_from,
        Unit.active_to, Unit.attributes,
    )  # fmt: skip
    found: list[UnitFacts] = []
    for chunk in _chunks(unit_ids):
        rows = connection.execute(select(*columns).where(Unit.id.in_(chunk)).order_by(Unit.id))
        found.extend(UnitFacts(*row) for row in rows)
    return found


def _events(
    session: Session,
    kinds: Collection[str],
    earliest: date,
    unit_ids: Sequence[int],
    reviewed: bool,
) -> list[EventFacts]:
    """Every current event of ``kinds`` from ``earliest`` on, whatever its date, of the units
    ``unit_ids``, with its review state when reviews count."""
    found: list[EventFacts] = []
    for chunk in _chunks(unit_ids):
        found.extend(event_facts(session, kinds, earliest, FOREVER, chunk))
    if not reviewed or not found:
        return found
    states: dict[int, str] = {}
    connection = session.connection()
    for chunk in _chunks([event.id for event in found]):
        query = select(EventReview.event_id, EventReview.status)
        states.update(connection.execute(query.where(EventReview.event_id.in_(chunk))).all())
    return [event._replace(review=states.get(event.id)) for event in found]


def _waivers(
    connection: Connection, unit_ids: Sequence[int], rule_ids: Sequence[str]
) -> dict[tuple[int, str], dict[str, WaiverFacts]]:
    query = select(
        Waiver.unit_id, Waiver.rule_id, Waiver.period_label, Waiver.reason, Waiver.approved_by
    ).where(Waiver.rule_id.in_(rule_ids))
    found: dict[tuple[int, str], dict[str, WaiverFacts]] = defaultdict(dict)
    for chunk in _chunks(unit_ids):
        scoped = query.where(Waiver.unit_id.in_(chunk))
        for unit_id, rule_id, label, reason, by in connection.execute(scoped):
            found[(unit_id, rule_id)][label] = WaiverFacts(reason, by)
    return found


def _fingerprints(
    connection: Connection, unit_ids: Sequence[int], rule_ids: Sequence[str]
) -> dict[tuple[int, str], str]:
    query = select(
        ObligationSource.unit_id, ObligationSource.rule_id, ObligationSource.fingerprint
    ).where(ObligationSource.rule_id.in_(rule_ids))
    found: dict[tuple[int, str], str] = {}
    for chunk in _chunks(unit_ids):
        scoped = query.where(ObligationSource.unit_id.in_(chunk))
        found.update(
            ((unit_id, rule_id), digest) for unit_id, rule_id, digest in connection.execute(scoped)
        )
    return found


def _write(
    connection: Connection,
    changed: Sequence[tuple[int, str, str]],
    gone: Sequence[tuple[int, str]],
    entries: Sequence[Entry],
) -> None:
    """Replace the rows of the ``changed`` pairs by ``entries`` and their fingerprints; drop
    the rows of the ``gone`` pairs."""
    pairs = [(unit_id, rule_id) for unit_id, rule_id, _ in changed] + list(gone)
    by_rule: dict[str, list[int]] = defaultdict(list)
    for unit_id, rule_id in pairs:
        by_rule[rule_id].append(unit_id)
    for rule_id, unit_ids in by_rule.items():
        for chunk in _chunks(unit_ids):
            mine = (StoredObligation.rule_id == rule_id, StoredObligation.unit_id.in_(chunk))
            owned = select(StoredObligation.id).where(*mine)
            connection.execute(
                delete(ObligationEvent).where(ObligationEvent.obligation_id.in_(owned))
            )
            connection.execute(delete(StoredObligation).where(*mine))
            connection.execute(
                delete(ObligationSource).where(
                    ObligationSource.rule_id == rule_id, ObligationSource.unit_id.in_(chunk)
                )
            )
    if changed:
        connection.execute(
            insert(SOURCES),
            [{"unit_id": u, "rule_id": r, "fingerprint": f} for u, r, f in changed],
        )
    if not entries:
        return
    new_ids = bulk.reserve_ids(connection, OBLIGATIONS, len(entries))
    rows = [_row(entry) for entry in entries]
    columns = {"id": new_ids} | {name: [row[name] for row in rows] for name in rows[0]}
    bulk.insert_columns(connection, OBLIGATIONS, columns)
    served = [
        (new_id, position, *each)
        for new_id, entry in zip(new_ids, entries, strict=True)
        for position, each in enumerate(entry.allocation)
    ]
    if served:
        names = ("obligation_id", "position", "event_id", "day", "value")
        columns = dict(zip(names, zip(*served, strict=True), strict=True))
        bulk.insert_columns(connection, ALLOCATION, columns)


def _row(entry: Entry) -> dict[str, Any]:
    waiver = entry.waiver
    return {
        "unit_id": entry.unit_id, "rule_id": entry.rule_id, "position": entry.position,
        "kind": entry.kind, "label": entry.period.label, "start": entry.period.start,
        "end": entry.period.end, "due": entry.due, "grace_end": entry.grace_end,
        "opens_on": entry.opens_on, "required": entry.required,
        "actual": sum((each.value for each in entry.allocation), Decimal(0)),
        "satisfied_on": entry.satisfied_on, "hopeful_on": entry.hopeful_on,
        "waiver_reason": waiver.reason if waiver else None,
        "waiver_by": waiver.approved_by if waiver else None,
    }  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Readers' side


def entries(
    session: Session,
    rules: Sequence[Rule],
    unit_ids: Sequence[int] | None,
    first: date,
    last: date,
) -> list[Entry]:
    """The stored entries of ``rules`` for ``unit_ids`` (None: every unit) whose period
    overlaps ``[first, last]``, by rule (in their order), unit id and position: two statements
    (the obligations, their allocation) per chunk of units.

    Dates and amounts are read as the driver gives them and converted here (SQLite hands back
    text: `date.fromisoformat` is several times faster than the column types' processors)."""
    session.flush()
    connection = session.connection()
    order = {rule.id: number for number, rule in enumerate(rules)}
    o, a = OBLIGATIONS.c, ALLOCATION.c
    scope = (o.rule_id.in_(list(order)), o.start <= last, o.end >= first)
    columns = [o.id, o.unit_id, o.rule_id, o.position, o.kind, o.label, o.waiver_reason,
               o.waiver_by]  # fmt: skip
    raw = [type_coerce(column, String) for column in _RAW]
    rows: list[Any] = []
    served: dict[int, list[Allocation]] = defaultdict(list)
    for chunk in [None] if unit_ids is None else _chunks(unit_ids):
        where = scope if chunk is None else (*scope, o.unit_id.in_(chunk))
        rows.extend(connection.execute(select(*columns, *raw).where(*where)).all())
        day, value = type_coerce(a.day, String), type_coerce(a.value, String)
        allocation = (
            select(a.obligation_id, a.event_id, day, value)
            .join(OBLIGATIONS, o.id == a.obligation_id)
            .where(*where)
            .order_by(a.obligation_id, a.position)
        )
        for obligation_id, event_id, served_on, amount in connection.execute(allocation):
            served[obligation_id].append(
                Allocation(event_id, _day(served_on), driver_decimal(amount))
            )
    found = [_entry(row, served.get(row[0], ())) for row in rows]
    found.sort(key=lambda entry: (order[entry.rule_id], entry.unit_id, entry.position))
    return found


_RAW = [
    OBLIGATIONS.c[name]
    for name in ("start", "end", "due", "grace_end", "opens_on", "satisfied_on", "hopeful_on",
                 "required")
]  # fmt: skip


def _day(value: Any) -> Any:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def driver_decimal(value: Any) -> Decimal:
    """A stored amount as the driver hands it back (SQLite: an int, a float or text)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _entry(row: Any, served: Sequence[Allocation]) -> Entry:
    _id, unit_id, rule_id, position, kind, label, reason, by, *days, required = row
    start, end, due, grace_end, opens_on, satisfied_on, hopeful_on = map(_day, days)
    return Entry(
        unit_id,
        rule_id,
        position,
        kind,
        Period(start, end, label),
        due,
        grace_end,
        opens_on,
        None if required is None else driver_decimal(required),
        satisfied_on,
        hopeful_on,
        None if by is None else WaiverFacts(reason, by),
        tuple(served),
    )
