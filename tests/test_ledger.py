"""The kept entries (`scheduler.core.ledger`) state on any as-of day exactly what the engine
(`scheduler.core.compliance.evaluate`) gives on that day: random events, waivers, review states
and as-of days on the sample ruleset of `tests.ledgerfacts`."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core.compliance import EventFacts, UnitFacts, WaiverFacts, evaluate
from scheduler.core.ledger import ledger, obligations_on
from tests.ledgerfacts import (
    FIRST_DAY,
    HORIZON,
    amounts,
    attended,
    days,
    kinds,
    reviews,
    sample_book,
)

COUNTY = UnitFacts(1, "100", "县", "county", None)
EAST = UnitFacts(2, "101", "东", "township", 1)
WEST = UnitFacts(3, "102", "西", "township", 1, date(2021, 3, 1), date(2022, 4, 30))
UNITS = (COUNTY, EAST, WEST)


@st.composite
def events(draw: st.DrawFn) -> list[EventFacts]:
    rows = draw(
        st.lists(
            st.tuples(st.sampled_from(UNITS), days, kinds, amounts, attended, reviews),
            max_size=30,
        )
    )
    return [
        EventFacts(number, unit.id, day, kind, amount, who, review)
        for number, (unit, day, kind, amount, who, review) in enumerate(rows, start=1)
    ]


@settings(max_examples=300, deadline=None)
@given(
    found=events(),
    as_of=days,
    first=days,
    span=st.integers(0, 400),
    mode=st.sampled_from(["off", "advisory", "required"]),
    waived=st.lists(
        st.tuples(st.sampled_from(UNITS), st.sampled_from(["hearing", "report"]), days), max_size=3
    ),
)
def test_entries_state_what_the_engine_gives_on_any_day(
    found: list[EventFacts],
    as_of: date,
    first: date,
    span: int,
    mode: str,
    waived: list[tuple[UnitFacts, str, date]],
) -> None:
    book = sample_book(mode)
    rules = list(book.rules)
    last = min(first + timedelta(days=span), HORIZON)
    labels = {"hearing": lambda d: f"{d.year}-B{(d.month - 1) // 2 + 1}",
              "report": lambda d: f"{d.year}-H{(d.month - 1) // 6 + 1}"}  # fmt: skip
    waivers = {
        (unit.id, rule, labels[rule](day)): WaiverFacts("因故", "县妇联")
        for unit, rule, day in waived
    }
    entries = ledger(rules, UNITS, found, waivers, HORIZON, mode)
    expected = evaluate(rules, UNITS, found, waivers, as_of, first, last, mode)
    assert list(obligations_on(entries, as_of, first, last, mode)) == expected


def test_a_window_missed_opens_the_next_only_after_its_grace() -> None:
    """The rolling window after a missed one starts on the missed one's due but exists only
    once that one's grace has passed (the engine does not build it before)."""
    rules = [sample_book().rule("rolling")]
    entries = ledger(rules, (EAST,), [], {}, HORIZON)
    first, second = entries[0], entries[1]
    assert second.period.start == first.due
    assert second.opens_on == first.grace_end + timedelta(days=1)
    inside_grace = first.grace_end
    on = list(obligations_on(entries, inside_grace, FIRST_DAY, HORIZON))
    assert on == evaluate(rules, (EAST,), [], {}, inside_grace, FIRST_DAY, HORIZON)
    assert len(on) == 1
