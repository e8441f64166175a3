"""Streamed output: the same bytes as the one-piece encoders, whatever the chunk size."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from scheduler.cli.streams import counted, csv_bytes, json_array

# JSON values as the commands write them (floats below 1e-4 aside: see the module's docstring)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or abs(x) >= 1e-4)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.lists(VALUES, max_size=12), st.integers(1, 5))
def test_a_json_array_is_what_json_dumps_writes_with_indent_1(items: list[Any], size: int) -> None:
    expected = (json.dumps(items, ensure_ascii=False, indent=1) + "\n").encode()
    assert b"".join(json_array(items, size)) == expected


ROWS = st.lists(st.lists(st.text() | st.integers() | st.none(), min_size=1, max_size=4), max_size=9)


@given(ROWS, st.integers(1, 4), st.sampled_from(["utf-8", "utf-8-sig"]))
def test_csv_is_what_one_writer_writes(rows: list[list[Any]], size: int, encoding: str) -> None:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    assert b"".join(csv_bytes(rows, encoding, size)) == out.getvalue().encode(encoding)


@given(st.lists(st.integers()), st.integers(min_value=1, max_value=5))
def test_counted_passes_every_item_and_tells_them_all(items: list[int], every: int) -> None:
    told: list[int] = []
    assert list(counted(items, told.append, every)) == items
    assert sum(told) == len(items)
    assert all(0 < count <= every for count in told)
