"""Imports, events, voids and waivers on real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import registry
from scheduler.store.database import transaction
from scheduler.store.models import Event, Person, RoleAssignment, Unit
from scheduler.store.reports import Selection, status_rows
from scheduler.tables import read_table
from tests.conftest import (
    COUNTY_PEOPLE,
    COUNTY_UNITS,
    EVENT_HEADER,
    PEOPLE_HEADER,
    UNIT_HEADER,
    write_csv,
)

NOW = datetime(2021, 5, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def loaded(engine: Engine, book: RuleBook, tmp_path: Path) -> Engine:
    """The small county's units and people in the database."""
    with transaction(engine) as session:
        units = read_table(write_csv(tmp_path / "u.csv", UNIT_HEADER, COUNTY_UNITS))
        registry.import_units(session, book, units, "县妇联", NOW)
        people = read_table(write_csv(tmp_path / "p.csv", PEOPLE_HEADER, COUNTY_PEOPLE))
        registry.import_people(session, book, people, "县妇联", NOW)
    return engine


def import_events(engine: Engine, book: RuleBook, path: Path) -> registry.ImportSummary:
    with transaction(engine) as session:
        return registry.import_events(session, book, read_table(path), "tester", NOW)


def count(engine: Engine, model: type) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def statuses(engine: Engine, book: RuleBook, rule: str, unit: str = "101") -> dict[str, str]:
    selection = Selection(
        date(2021, 5, 10), date(2020, 11, 1), date(2021, 5, 10), unit, False, rule
    )
    with transaction(engine) as session:
        rows = status_rows(session, book, selection)
    return {row.obligation.period.label: row.obligation.status.value for row in rows}


def test_it_builds_the_unit_tree_with_attributes(loaded: Engine) -> None:
    with transaction(loaded) as session:
        village = session.scalar(select(Unit).where(Unit.code == "10101"))
        county = session.scalar(select(Unit).where(Unit.code == "100"))
        assert village and county and village.parent and village.parent.code == "101"
        assert county.attributes == {"female_population": 80000}
    assert count(loaded, Person) == 4 and count(loaded, RoleAssignment) == 4


def test_reimporting_units_updates_them_and_keeps_their_ids(
    loaded: Engine, book: RuleBook, tmp_path: Path
) -> None:
    renamed = [("101", "东山镇(新)", "township", "100", "2000-01-01", "2021-03-01", "")]
    with transaction(loaded) as session:
        table = read_table(write_csv(tmp_path / "u2.csv", UNIT_HEADER, renamed))
        summary = registry.import_units(session, book, table, "县妇联", NOW)
    assert (summary.created, summary.updated) == (0, 1)
    with transaction(loaded) as session:
        unit = session.scalar(select(Unit).where(Unit.code == "101"))
        assert unit and unit.name == "东山镇(新)" and unit.active_to == date(2021, 3, 1)
    assert count(loaded, Unit) == 4


def test_a_replaced_event_keeps_its_history_and_only_the_new_version_counts(
    loaded: Engine, book: RuleBook, tmp_path: Path
) -> None:
    first = write_csv(
        tmp_path / "e1.csv",
        EVENT_HEADER,
        [("102", "hearing", "2021-01-20", "", "听取汇报", "", "", "h1")],
    )
    again = write_csv(
        tmp_path / "e2.csv",
        EVENT_HEADER,
        [("102", "hearing", "2020-12-20", "", "更正日期", "", "", "h1")],
    )
    import_events(loaded, book, first)
    assert statuses(loaded, book, "township-hearing", "102")["2021-B1"] == "met"
    summary = import_events(loaded, book, again)
    assert (summary.created, summary.updated) == (0, 1)
    assert count(loaded, Event) == 2
    result = statuses(loaded, book, "township-hearing", "102")
    assert result["2020-B6"] == "met" and result["2021-B1"] == "missed"


def test_reimporting_the_same_rows_changes_nothing(
    loaded: Engine, book: RuleBook, tmp_path: Path
) -> None:
    rows = [("101", "hearing;study", "2021-02-02", "09:30", "党委会", "fulian_chair", "", "m1")]
    path = write_csv(tmp_path / "e.csv", EVENT_HEADER, rows)
    import_events(loaded, book, path)
    summary = import_events(loaded, book, path)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 1)
    assert count(loaded, Event) == 1


def test_a_void_event_stops_counting_but_stays_recorded(
    loaded: Engine, book: RuleBook, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "e.csv",
        EVENT_HEADER,
        [("101", "hearing", "2021-02-02", "", "听取汇报", "", "", "")],
    )
    event_id = import_events(loaded, book, path).ids[0]
    with transaction(loaded) as session:
        registry.void_event(session, event_id, "录入错误", "admin", NOW)
    assert statuses(loaded, book, "township-hearing")["2021-B1"] == "missed"
    assert count(loaded, Event) == 1
    with pytest.raises(InputError, match="already void"), transaction(loaded) as session:
        registry.void_event(session, event_id, "again", "admin", NOW)


