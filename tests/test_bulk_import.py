"""Events imported as a stream in chunks with bulk statements: a problem in a later chunk still
writes nothing and is listed with every other; a re-import is compared by each event's digest,
also for events written before digests were kept; the progress callback hears of every row."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, text

from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import evidence, registry
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord, Event, EventAttendance, EventKind
from scheduler.tables import read_table
from tests.conftest import EVENT_HEADER, write_csv
from tests.countyfacts import load_county

NOW = datetime(2021, 12, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ROWS = [
    ("101", "hearing;party_meeting", "2021-03-02", "09:30", "党委会", "fulian_chair", "", "a1"),
    ("10101", "funding", "2021-04-01", "", "拨款", "", "800", ""),
    ("101", "hearing", "2021-05-02", "", "听取汇报", "", "", "a2"),
    ("102", "hearing", "2021-06-02", "", "", "fulian_chair;party_secretary", "", ""),
    ("101", "report", "2021-07-01", "", "报告", "", "", "a3"),
]


@pytest.fixture
def county_db(engine: Engine, book: RuleBook, monkeypatch: pytest.MonkeyPatch) -> Engine:
    load_county(engine, book)
    monkeypatch.setattr(evidence, "CHUNK", 2)  # several chunks from a small file
    return engine


def imported(engine: Engine, book: RuleBook, path: Path, seen: list[int] | None = None) -> str:
    table = read_table(path, stream=True)
    with transaction(engine) as session:
        progress = None if seen is None else seen.append
        return str(registry.import_events(session, book, table, "刘主席", NOW, progress))


def counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Event, EventKind, EventAttendance, ChangeRecord)
        )


def test_a_bad_row_in_a_later_chunk_writes_nothing_and_every_problem_is_listed(
    county_db: Engine, book: RuleBook, tmp_path: Path
) -> None:
    before = counts(county_db)
    bad = [*ROWS, ("101", "hearing", "2021-13-01", "", "", "", "", ""), ("999", "hearing",
           "2021-08-01", "", "", "", "", "")]  # fmt: skip
    path = write_csv(tmp_path / "events.csv", EVENT_HEADER, bad)
    with pytest.raises(InputError) as raised:
        imported(county_db, book, path)
    assert [(p.row, p.field) for p in raised.value.problems] == [(7, "date"), (8, "unit")]
    assert counts(county_db) == before


def test_chunks_write_every_row_with_its_kinds_roles_and_trail_and_tell_the_progress(
    county_db: Engine, book: RuleBook, tmp_path: Path
) -> None:
    events, kinds, attendance, entries = counts(county_db)
    path = write_csv(tmp_path / "events.csv", EVENT_HEADER, ROWS)
    seen: list[int] = []
    assert imported(county_db, book, path, seen) == "5 created, 0 updated, 0 unchanged"
    assert sum(seen) == 5 and len(seen) == 3
    assert counts(county_db) == (events + 5, kinds + 6, attendance + 3, entries + 6)
    assert imported(county_db, book, path) == "0 created, 0 updated, 5 unchanged"
    changed = [*ROWS[:2], ("101", "hearing", "2021-05-03", "", "听取汇报", "", "", "a2")]
    path = write_csv(tmp_path / "changed.csv", EVENT_HEADER, changed)
    assert imported(county_db, book, path) == "0 created, 1 updated, 2 unchanged"
    with transaction(county_db) as session:
        replace = session.scalars(
            select(ChangeRecord).where(ChangeRecord.action == "event.replace")
        ).one()
    assert replace.before == {"date": "2021-05-02"}
    assert replace.after["date"] == "2021-05-03" and replace.after["replaces"].startswith("#")


def test_events_written_before_digests_were_kept_are_recognised_unchanged(
    county_db: Engine, book: RuleBook, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "events.csv", EVENT_HEADER, ROWS)
    imported(county_db, book, path)
    with county_db.begin() as connection:
        connection.execute(text("UPDATE events SET digest = NULL"))
    assert imported(county_db, book, path) == "0 created, 0 updated, 5 unchanged"


def test_repeats_in_other_chunks_are_refused_and_the_counts_alone_say_the_same(
    county_db: Engine, book: RuleBook, tmp_path: Path
) -> None:
    """A ref repeated at its unit, or a row without ref repeated, chunks apart, is refused
    with the rows named and nothing written; a ref repeated at another unit is another event.
    Without ``rows`` the summary gives the same counts and no per-row outcomes."""
    before = counts(county_db)
    repeated = [*ROWS, ROWS[0], ROWS[3]]  # rows 7 and 8 repeat rows 2 and 5
    path = write_csv(tmp_path / "repeated.csv", EVENT_HEADER, repeated)
    with pytest.raises(InputError) as raised:
        imported(county_db, book, path)
    assert str(raised.value).splitlines() == [
        f"{path}:7: ref: ref 'a1' appears twice for unit '101' in this file",
        f"{path}:8: title: the same event as row 5 (date, time, kinds, title); add a ref",
    ]
    assert counts(county_db) == before
    elsewhere = [*ROWS, ("102", *ROWS[0][1:])]  # unit 102's own a1
    path = write_csv(tmp_path / "elsewhere.csv", EVENT_HEADER, elsewhere)
    table = read_table(path, stream=True)
    with transaction(county_db) as session:
        summary = registry.import_events(session, book, table, "刘主席", NOW, rows=False)
    assert (summary.created, summary.updated, summary.unchanged) == (6, 0, 0)
    assert summary.rows == () and summary.ids == ()
