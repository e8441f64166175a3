"""The quick ways of an events import give what the plain ways gave: the key and digest hash the
same JSON text as ``json.dumps`` (databases keep them), the trail's state is ``json.dumps`` of
its snapshot, and the parser's quick reading of a good row returns what reading it cell by cell
returns, with the same problems for every other row."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core import jsontext
from scheduler.core.records import (
    EVENT_COLUMNS,
    EventParser,
    EventRow,
    Table,
    UnitSpan,
    event_digest,
    event_key,
)
from scheduler.core.rules import RuleBook
from scheduler.store import evidence, trail

TEXT = st.text(max_size=12)
LABELS = st.lists(TEXT, max_size=4)
DAYS = st.dates(date(1990, 1, 1), date(2040, 12, 31))
AMOUNTS = st.none() | st.decimals(0, 10**9, places=2, allow_nan=False, allow_infinity=False)


def digest_as_json(
    day: date, time: str | None, title: str, amount: Decimal | None, kinds: Collection[str],
    attended: Collection[str],
) -> str:  # fmt: skip
    money = "" if amount is None else f"{Decimal(amount):.2f}"
    parts = [day.isoformat(), time or "", title, money, sorted(set(kinds)), sorted(set(attended))]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def key_as_json(
    ref: str | None, day: date, time: str | None, kinds: Collection[str], title: str
) -> str:
    parts = ["ref", ref] if ref else ["row", day.isoformat(), time or "", *sorted(set(kinds))]
    parts += [] if ref else [title.strip()]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


@given(DAYS, st.none() | TEXT, TEXT, AMOUNTS, LABELS, LABELS)
def test_the_digest_hashes_the_json_text_of_the_event(
    day: date, time: str | None, title: str, amount: Decimal | None, kinds: list[str],
    attended: list[str],
) -> None:  # fmt: skip
    expected = digest_as_json(day, time, title, amount, kinds, attended)
    assert event_digest(day, time, title, amount, kinds, attended) == expected


@given(st.none() | TEXT, DAYS, st.none() | TEXT, LABELS, TEXT)
def test_the_key_hashes_the_json_text_of_the_ref_or_the_natural_key(
    ref: str | None, day: date, time: str | None, kinds: list[str], title: str
) -> None:
    assert event_key(ref, day, time, kinds, title) == key_as_json(ref, day, time, kinds, title)


def test_a_known_digest_and_key_stay_as_databases_keep_them() -> None:
    day = date(2026, 1, 7)
    digest = event_digest(day, "09:00", "县委常委会会议", None, ["party_meeting"], [])
    assert digest == digest_as_json(day, "09:00", "县委常委会会议", None, ["party_meeting"], [])
    assert (
        event_key("demo-2026-001", day, None, [], "")
        == hashlib.sha256(b'["ref", "demo-2026-001"]').hexdigest()
    )


ROWS = st.builds(
    EventRow, st.integers(2, 10**6), TEXT, LABELS.map(tuple), DAYS, st.none() | TEXT, TEXT,
    LABELS.map(tuple), AMOUNTS, st.none() | TEXT,
)  # fmt: skip


@given(ROWS)
def test_the_trail_state_of_a_new_event_is_json_of_its_snapshot(row: EventRow) -> None:
    state = evidence._row_state(row)
    expected = json.dumps(trail.snapshot(state) or None)
    assert evidence._snapshot_json(row, row.day.isoformat()) == expected


UNITS = {
    "101": UnitSpan(None, None),
    "102": UnitSpan(date(2021, 1, 1), date(2021, 6, 30)),
    "10101": UnitSpan(date(2020, 6, 1), None),
}
GOOD = {
    "unit": ["101", "102", "10101"],
    "kinds": ["hearing", "hearing;party_meeting", "听取妇联工作汇报", "funding, hearing"],
    "date": ["2021-03-02", "2021/3/2", "2021年5月1日", " 2021-04-01 "],
    "time": ["", "09:30", "9:30", "14:00:00"],
    "title": ["", "党委会", " 党委会 "],
    "attended": ["", "fulian_chair", "fulian_chair;party_secretary"],
    "amount": ["", "800", "1,200.50", "¥30", "12.345"],
    "ref": ["", "", "a1", "a2", "a3"],
}  # fmt: skip
BAD = {
    "unit": ["", "999", "1" * 70],
    "kinds": ["", ";", "nokind", "hearing;hearing"],
    "date": ["2020-01-01", "2021-07-01", "", "x", "2021-02-30", "2021-03-02 09:30"],
    "time": ["25:00", "09:30："],
    "title": ["x" * 501],
    "attended": ["nobody", " ; ", "fulian_chair;fulian_chair"],
    "amount": ["-5", "abc", "NaN"],
    "ref": ["r" * 201],
}  # fmt: skip
CELL_ROWS = st.lists(  # a column's cell is good some nine times in ten
    st.fixed_dictionaries(
        {c: st.sampled_from(GOOD[c] * (3 * len(BAD[c])) + BAD[c]) for c in EVENT_COLUMNS}
    ),
    max_size=12,
)


@settings(max_examples=300)
@given(CELL_ROWS)
def test_the_quick_reading_gives_the_rows_and_problems_of_the_cell_by_cell_one(
    book: RuleBook, cells: list[dict[str, str]]
) -> None:
    numbered = tuple(enumerate(cells, start=2))

    def parsed(quick: bool) -> tuple[list[EventRow], list[str]]:
        parser = EventParser(
            Table("e.csv", EVENT_COLUMNS, numbered), book.event_kinds, book.roles, UNITS
        )
        if not quick:
            parser._plain = lambda number, cells: None  # type: ignore[method-assign]
        rows = parser.feed(parser.table.rows)
        return rows, [
            problem.said(language) for problem in parser.problems for language in ("en", "zh")
        ]

    assert parsed(quick=True) == parsed(quick=False)


def test_a_plain_good_row_is_read_the_quick_way(book: RuleBook) -> None:
    cells = {column: GOOD[column][1] for column in EVENT_COLUMNS}
    parser = EventParser(Table("e.csv", EVENT_COLUMNS, ()), book.event_kinds, book.roles, UNITS)
    row = parser._plain(2, cells)
    assert row is not None and row.kinds == ("hearing", "party_meeting")
    assert parser._plain(3, cells) is None  # the same event again: refused cell by cell


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_the_texts_are_json_dumps_of_the_value(value: object) -> None:
    assert jsontext.dumps(value) == json.dumps(value)
    assert jsontext.dumps_unicode(value) == json.dumps(value, ensure_ascii=False)
