"""What the dashboard counts, read from the stored obligations with SQL.

The dashboard shows a few units (the scope's root, its children, the children of an opened
unit) and, for each rule, their cells, their on-time rates, the rates of the units under them,
and totals over the whole scope. Every unit of the scope is *placed* under one shown unit: a
shown unit holds itself, and a shown unit that is not opened also holds every unit under it
(a recursive query over ``units.parent_id``). One grouped statement then counts, per shown
unit and rule, the cells by their worst status, the obligations, those due and those met on
time: a few thousand rows whatever the size of the scope, where the evaluation loads every
event of it. The statuses are `scheduler.store.stored_status`'s, the engine's on that day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import CTE, Select, String, case, cast, func, literal_column, or_, select
from sqlalchemy.orm import Session

from scheduler.core.compliance import Status, UnitFacts
from scheduler.core.ledger import ATTEND
from scheduler.store.facts import UNIT_COLUMNS, flushed_connection
from scheduler.store.models import Unit
from scheduler.store.stored_status import (
    DUE_PASSED,
    MET,
    OBLIGATIONS,
    STATUS_AT,
    exists_on,
    overlapping,
    severity,
)

UNITS = Unit.__table__


@dataclass
class Counts:
    """Obligations, those whose due date has passed (or that are met), and those met on time."""

    obligations: int = 0
    counted: int = 0
    met: int = 0

    def add(self, other: Counts) -> None:
        self.obligations += other.obligations
        self.counted += other.counted
        self.met += other.met

    @property
    def rate(self) -> float | None:
        """The on-time rate (`scheduler.core.summaries.on_time_rate`)."""
        return self.met / self.counted if self.counted else None


@dataclass
class RuleTally:
    """One rule over the scope: its columns with their first day, cells by worst status, all
    its obligations; per shown unit its own cells and counts, and (a shown unit not opened)
    the counts of the units under it."""

    starts: dict[str, date] = field(default_factory=dict)
    totals: dict[Status, int] = field(default_factory=lambda: defaultdict(int))
    overall: Counts = field(default_factory=Counts)
    cells: dict[int, dict[str, Status]] = field(default_factory=lambda: defaultdict(dict))
    own: dict[int, Counts] = field(default_factory=lambda: defaultdict(Counts))
    under: dict[int, Counts] = field(default_factory=lambda: defaultdict(Counts))

    @property
    def columns(self) -> tuple[str, ...]:
        """The matrix's columns, by their first day (`scheduler.core.summaries.build_matrix`)."""
        return tuple(sorted(self.starts, key=lambda column: (self.starts[column], column)))


# ----------------------------------------------------------------------------------------------
# Units


def units_where(
    session: Session,
    ids: Collection[int] = (),
    parents: Collection[int] = (),
    roots: bool = False,
) -> list[UnitFacts]:
    """The units with one of ``ids``, a parent in ``parents`` or (``roots``) no parent, by
    code."""
    u = UNITS.c
    found = [u.id.in_(list(ids)), u.parent_id.in_(list(parents))]
    if roots:
        found.append(u.parent_id.is_(None))
    query = select(*UNIT_COLUMNS).where(or_(*found)).order_by(u.code)
    return [UnitFacts(*row) for row in flushed_connection(session).execute(query)]


def unit_by_code(session: Session, code: str) -> UnitFacts | None:
    """The unit called ``code``, if any."""
    u = UNITS.c
    row = flushed_connection(session).execute(select(*UNIT_COLUMNS).where(u.code == code)).first()
    return None if row is None else UnitFacts(*row)


def subtree_units(session: Session, root: int) -> list[UnitFacts]:
    """The unit ``root`` and every unit under it, by code."""
    query = select(*UNIT_COLUMNS).where(UNITS.c.id.in_(subtree_ids(root))).order_by(UNITS.c.code)
    return [UnitFacts(*row) for row in flushed_connection(session).execute(query)]


def subtree_ids(root: int) -> Select[tuple[int]]:
    """The ids of the unit ``root`` and every unit under it (a recursive query)."""
    u = UNITS.c
    start = select(u.id).where(u.id == root).cte("below", recursive=True)
    below = start.union_all(select(u.id).join(start, u.parent_id == start.c.id))
    return select(below.c.id)


def with_children(session: Session, ids: Collection[int]) -> set[int]:
    """Which of ``ids`` have units under them."""
    u = UNITS.c
    query = select(u.parent_id).where(u.parent_id.in_(list(ids))).distinct()
    return set(flushed_connection(session).execute(query).scalars())


def _placed(shown: Collection[int], opened: Collection[int]) -> CTE:
    """(unit, shown unit holding it, whether it is that unit) for every unit of the scope."""
    u = UNITS.c
    start = select(u.id, u.id.label("top"), literal_column("1").label("own")).where(
        u.id.in_(list(shown))
    )
    placed = start.cte("placed", recursive=True)
    step = (
        select(u.id, placed.c.top, literal_column("0"))
        .join(placed, u.parent_id == placed.c.id)
        .where(placed.c.top.not_in(list(opened)))
    )
    return placed.union_all(step)


