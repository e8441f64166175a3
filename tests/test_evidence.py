"""Evidence cannot double: one current event per (unit, key) in the database, imports that take
the event writers' lock, and rows without ref matched by their natural key. On real SQLite and
PostgreSQL, the simultaneous imports with two real processes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from scheduler.core.problems import InputError
from scheduler.core.records import event_key
from scheduler.core.rules import RuleBook
from scheduler.store import registry
from scheduler.store.database import transaction
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, Unit
from scheduler.tables import read_table
from tests.conftest import BUNDLED_RULES, EVENT_HEADER, HuiqiRunner, huiqi_executable, write_csv
from tests.countyfacts import load_county

NOW = datetime(2021, 12, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ROWS_WITHOUT_REF = [
    ("101", "hearing;party_meeting", "2021-03-02", "09:30", "党委会", "fulian_chair", "", ""),
    ("10101", "funding", "2021-04-01", "", "拨款", "", "800", ""),
]


@pytest.fixture
def county_db(engine: Engine, book: RuleBook) -> Engine:
    load_county(engine, book)
    return engine


def import_rows(engine: Engine, book: RuleBook, path: Path) -> registry.ImportSummary:
    with transaction(engine) as session:
        return registry.import_events(session, book, read_table(path), "刘主席", NOW)


def current_count(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count(Event.id)).where(CURRENT)) or 0


def test_the_database_refuses_a_second_current_event_with_the_same_key(county_db: Engine) -> None:
    key = event_key("r1", date(2021, 3, 2), None, ["hearing"], "")

    def event(**extra: object) -> Event:
        fields = {"unit_id": unit_id, "date": date(2021, 3, 2), "ref": "r1", "key": key}
        return Event(**fields, recorded_at=NOW, **extra)  # type: ignore[arg-type]

    with transaction(county_db) as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == "101"))
        first = event()
        session.add(first)
        session.flush()
        session.add_all([event(voided_at=NOW), event(superseded_by=first.id)])  # history: fine
    with pytest.raises(IntegrityError), transaction(county_db) as session:
        session.add(event())
    assert current_count(county_db) == 1


def test_rows_without_ref_are_the_same_event_when_imported_again(
    county_db: Engine, book: RuleBook, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "events.csv", EVENT_HEADER, ROWS_WITHOUT_REF)
    assert str(import_rows(county_db, book, path)) == "2 created, 0 updated, 0 unchanged"
    assert str(import_rows(county_db, book, path)) == "0 created, 0 updated, 2 unchanged"
    corrected = [(*ROWS_WITHOUT_REF[0][:5], "fulian_chair;party_secretary", "", "")]
    again = write_csv(tmp_path / "corrected.csv", EVENT_HEADER, corrected)
    assert str(import_rows(county_db, book, again)) == "0 created, 1 updated, 0 unchanged"
    assert current_count(county_db) == 2
    with transaction(county_db) as session:
        assert session.scalar(select(func.count(Event.id))) == 3  # the old version is history


def test_a_row_without_ref_repeated_in_one_file_refuses_the_file(
    county_db: Engine, book: RuleBook, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "twice.csv", EVENT_HEADER, [ROWS_WITHOUT_REF[0]] * 2)
    with pytest.raises(InputError) as raised:
        import_rows(county_db, book, path)
    assert [str(p) for p in raised.value.problems] == [
        f"{path}:3: title: the same event as row 2 (date, time, kinds, title); add a ref"
    ]
    assert current_count(county_db) == 0


def test_adding_the_same_event_twice_gives_back_the_first(
    county_db: Engine, book: RuleBook
) -> None:
    cells = {"unit": "101", "kinds": "hearing", "date": "2021-05-06", "title": "听取汇报"}
    with transaction(county_db) as session:
        first = registry.add_event(session, book, cells, "刘主席", NOW)
    with transaction(county_db) as session:
        assert registry.add_event(session, book, cells, "刘主席", NOW) == first
    assert current_count(county_db) == 1


# --- two imports of one file at the same time, in two processes -------------------------------

START = """
import os, sys, time
flag = sys.argv[1]
while not os.path.exists(flag):
    time.sleep(0.001)
os.execv(sys.argv[2], sys.argv[2:])
"""


def big_file(tmp_path: Path, rows: int) -> Path:
    """``rows`` events at 101, 102 and 10101, most with a ref, every tenth without."""
    units, kinds = ("101", "102", "10101"), ("hearing", "research", "study", "funding")
    body = []
    for n in range(rows):
        day = date(2021, 1, 1) + timedelta(days=n % 360)
        ref = "" if n % 10 == 0 else f"r{n}"
        kind = kinds[n % 4]
        amount = "100" if kind == "funding" else ""
        body.append((units[n % 3], kind, day.isoformat(), "", f"会议{n}", "", amount, ref))
    return write_csv(tmp_path / "big.csv", EVENT_HEADER, body)


def test_two_simultaneous_imports_of_one_file_record_each_event_once(
    county: HuiqiRunner, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    path = big_file(tmp_path, 1500)
    flag = tmp_path / "go"
    env = {**os.environ, "HUIQI_DATABASE_URL": database_url, "HUIQI_RULES": str(BUNDLED_RULES)}
    command = [sys.executable, "-c", START, str(flag), huiqi_executable(), "events", "import"]
    processes = [
        subprocess.Popen(
            [*command, str(path), "--by", f"clerk{n}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    time.sleep(0.2)  # both wait on the flag; creating it starts them together
    flag.touch()
    results = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    for code, _, err in results:
        assert code == 0 or (code == 1 and err.count("\n") == 1 and "try again" in err), err
    outputs = sorted(out.strip().split("：", 1)[1] for code, out, _ in results if code == 0)
    assert outputs[-1] == "新建 1500 条，更新 0 条，不变 0 条"
    assert outputs[:-1] in ([], ["新建 0 条，更新 0 条，不变 1500 条"])
    with transaction(engine) as session:
        keys = session.execute(select(Event.unit_id, Event.key).where(CURRENT)).all()
        total = session.scalar(select(func.count(Event.id)))
    assert len(keys) == len(set(keys)) == total == 1500


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_import_that_cannot_get_the_lock_in_time_fails_whole_with_one_line(
    county_db: Engine, book: RuleBook, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "events.csv", EVENT_HEADER, ROWS_WITHOUT_REF)
    holder = sqlite3.connect(str(county_db.url.database))
    holder.execute("BEGIN IMMEDIATE")  # another writer, in the middle of its transaction
    try:
        with pytest.raises(InputError) as raised, transaction(county_db) as session:
            session.execute(text("PRAGMA busy_timeout = 50"))
            registry.import_events(session, book, read_table(path), "刘主席", NOW)
    finally:
        holder.rollback()
        holder.close()
    assert str(raised.value) == f"{path}: another change to the events is being saved; " + (
        "nothing was written, try again"
    )
    assert current_count(county_db) == 0
