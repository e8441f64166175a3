"""Reads from the stored obligations (`scheduler.store.reports.stored_selection`) give what
the evaluation from the facts gives, on the demo county, for the whole county, a township and
its villages, one rule, and as-of days across the year; they answer only while the stored rows
are up to date."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from scheduler.core.rules import RuleBook
from scheduler.demo import county as demo
from scheduler.store import obligations, registry, reports
from scheduler.store.database import make_engine, migrate, transaction
from tests.conftest import HuiqiRunner

YEAR = 2026
NOW = datetime(2026, 9, 15, 9, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def demo_county(tmp_path_factory: pytest.TempPathFactory, book: RuleBook) -> Engine:
    path = Path(tmp_path_factory.mktemp("stored")) / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with transaction(engine) as session:
        demo.load_demo(session, book, demo.generate(year=YEAR, as_of=NOW.date()), NOW)
        obligations.settle(session, book, NOW.date())
    return engine


@pytest.mark.parametrize("as_of", [date(2026, 1, 1), date(2026, 5, 31), date(2026, 9, 15)])
@pytest.mark.parametrize("unit", [None, "township"])
@pytest.mark.parametrize("rule", [None, "township-hearing"])
def test_stored_reads_equal_the_evaluation(
    demo_county: Engine, book: RuleBook, as_of: date, unit: str | None, rule: str | None
) -> None:
    with transaction(demo_county) as session:
        code = None
        if unit:
            code = next(u.code for u in reports.unit_facts(session) if u.kind == unit)
        selection = reports.year_selection(YEAR, as_of, code, rule)
        stored = reports.stored_selection(session, book, selection)
        evaluated = reports.evaluate_selection(session, book, selection)
    assert stored is not None
    assert stored == evaluated
    assert stored[2], "the selection holds obligations"


def test_stored_reads_follow_a_change_and_wait_while_units_are_marked(
    demo_county: Engine, book: RuleBook
) -> None:
    """A recorded event is in the stored reads at once; a void without the rulebook marks its
    unit and the stored reads refuse (None: the caller evaluates) until the next settle."""
    selection = reports.year_selection(YEAR, NOW.date())
    with transaction(demo_county) as session:
        before = reports.stored_selection(session, book, selection)
        township = next(u.code for u in reports.unit_facts(session) if u.kind == "township")
        cells = {"unit": township, "kinds": "hearing", "date": "2026-09-01", "title": "听取汇报"}
        event = registry.add_event(session, book, cells, "clerk", NOW)
        after = reports.stored_selection(session, book, selection)
        assert after == reports.evaluate_selection(session, book, selection)
        registry.void_event(session, event, "录错", "clerk", NOW)  # no rulebook: marked
        assert reports.stored_selection(session, book, selection) is None
        obligations.settle(session, book, NOW.date())
        assert reports.stored_selection(session, book, selection) == before
        session.rollback()
    assert after != before


def test_huiqi_obligations_refresh_builds_them_once(county: HuiqiRunner) -> None:
    """``huiqi obligations refresh`` computes every unit's rules the first time, then nothing
    while nothing changed."""
    first = county("--lang", "en", "obligations", "refresh")
    again = county("obligations", "refresh")
    computed = int(first.stdout.split(": ")[1].split()[0])
    assert computed > 0
    assert again.stdout.strip() == "已存义务已更新：计算了 0 组单位与规则"


@pytest.mark.parametrize("as_of", [date(2026, 2, 1), date(2026, 9, 15), date(2027, 1, 10)])
def test_one_units_rows_come_from_the_stored_obligations_as_evaluated(
    demo_county: Engine, book: RuleBook, as_of: date
) -> None:
    """A unit page's rows (one unit, not its subtree) are read from the stored obligations
    of that unit alone, and are the evaluation's rows."""
    with transaction(demo_county) as session:
        units = reports.unit_facts(session)
        sample = [next(u for u in units if u.kind == kind) for kind in ("county", "township")]
        sample += [u for u in units if u.kind == "village"][:5]
        for unit in sample:
            for rule in [None, "township-hearing", "village-funding"]:
                selection = reports.Selection(as_of, date(YEAR, 1, 1), date(YEAR, 12, 31),
                                              unit.code, False, rule)  # fmt: skip
                assert reports._scoped_stored(session, book, selection) is not None
                stored = reports.status_rows(session, book, selection)
                evaluated = reports._status_rows(
                    *reports.evaluate_selection(session, book, selection)
                )
                assert stored == evaluated, (unit.code, rule)
        assert any(reports.status_rows(session, book, reports.Selection(
            as_of, date(YEAR, 1, 1), date(YEAR, 12, 31), sample[1].code)))  # fmt: skip


@pytest.mark.parametrize("as_of", [date(2026, 3, 1), date(2026, 9, 15)])
def test_a_subtrees_obligations_come_from_the_stored_obligations_as_evaluated(
    demo_county: Engine, book: RuleBook, as_of: date
) -> None:
    """The API's, the command line's and the 台账's selections of a unit and its subtree load
    that subtree's units and stored rows only, and give what the evaluation gives."""
    with transaction(demo_county) as session:
        units = reports.unit_facts(session)
        roots = [next(u for u in units if u.kind == kind) for kind in ("county", "township")]
        for root in roots:
            for rule in [None, "village-funding", "village-chair-attendance"]:
                selection = reports.Selection(as_of, date(YEAR, 1, 1), date(YEAR, 12, 31),
                                              root.code, True, rule)  # fmt: skip
                stored = reports._scoped_stored(session, book, selection)
                assert stored is not None
                assert stored == reports.evaluate_selection(session, book, selection)
                assert reports.selected_obligations(session, book, selection) == stored
        assert stored[2], "the township's villages owe the rule"


def test_a_build_in_small_batches_of_units_writes_the_same_rows(
    demo_county: Engine, book: RuleBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`obligations.settle` computes every unit `UNITS_AT_ONCE` units at a time: in batches of
    seven units the first build writes the same obligations, allocation and fingerprints."""
    tables = ("obligation_events", "obligations", "obligation_sources", "obligation_rules")
    with transaction(demo_county) as session:
        before = _stored_rows(session)
        for table in tables:
            session.execute(text(f"DELETE FROM {table}"))
        monkeypatch.setattr(obligations, "UNITS_AT_ONCE", 7)
        assert obligations.settle(session, book, NOW.date()) > 100
        after = _stored_rows(session)
        session.rollback()
    assert after == before
    assert before[0] and before[1]


def _stored_rows(session: Session) -> list[list[Any]]:
    listed = [
        "SELECT unit_id, rule_id, position, kind, label, start, due, required, satisfied_on, "
        "opens_on, hopeful_on FROM obligations ORDER BY unit_id, rule_id, position",
        "SELECT o.unit_id, o.rule_id, o.position, e.position, e.event_id, e.day, e.value FROM "
        "obligation_events e JOIN obligations o ON o.id = e.obligation_id ORDER BY 1, 2, 3, 4",
        "SELECT unit_id, rule_id, fingerprint FROM obligation_sources ORDER BY 1, 2",
    ]
    return [list(session.execute(text(query)).all()) for query in listed]
