"""``huiqi status --format json|csv`` of every unit, read by one statement over the stored
obligations (`scheduler.store.status_stream`), writes exactly what the evaluation writes: the
same objects in the same order, the same warnings, on SQLite and PostgreSQL, for as-of days
across the year and one rule or all. (`tests/test_obligations_stateful.py` checks the same
after random changes.)"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from scheduler.core.compliance import Status
from scheduler.core.rules import RuleBook
from scheduler.store import obligations, reports
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.store.status_stream import StoredStatus
from tests.conftest import HuiqiRunner

YEAR = 2026
DAYS = [date(2026, 4, 16), date(2026, 9, 15), date(2027, 3, 1)]


def _evaluated(session: Session, book: RuleBook, selection: reports.Selection) -> list[object]:
    rows = reports._status_rows(*reports.evaluate_selection(session, book, selection))
    return [row.to_json() for row in rows]


@pytest.mark.parametrize(
    ("as_of", "rule"), [(DAYS[0], None), (DAYS[2], None), (DAYS[1], "village-chair-attendance")]
)
def test_the_stream_is_the_evaluations_status(
    stored_demo: Engine, book: RuleBook, as_of: date, rule: str | None
) -> None:
    selection = reports.year_selection(YEAR, as_of, None, rule)
    with transaction(stored_demo) as session:
        objects = reports.status_objects(session, book, selection)
        assert isinstance(objects, StoredStatus)
        streamed = list(objects)
        # the statement streamed, not the session's connection (later reads fetch at once)
        assert "stream_results" not in session.connection().get_execution_options()
        expected = _evaluated(session, book, selection)
    assert streamed == expected
    assert len(streamed) > 100
    assert objects.unmeasured == set()


def test_a_ranges_days_and_the_unmeasured_follow_the_evaluation(
    stored_demo: Engine, book: RuleBook
) -> None:
    """A range across two years, and a county whose female population is unknown (its funding
    has no quantity needed): the same rows and the same (unit, rule) warned of."""
    selection = reports.Selection(date(2026, 9, 15), date(2026, 3, 1), date(2027, 6, 30))
    with transaction(stored_demo) as session:
        county = session.scalars(select(Unit).where(Unit.kind == "county")).one()
        county.attributes = {}
        code = county.code
        obligations.touch(session, book, [county.id])
        objects = reports.status_objects(session, book, selection)
        streamed = list(objects)
        rows = reports._status_rows(*reports.evaluate_selection(session, book, selection))
        session.rollback()
    assert streamed == [row.to_json() for row in rows]
    assert objects.unmeasured == reports.unmeasured(rows)
    assert objects.unmeasured == {(code, "county-funding")}


def test_one_unit_and_stale_rows_are_listed_from_the_status_rows(
    stored_demo: Engine, book: RuleBook
) -> None:
    with transaction(stored_demo) as session:
        township = session.scalars(select(Unit.code).where(Unit.kind == "township")).first()
        one = reports.year_selection(YEAR, date(2026, 9, 15), township)
        assert not isinstance(reports.status_objects(session, book, one), StoredStatus)
        everything = reports.year_selection(YEAR, date(2026, 9, 15))
        obligations.mark(session, [1])  # a unit waits: the rows are not current
        listed = reports.status_objects(session, book, everything)
        assert not isinstance(listed, StoredStatus)
        assert list(listed) == _evaluated(session, book, everything)
        session.rollback()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_command_writes_the_same_bytes_with_stored_obligations(
    county: HuiqiRunner, fmt: str
) -> None:
    county("events", "add", "--unit", "101", "--kinds", "hearing", "--date", "2026-03-02",
           "--title", "听取妇联工作汇报")  # fmt: skip
    command = ("status", "--as-of", "2026-09-15", "--format", fmt)
    evaluated = county(*command)
    county("obligations", "refresh")
    stored = county(*command)
    assert stored.stdout == evaluated.stdout
    assert stored.stderr == evaluated.stderr
    assert "101" in stored.stdout


@pytest.mark.parametrize(
    ("scope", "status"), [("county", None), ("county", Status.MISSED), ("village", None)]
)
def test_pages_read_by_sql_are_the_evaluations_rows_cut(
    stored_demo: Engine, book: RuleBook, scope: str | None, status: Status | None
) -> None:
    """The API's pages (`reports.status_page`) of a subtree (a village: itself only), by
    status or not: one after another, they are the evaluated rows with that status."""
    with transaction(stored_demo) as session:
        code = None
        if scope:
            code = session.scalars(select(Unit.code).where(Unit.kind == scope)).first()
        selection = reports.year_selection(YEAR, date(2026, 9, 15), code)
        expected = [o for o in _evaluated(session, book, selection)
                    if status is None or o["status"] == status]  # type: ignore[index]  # fmt: skip
        size = max(1, len(expected) // 5 + 1)
        pages = [reports.status_page(session, book, selection, status, offset, size)
                 for offset in range(0, len(expected) + size, size)]  # fmt: skip
        assert reports._scoped_stored(session, book, selection) is not None
    assert [o for page in pages for o in page] == expected
    assert pages[-1] == [] and all(len(page) == size for page in pages[:-2])
    assert expected or scope == "village"
