"""The small county of conftest, written in-process (no subprocess): for audit and web tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from scheduler.core.records import Table
from scheduler.core.rules import RuleBook
from scheduler.store import registry
from scheduler.store.database import transaction
from tests.conftest import COUNTY_PEOPLE, COUNTY_UNITS, EVENT_HEADER, PEOPLE_HEADER, UNIT_HEADER

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECORDED = datetime(2021, 3, 1, 10, 30, tzinfo=SHANGHAI)


def table(name: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Table:
    """A table as `scheduler.tables.read_table` would give it, rows numbered from 2."""
    cells = tuple(
        (number, {column: str(value) for column, value in zip(header, row, strict=True)})
        for number, row in enumerate(rows, start=2)
    )
    return Table(name, tuple(header), cells)


def load_county(
    engine: Engine,
    book: RuleBook,
    events: Sequence[Sequence[object]] = (),
    units: Sequence[Sequence[object]] = (),
) -> None:
    """Units 100/101/102/10101 (plus ``units``), their people, and ``events`` rows."""
    with transaction(engine) as session:
        units_table = table("units.csv", UNIT_HEADER, [*COUNTY_UNITS, *units])
        registry.import_units(session, book, units_table, "县妇联", RECORDED)
        people_table = table("people.csv", PEOPLE_HEADER, COUNTY_PEOPLE)
        registry.import_people(session, book, people_table, "县妇联", RECORDED)
        if events:
            registry.import_events(
                session, book, table("events.csv", EVENT_HEADER, events), "刘主席", RECORDED
            )