def test_events_import_from_xlsx_with_date_cells(
    loaded: Engine, book: RuleBook, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(EVENT_HEADER))
    sheet.append(["101", "funding", datetime(2021, 3, 1), None, "经费", None, 10000, "f1"])
    workbook.save(tmp_path / "events.xlsx")
    import_events(loaded, book, tmp_path / "events.xlsx")
    assert statuses(loaded, book, "township-funding")["2021"] == "met"


def test_a_csv_saved_by_excel_in_gb18030_is_read(
    loaded: Engine, book: RuleBook, tmp_path: Path
) -> None:
    path = tmp_path / "gbk.csv"
    lines = [",".join(EVENT_HEADER), "101,hearing,2021年2月2日,,听取汇报,,,g1"]
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    import_events(loaded, book, path)
    assert statuses(loaded, book, "township-hearing")["2021-B1"] == "met"


# --- bad input: one problem naming file, row and field; nothing written ----------------------

BAD_EVENTS = [
    (("101", "hearing", "2021-01-01", "", "长" * 501, "", "", "x"), "title", "longer than 500"),
    (("101", "hearing", "2021-01-01", "", "", "", "", "r" * 201), "ref", "longer than 200"),
    (("999", "hearing", "2021-01-01", "", "", "", "", "x"), "unit", "unknown unit '999'"),
    (("101", "gossip", "2021-01-01", "", "", "", "", "x"), "kinds", "unknown event kind"),
    (
        ("101", "party_meeting", "2021-01-01", "", "", "mayor", "", "x"),
        "attended",
        "unknown role 'mayor'",
    ),
    (("101", "hearing", "2021-02-30", "", "", "", "", "x"), "date", "no such day"),
    (("101", "hearing", "yesterday", "", "", "", "", "x"), "date", "bad date"),
    (("101", "funding", "2021-01-01", "", "", "", "-5", "x"), "amount", "negative amount"),
    (("101", "funding", "2021-01-01", "", "", "", "lots", "x"), "amount", "bad amount"),
    (("101", "hearing", "2021-01-01", "25:00", "", "", "", "x"), "time", "bad time"),
    (("101", "hearing", "1999-01-01", "", "", "", "", "x"), "date", "before the unit became"),
]


