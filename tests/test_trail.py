"""The change trail: written in the transaction of its change, never updated or deleted (the
ORM and the database refuse both), read back in words. On real SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import registry, trail
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord
from tests.conftest import PEOPLE_HEADER, ROOT
from tests.countyfacts import load_county, table

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2021, 5, 10, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def county_db(engine: Engine, book: RuleBook) -> Engine:
    load_county(engine, book)
    return engine


def entries(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count(ChangeRecord.id))) or 0


def test_a_snapshot_keeps_plain_values_and_a_diff_only_what_changed() -> None:
    state = {"date": date(2021, 3, 2), "amount": Decimal("500.00"), "agenda": None, "kinds": []}
    assert trail.snapshot(state) == {"date": "2021-03-02", "amount": "500"}
    before, after = trail.diff({"title": "a", "time": None}, {"title": "b", "time": "09:30"})
    assert (before, after) == ({"title": "a"}, {"title": "b", "time": "09:30"})


def test_a_refused_change_leaves_no_trail(county_db: Engine, book: RuleBook) -> None:
    written = entries(county_db)
    rows = [
        ("新人", "new@example.org", "", "101", "clerk", "", ""),
        ("坏", "", "", "404", "x", "", ""),
    ]
    with pytest.raises(InputError), transaction(county_db) as session:
        registry.import_people(session, book, table("p.csv", PEOPLE_HEADER, rows), "刘主席", NOW)
    assert entries(county_db) == written


def test_the_entries_are_read_back_local_and_in_words(county_db: Engine) -> None:
    with transaction(county_db) as session:
        found = trail.entries(session, None, None, None, SHANGHAI, newest_first=False)
        said = trail.changes(session, None, None, None, SHANGHAI, lang="en")
    first = found[0]
    assert (first.action, first.actor, first.at.utcoffset()) == (
        "unit.add",
        "县妇联",
        NOW.utcoffset(),
    )
    assert said[-1].action == "Unit added" and said[-1].after.startswith(
        "name: 示例县; unit kind: county; active from: 2000-01-01"
    )


@pytest.mark.parametrize(
    "statement",
    [
        update(ChangeRecord).values(actor="somebody else"),
        delete(ChangeRecord),
        text("UPDATE change_log SET actor = 'somebody else'"),
        text("DELETE FROM change_log"),
    ],
    ids=["orm-update", "orm-delete", "sql-update", "sql-delete"],
)
def test_the_database_refuses_to_update_or_delete_the_trail(
    county_db: Engine, statement: object
) -> None:
    written = entries(county_db)
    with pytest.raises(DBAPIError, match="append-only"), transaction(county_db) as session:
        session.execute(statement)  # type: ignore[call-overload]
    with transaction(county_db) as session:
        assert session.scalar(select(func.count()).where(ChangeRecord.actor == "县妇联")) == written


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_the_orm_refuses_to_change_or_delete_a_loaded_entry(county_db: Engine, change: str) -> None:
    with pytest.raises(ValueError, match="append-only"), transaction(county_db) as session:
        record = session.scalars(select(ChangeRecord)).first()
        assert record is not None
        if change == "edit":
            record.actor = "somebody else"
        else:
            session.delete(record)
        session.flush()


def test_no_code_updates_or_deletes_a_trail_row() -> None:
    """Every statement on the trail in the code base is an insert (the models' `record`)."""
    writes = re.compile(r"(update|delete)\(\s*ChangeRecord|(UPDATE|DELETE\s+FROM)\s+change_log")
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "scheduler").rglob("*.py"))
        if writes.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
