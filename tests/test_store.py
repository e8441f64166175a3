"""Evaluation is set-based: the statements one status call runs do not grow with the data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, insert

from scheduler.core.rules import RuleBook
from scheduler.store.database import transaction
from scheduler.store.models import Event, EventAttendance, EventKind, Unit
from scheduler.store.reports import Selection, status_rows

NOW = datetime(2021, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
KINDS = ("hearing", "research", "study", "report", "party_meeting", "funding")


def grow_county(engine: Engine, townships: int, events_per_township: int) -> None:
    """A county with ``townships`` townships (two villages each) and their events."""
    with transaction(engine) as session:
        county = Unit(code="C", name="县", kind="county", attributes={"female_population": 10})
        session.add(county)
        session.flush()
        for t in range(townships):
            township = Unit(
                code=f"T{t:03d}", name=f"镇{t}", kind="township", parent_id=county.id, attributes={}
            )
            session.add(township)
            session.flush()
            session.add_all(
                Unit(
                    code=f"T{t:03d}V{v}",
                    name=f"村{v}",
                    kind="village",
                    parent_id=township.id,
                    attributes={},
                )
                for v in range(2)
            )
            for n in range(events_per_township):
                kind = KINDS[n % len(KINDS)]
                result = session.execute(
                    insert(Event).values(
                        unit_id=township.id,
                        date=date(2021, 1 + n % 12, 1 + n % 28),
                        title="e",
                        amount=1000 if kind == "funding" else None,
                        key=f"t{n}",
                        source="t",
                        recorded_by="t",
                        recorded_at=NOW,
                    )
                )
                event_id = result.inserted_primary_key[0]  # type: ignore[index]
                session.execute(insert(EventKind).values(event_id=event_id, kind=kind))
                session.execute(
                    insert(EventAttendance).values(event_id=event_id, role="fulian_chair")
                )


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for_status(engine: Engine, book: RuleBook) -> int:
    selection = Selection(date(2021, 12, 31), date(2021, 1, 1), date(2021, 12, 31))
    with counted(engine) as statements, transaction(engine) as session:
        rows = status_rows(session, book, selection)
    assert rows
    return len(statements)


def test_status_runs_the_same_statements_for_a_small_and_a_large_county(
    engine: Engine, book: RuleBook
) -> None:
    grow_county(engine, townships=2, events_per_township=3)
    small = statements_for_status(engine, book)
    grow_county_more(engine, book)
    assert statements_for_status(engine, book) == small <= 6


def grow_county_more(engine: Engine, book: RuleBook) -> None:
    with transaction(engine) as session:
        county_id = session.query(Unit.id).filter(Unit.code == "C").scalar()
        for t in range(30):
            township = Unit(
                code=f"X{t:03d}",
                name=f"新镇{t}",
                kind="township",
                parent_id=county_id,
                attributes={},
            )
            session.add(township)
            session.flush()
            for n in range(24):
                result = session.execute(
                    insert(Event).values(
                        unit_id=township.id,
                        date=date(2021, 1 + n % 12, 10),
                        title="e",
                        key=f"t{n}",
                        source="t",
                        recorded_by="t",
                        recorded_at=NOW,
                    )
                )
                session.execute(
                    insert(EventKind).values(
                        event_id=result.inserted_primary_key[0],  # type: ignore[index]
                        kind=KINDS[n % len(KINDS)],
                    )
                )