def kind_counts(
    session: Session, shown: Collection[int], opened: Collection[int]
) -> dict[str, int]:
    """The units of the scope by kind."""
    placed = _placed(shown, opened)
    query = (
        select(UNITS.c.kind, func.count())
        .join(placed, UNITS.c.id == placed.c.id)
        .group_by(UNITS.c.kind)
    )
    return {kind: int(number) for kind, number in flushed_connection(session).execute(query)}


# ----------------------------------------------------------------------------------------------
# Obligations


def rule_tallies(
    session: Session,
    rule_ids: Sequence[str],
    shown: Collection[int],
    opened: Collection[int],
    as_of: date,
    first: date,
    last: date,
) -> dict[str, RuleTally]:
    """Each rule's tally over the units placed under ``shown`` (``opened``: the shown units
    whose children are shown themselves), for periods overlapping ``[first, last]`` on
    ``as_of``."""
    tallies = {rule_id: RuleTally() for rule_id in rule_ids}
    grouped = _grouped(rule_ids, shown, opened, as_of, first, last, _on_sqlite(session))
    for (
        top,
        own,
        rule_id,
        column,
        worst,
        cells,
        number,
        counted,
        met,
        start,
    ) in flushed_connection(session).execute(grouped):
        tally = tallies[rule_id]
        status = STATUS_AT[worst]
        begins = _date(start)
        if column not in tally.starts or begins < tally.starts[column]:
            tally.starts[column] = begins
        tally.totals[status] += cells
        counts = Counts(int(number), int(counted), int(met))
        tally.overall.add(counts)
        if own:
            tally.cells[top][column] = status
            tally.own[top].add(counts)
        else:
            tally.under[top].add(counts)
    return tallies


def _grouped(
    rule_ids: Sequence[str],
    shown: Collection[int],
    opened: Collection[int],
    as_of: date,
    first: date,
    last: date,
    sqlite: bool,
) -> Select[Any]:
    o = OBLIGATIONS.c
    placed = _placed(shown, opened)
    # an attendance rule's column is the month of the meeting, others' the period's label
    column = case((o.kind == ATTEND, func.substr(cast(o.start, String), 6, 2)), else_=o.label)
    rated = (
        select(
            o.unit_id,
            o.rule_id,
            o.start,
            placed.c.top,
            placed.c.own,
            column.label("column"),
            severity(as_of).label("rank"),
        )
        .join(placed, o.unit_id == placed.c.id)
        .where(
            o.rule_id.in_(list(rule_ids)),
            overlapping(first, last),
            exists_on(as_of),
            # SQLite: the IN as well as the join reads the obligations by unit (with the join
            # alone it builds a Bloom filter over all of them, up to 20 times slower);
            # PostgreSQL plans the join well by itself, and hashes a large scope
            *([o.unit_id.in_(select(placed.c.id))] if sqlite else []),
        )
        .subquery()
    )
    r = rated.c
    cells = (
        select(
            r.top,
            r.own,
            r.rule_id,
            r.column,
            func.min(r.rank).label("worst"),
            func.count().label("number"),
            func.sum(case((r.rank.in_(DUE_PASSED), 1), else_=0)).label("counted"),
            func.sum(case((r.rank == MET, 1), else_=0)).label("met"),
            func.min(r.start).label("start"),
        )
        .group_by(r.unit_id, r.top, r.own, r.rule_id, r.column)
        .subquery()
    )
    c = cells.c
    return select(
        c.top,
        c.own,
        c.rule_id,
        c.column,
        c.worst,
        func.count(),
        func.sum(c.number),
        func.sum(c.counted),
        func.sum(c.met),
        func.min(c.start),
    ).group_by(c.top, c.own, c.rule_id, c.column, c.worst)


def status_counts(
    session: Session, rule_ids: Sequence[str], as_of: date, first: date, last: date
) -> dict[tuple[str, Status], int]:
    """The obligations of every unit under ``rule_ids`` for periods overlapping ``[first,
    last]``, by rule and status on ``as_of``: one grouped statement."""
    o = OBLIGATIONS.c
    rank = severity(as_of).label("rank")
    query = (
        select(o.rule_id, rank, func.count())
        .where(o.rule_id.in_(list(rule_ids)), overlapping(first, last), exists_on(as_of))
        .group_by(o.rule_id, rank)
    )
    rows = flushed_connection(session).execute(query)
    return {(rule_id, STATUS_AT[worst]): int(number) for rule_id, worst, number in rows}


def _on_sqlite(session: Session) -> bool:
    return session.connection().dialect.name == "sqlite"


def _date(value: Any) -> date:
    """A date as the driver hands it back (SQLite: ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)
