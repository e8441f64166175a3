"""The dashboard counted by SQL over the stored obligations (`views.stored_dashboard`,
`scheduler.store.tallies`) shows exactly the blocks the evaluation gives
(`views.evaluated_dashboard`): on the demo county in SQLite and PostgreSQL, for every scope a
user can have, every unit opened, one rule or all, and as-of days across the year; the page
reads it only while the stored rows are up to date."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from scheduler.core.rules import RuleBook
from scheduler.store import obligations, registry, reports, tallies
from scheduler.store.database import transaction
from scheduler.web import views

YEAR = 2026
NOW = datetime(2026, 9, 15, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
DAYS = [date(2026, 1, 1), date(2026, 3, 31), date(2026, 7, 1), date(2026, 9, 15), date(2027, 2, 1)]


def _codes(engine: Engine) -> dict[str, list[str]]:
    with transaction(engine) as session:
        units = reports.unit_facts(session)
    codes: dict[str, list[str]] = {}
    for unit in units:
        codes.setdefault(unit.kind, []).append(unit.code)
    return codes


def _both(
    engine: Engine, book: RuleBook, scope: str | None, opened: str | None, rule: str | None,
    as_of: date,
) -> tuple[list[views.DashBlock], list[views.DashBlock]]:  # fmt: skip
    selection = reports.year_selection(YEAR, as_of, scope, rule)
    with transaction(engine) as session:
        stored = views.stored_dashboard(session, book, selection, opened)
        evaluated = views.evaluated_dashboard(session, book, selection, opened)
    return stored, evaluated


@pytest.mark.parametrize("as_of", DAYS)
def test_the_county_with_each_township_opened(
    stored_demo: Engine, book: RuleBook, as_of: date
) -> None:
    codes = _codes(stored_demo)
    for opened in [None, *codes["township"][:3], codes["village"][0], "no-such-unit"]:
        stored, evaluated = _both(stored_demo, book, None, opened, None, as_of)
        assert stored == evaluated, (opened, as_of)
    assert any(block.rows for block in stored)
    assert any(block.totals for block in stored)


@pytest.mark.parametrize("as_of", [date(2026, 5, 31), date(2026, 9, 15)])
def test_every_scope_and_one_rule(stored_demo: Engine, book: RuleBook, as_of: date) -> None:
    codes = _codes(stored_demo)
    township, village = codes["township"][1], codes["village"][3]
    cases = [
        (codes["county"][0], None),
        (township, None),
        (township, village),
        (village, None),
        (township, codes["township"][2]),  # opened outside the scope
    ]
    for scope, opened in cases:
        for rule in [None, "township-hearing", book.rules[-1].id]:
            stored, evaluated = _both(stored_demo, book, scope, opened, rule, as_of)
            assert stored == evaluated, (scope, opened, rule)


def test_the_page_reads_the_stored_rows_only_while_they_are_current(
    stored_demo: Engine, book: RuleBook
) -> None:
    """A change made without the rulebook marks its unit: the dashboard evaluates (the same
    blocks) until the next settle."""
    selection = reports.year_selection(YEAR, NOW.date())
    with transaction(stored_demo) as session:
        township = _codes(stored_demo)["township"][0]
        cells = {"unit": township, "kinds": "hearing", "date": "2026-09-01", "title": "听取汇报"}
        event = registry.add_event(session, book, cells, "clerk", NOW)
        registry.void_event(session, event, "录错", "clerk", NOW)  # no rulebook: marked
        assert not obligations.current(session, book, selection.last)
        shown = views.dashboard(session, book, None, YEAR, None, township, NOW.date())
        assert shown == views.evaluated_dashboard(session, book, selection, township)
        obligations.settle(session, book, NOW.date())
        assert obligations.current(session, book, selection.last)
        assert views.dashboard(session, book, None, YEAR, None, township, NOW.date()) == shown
        session.rollback()


@pytest.mark.parametrize("as_of", [DAYS[1], DAYS[3]])
def test_the_metrics_counts_by_rule_and_status_are_the_evaluations(
    stored_demo: Engine, book: RuleBook, as_of: date
) -> None:
    """``huiqi_obligations`` (`scheduler.web.metrics`) counts the stored rows by SQL while they
    are current: the same counts as the evaluation's."""
    selection = reports.year_selection(YEAR, as_of)
    rule_ids = [rule.id for rule in book.rules]
    with transaction(stored_demo) as session:
        counted = tallies.status_counts(session, rule_ids, as_of, selection.first, selection.last)
        found = reports.evaluate_selection(session, book, selection)[2]
    assert counted == Counter((o.rule_id, o.status) for o in found)
    assert sum(counted.values()) > 500