@pytest.mark.parametrize(("row", "field", "message"), BAD_EVENTS)
def test_a_bad_event_row_refuses_the_whole_import(
    loaded: Engine, book: RuleBook, tmp_path: Path, row: tuple[str, ...], field: str, message: str
) -> None:
    good = ("101", "hearing", "2021-01-05", "", "好的一行", "", "", "ok")
    path = write_csv(tmp_path / "bad.csv", EVENT_HEADER, [good, row])
    with pytest.raises(InputError) as raised:
        import_events(loaded, book, path)
    problems = [str(problem) for problem in raised.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:3: {field}: ") and message in problems[0]
    assert count(loaded, Event) == 0


def test_an_event_after_a_unit_ceased_is_refused(
    loaded: Engine, book: RuleBook, tmp_path: Path
) -> None:
    with transaction(loaded) as session:
        ceased = [("103", "旧乡", "township", "100", "2000-01-01", "2021-03-01", "")]
        table = read_table(write_csv(tmp_path / "u.csv", UNIT_HEADER, ceased))
        registry.import_units(session, book, table, "县妇联", NOW)
    path = write_csv(
        tmp_path / "e.csv", EVENT_HEADER, [("103", "hearing", "2021-04-01", "", "", "", "", "")]
    )
    with pytest.raises(InputError, match=r"e\.csv:2: date: 2021-04-01 is after the unit ceased"):
        import_events(loaded, book, path)


BAD_UNITS = [
    (
        [("1", "甲", "county", "", "", "", ""), ("1", "乙", "county", "", "", "", "")],
        3,
        "code",
        "duplicate unit code '1'",
    ),
    ([("1", "甲", "province", "", "", "", "")], 2, "kind", "unknown unit kind 'province'"),
    ([("1", "甲", "township", "404", "", "", "")], 2, "parent", "unknown parent unit '404'"),
    (
        [("1", "甲", "township", "2", "", "", ""), ("2", "乙", "township", "1", "", "", "")],
        2,
        "parent",
        "its own ancestor",
    ),
    ([("1", "甲", "county", "", "2021-13-01", "", "")], 2, "active_from", "bad date"),
    ([("1", "甲", "county", "", "2021-05-01", "2021-04-01", "")], 2, "active_to", "before"),
    ([("", "甲", "county", "", "", "", "")], 2, "code", "is required"),
    ([("1", "甲" * 201, "county", "", "", "", "")], 2, "name", "longer than 200 characters"),
]


@pytest.mark.parametrize(("rows", "row", "field", "message"), BAD_UNITS)
def test_a_bad_unit_row_refuses_the_whole_import(
    engine: Engine,
    book: RuleBook,
    tmp_path: Path,
    rows: list[tuple[str, ...]],
    row: int,
    field: str,
    message: str,
) -> None:
    path = write_csv(tmp_path / "units.csv", UNIT_HEADER, rows)
    with pytest.raises(InputError) as raised, transaction(engine) as session:
        registry.import_units(session, book, read_table(path), "县妇联", NOW)
    first = str(raised.value.problems[0])
    assert first.startswith(f"{path}:{row}: {field}: ") and message in first
    assert count(engine, Unit) == 0


def test_a_unit_moved_under_its_own_descendant_is_a_cycle(
    loaded: Engine, book: RuleBook, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "u.csv",
        UNIT_HEADER,
        [("101", "东山镇", "township", "10101", "2000-01-01", "", "")],
    )
    with pytest.raises(InputError, match="own ancestor"), transaction(loaded) as session:
        registry.import_units(session, book, read_table(path), "县妇联", NOW)


BAD_PEOPLE = [
    (("王", "wang@example.org", "", "404", "clerk", "", ""), "unit", "unknown unit"),
    (("王", "wang@example.org", "", "101", "king", "", ""), "role", "unknown role 'king'"),
    (("王", "not-an-address", "", "101", "clerk", "", ""), "email", "bad e-mail"),
    (("王", "wang@example.org", "", "101", "clerk", "2021-02-31", ""), "from", "no such day"),
]


@pytest.mark.parametrize(("row", "field", "message"), BAD_PEOPLE)
def test_a_bad_people_row_refuses_the_whole_import(
    loaded: Engine, book: RuleBook, tmp_path: Path, row: tuple[str, ...], field: str, message: str
) -> None:
    path = write_csv(
        tmp_path / "people.csv",
        PEOPLE_HEADER,
        [("新人", "new@example.org", "", "101", "clerk", "", ""), row],
    )
    with pytest.raises(InputError) as raised, transaction(loaded) as session:
        registry.import_people(session, book, read_table(path), "县妇联", NOW)
    assert str(raised.value).startswith(f"{path}:3: {field}: ") and message in str(raised.value)
    assert count(loaded, Person) == 4


def test_a_malformed_csv_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('unit,kinds,date\n101,"hearing,2021-01-01\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.csv:\d+: malformed CSV"):
        read_table(path)


def test_every_missing_column_is_named_in_one_line(
    tmp_path: Path, book: RuleBook, engine: Engine
) -> None:
    path = write_csv(tmp_path / "units.csv", ("code", "name", "kind"), [("1", "甲", "county")])
    expected = (
        r"units\.csv:1: missing columns 'parent' \(上级\), 'active_from' \(启用日期\), "
        r"'active_to' \(停用日期\) in the header row$"
    )
    with (
        pytest.raises(InputError, match=expected),
        transaction(engine) as session,
    ):
        registry.import_units(session, book, read_table(path), "县妇联", NOW)


# --- people imports stay in the importer's units ----------------------------------------------


def township_101(engine: Engine) -> set[int]:
    with transaction(engine) as session:
        return set(session.scalars(select(Unit.id).where(Unit.code.in_(["101", "10101"]))))


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (("周主席(改)", "zhou@example.org", "", "101", "clerk", "", ""), "name"),
        (("周主席", "zhou@example.org", "13800000000", "10101", "clerk", "", ""), "phone"),
    ],
)
def test_a_clerk_neither_renames_nor_rephones_a_person_of_another_township(
    loaded: Engine, book: RuleBook, tmp_path: Path, row: tuple[str, ...], field: str
) -> None:
    mine = ("新人", "new@example.org", "", "101", "clerk", "", "")
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, [mine, row])
    with pytest.raises(InputError) as raised, transaction(loaded) as session:
        registry.import_people(session, book, read_table(path), "刘主席", NOW, township_101(loaded))
    assert [str(p) for p in raised.value.problems] == [
        f"{path}:3: {field}: 周主席 holds roles outside your units: ask the county to change it"
    ]
    with transaction(loaded) as session:
        zhou = session.scalar(select(Person).where(Person.email == "zhou@example.org"))
        assert zhou is not None and (zhou.name, zhou.phone) == ("周主席", None)
    assert count(loaded, Person) == 4 and count(loaded, RoleAssignment) == 4


def test_a_clerk_gives_a_role_in_her_units_to_a_person_known_elsewhere(
    loaded: Engine, book: RuleBook, tmp_path: Path
) -> None:
    row = ("周主席", "zhou@example.org", "", "10101", "clerk", "2021-01-01", "")
    path = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, [row])
    with transaction(loaded) as session:
        table = read_table(path)
        summary = registry.import_people(session, book, table, "刘主席", NOW, township_101(loaded))
    assert str(summary) == "1 created, 0 updated, 0 unchanged"
    assert count(loaded, Person) == 4 and count(loaded, RoleAssignment) == 5
