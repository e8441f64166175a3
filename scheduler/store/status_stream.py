"""The status of every unit as a stream of JSON objects read from the stored obligations.

``huiqi status --format json|csv`` of a whole area writes one object per obligation
(`scheduler.store.reports.StatusRow.to_json`). Turning every stored row back into the engine's
obligation and sorting them costs about what evaluating does (docs/scale.md); here one
statement states them in SQL instead, in the order of `reports.status_rows`, and the objects
are made as the rows come, so that neither the rows nor the objects are all in memory:

* the status on the as-of day is `stored_status.severity`; the evidence and the quantity done
  are the allocation cut to the events dated up to it (`scheduler.core.ledger.obligation_on`);
* the rows come by unit code (byte order, as Python compares the codes), rule (the ruleset's
  order), period start and obligation, each obligation's allocation in its order (one row per
  event served, or one row without when none is); obligations of the same unit, rule and start
  (attendance of two meetings on one day) are put in evidence order as they pass.

`tests/test_status_stream.py` holds its output equal to the evaluated one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from scheduler.core.compliance import Status
from scheduler.core.jsontext import json_number
from scheduler.core.rules import Rule
from scheduler.store.facts import flushed_connection
from scheduler.store.models import Unit
from scheduler.store.obligations import ALLOCATION, driver_decimal
from scheduler.store.stored_status import (
    OBLIGATIONS,
    RANK,
    STATUS_AT,
    exists_on,
    overlapping,
    severity,
)
from scheduler.store.tallies import subtree_ids

UNITS = Unit.__table__
CHUNK = 5_000  # rows fetched at a time (a server-side cursor on PostgreSQL)
_STATUS = {rank: (status.value, status.closed) for rank, status in STATUS_AT.items()}


class StoredStatus:
    """The objects of a selection, made as they are iterated: of every unit, or of the unit
    ``scope`` (its id, and whether the units under it too); only those of ``status`` (None:
    any); with ``window`` (offset, count) only ``count`` of them from the ``offset``-th (a
    page). Afterwards ``unmeasured`` holds the (unit code, rule id) of the obligations whose
    quantity needed is unknown (the unit lacks the attribute the rule counts per)."""

    def __init__(
        self,
        session: Session,
        rules: list[Rule],
        as_of: date,
        first: date,
        last: date,
        scope: tuple[int, bool] | None = None,
        status: Status | None = None,
        window: tuple[int, int] | None = None,
    ) -> None:
        self._session = session
        self._rules = rules
        self._as_of = as_of
        self._first = first
        self._last = last
        self._scope = scope
        self._status = status
        self._window = window
        self._dialect = session.get_bind().dialect.name
        self.unmeasured: set[tuple[str, str]] = set()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        statement = self._statement() if self._window is None else self._page(*self._window)
        # options of this statement only: Connection.execution_options would change the
        # session's connection in place, and every later read of it would stream too
        streamed = statement.execution_options(stream_results=True, yield_per=CHUNK)
        result = flushed_connection(self._session).execute(streamed)
        return self._objects(row for chunk in result.partitions() for row in chunk)

    def _where(self) -> list[ColumnElement[bool]]:
        o = OBLIGATIONS.c
        # SQLite reads the table straight through, or by unit, when the rule is an expression:
        # walking the (rule, start) index fetches the rows one by one, three times slower for
        # a selection holding most of them
        rule_id = o.rule_id.concat("") if self._dialect == "sqlite" else o.rule_id
        where = [
            rule_id.in_([rule.id for rule in self._rules]),
            overlapping(self._first, self._last),
            exists_on(self._as_of),
        ]
        if self._scope is not None:
            where.append(o.unit_id.in_(_units_of(*self._scope)))
        if self._status is not None:
            where.append(severity(self._as_of) == RANK[self._status])
        return where

    def _code(self, column: ColumnElement[str]) -> ColumnElement[str]:
        """Unit codes compared byte by byte, as Python compares them."""
        return column.collate("C") if self._dialect == "postgresql" else column

    def _rule_place(self) -> ColumnElement[int]:
        o = OBLIGATIONS.c
        return case({rule.id: n for n, rule in enumerate(self._rules)}, value=o.rule_id)

    def _columns(self) -> list[Any]:
        o, u = OBLIGATIONS.c, UNITS.c
        return [
            u.code,
            u.name,
            o.id,
            o.rule_id,
            o.label,
            cast(o.start, String).label("start"),
            cast(o.end, String).label("end"),
            cast(o.due, String).label("due"),
            severity(self._as_of).label("rank"),
            type_coerce(o.required, String).label("required"),
        ]

    def _statement(self) -> Any:
        """Every row of the selection, one per obligation and event served, in order."""
        o, a, u = OBLIGATIONS.c, ALLOCATION.c, UNITS.c
        served = and_(a.obligation_id == o.id, a.day <= self._as_of)
        return (
            select(*self._columns(), a.event_id, type_coerce(a.value, String))
            .select_from(OBLIGATIONS.join(UNITS, u.id == o.unit_id).outerjoin(ALLOCATION, served))
            .where(*self._where())
            .order_by(self._code(u.code), self._rule_place(), o.start, o.id, a.position)
        )

    def _page(self, offset: int, count: int) -> Any:
        """The rows of ``count`` obligations from the ``offset``-th: those of one unit, rule
        and start (attendance of meetings on one day) by their first event, as evidence order
        puts them, so that no page boundary parts them differently."""
        o, a, u = OBLIGATIONS.c, ALLOCATION.c, UNITS.c
        as_of = self._as_of
        first_event = (
            select(func.min(a.event_id))
            .where(a.obligation_id == o.id, a.day <= as_of)
            .scalar_subquery()
        )
        order = (self._rule_place().label("place"), first_event.label("first_event"))
        picked = (
            select(*self._columns(), *order)
            .select_from(OBLIGATIONS.join(UNITS, u.id == o.unit_id))
            .where(*self._where())
            .order_by(self._code(u.code), order[0], o.start, first_event.nulls_first(), o.id)
            .offset(offset)
            .limit(count)
            .subquery()
        )
        p = picked.c
        served = and_(a.obligation_id == p.id, a.day <= as_of)
        return (
            select(*[p[c.name] for c in self._columns()], a.event_id, type_coerce(a.value, String))
            .select_from(picked.outerjoin(ALLOCATION, served))
            .order_by(
                self._code(p.code), p.place, p.start, p.first_event.nulls_first(), p.id, a.position
            )
        )

    def _objects(self, rows: Iterable[Any]) -> Iterator[dict[str, Any]]:
        """One object per obligation from its rows (consecutive, one per event served); those
        of one unit, rule and start (consecutive too) in evidence order."""
        today = self._as_of.toordinal()
        held: list[dict[str, Any]] = []  # the objects of one unit, rule and start
        place: tuple[str, str, str] | None = None
        values: list[Any] = []
        current = None
        for row in rows:
            if row[2] != current:
                if held:
                    held[-1]["actual"] = _sum(values)
                code, name, current, rule, label, start, end, due, rank, required = row[:10]
                if (code, rule, start) != place:
                    if len(held) > 1:
                        held.sort(key=_evidence)
                    yield from held
                    held = []
                    place = (code, rule, start)
                status, closed = _STATUS[rank]
                if required is None:
                    self.unmeasured.add((code, rule))
                values = []
                held.append(
                    {
                        "unit": code,
                        "unit_name": name,
                        "rule": rule,
                        "period": {"label": label, "start": start, "end": end},
                        "due": due,
                        "status": status,
                        "required": None if required is None else _number(required),
                        "actual": 0,
                        "evidence": [],
                        "days_left": None if closed else _ordinal(due) - today,
                    }
                )
            if row[10] is not None:
                held[-1]["evidence"].append(row[10])
                values.append(row[11])
        if held:
            held[-1]["actual"] = _sum(values)
            if len(held) > 1:
                held.sort(key=_evidence)
            yield from held


def _units_of(root: int, subtree: bool) -> Any:
    """The ids of the unit ``root`` and (``subtree``) of every unit under it."""
    return subtree_ids(root) if subtree else select(UNITS.c.id).where(UNITS.c.id == root)


def _sum(values: list[Any]) -> int | float:
    """The JSON number of the sum of stored amounts (exact: as Decimals)."""
    if len(values) == 1:
        return _number(values[0])
    return json_number(sum(map(_decimal, values), Decimal(0))) or 0


def _evidence(item: dict[str, Any]) -> list[int]:
    return item["evidence"]


@lru_cache(maxsize=4096)
def _number(raw: Any) -> int | float:
    """The JSON number of a stored amount as the driver gives it."""
    return json_number(_decimal(raw)) or 0


_decimal = lru_cache(maxsize=4096)(driver_decimal)  # few distinct amounts, many times over


@lru_cache(maxsize=4096)
def _ordinal(day: str) -> int:
    return date.fromisoformat(day).toordinal()
