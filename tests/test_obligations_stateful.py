"""The stored obligations (`scheduler.store.obligations`) kept up to date through the store's own
write paths equal a rebuild from scratch through the pure engine, after every step of random
sequences of changes: events recorded, replaced and voided (with and without the rulebook at
hand), waivers granted directly or on request, review decisions, units added and changed, the
as-of day moved (hypothesis stateful testing on a small county, SQLite)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import Engine, select

from scheduler.core.compliance import evaluate
from scheduler.core.ledger import ledger, obligations_on
from scheduler.core.problems import InputError
from scheduler.core.records import UNIT_COLUMNS, Table
from scheduler.core.rules import RuleBook
from scheduler.store import obligations, registry, reports, reviews, waivers
from scheduler.store.database import make_engine, migrate, transaction
from scheduler.store.facts import event_facts, unit_facts, waiver_facts
from scheduler.store.models import Event, Unit
from scheduler.store.status_stream import StoredStatus
from tests.ledgerfacts import HORIZON, amounts, attended, days, kinds, sample_book

TODAY = date(2021, 6, 1)  # the day the rows are computed on: their horizon is the end of 2022
NOW = datetime(2021, 6, 1, 9, tzinfo=UTC)
TEMPLATE = Path(tempfile.mkdtemp(prefix="huiqi-obligations-")) / "template.db"
COUNTY = [
    {"code": "100", "name": "县", "kind": "county", "parent": ""},
    {"code": "101", "name": "东", "kind": "township", "parent": "100"},
    {"code": "102", "name": "西", "kind": "township", "parent": "100", "active_from": "2021-03-01"},
]
LABELS = {"hearing": lambda d: f"{d.year}-B{(d.month - 1) // 2 + 1}",
          "report": lambda d: f"{d.year}-H{(d.month - 1) // 6 + 1}"}  # fmt: skip


def _units_table(rows: list[dict[str, str]]) -> Table:
    cells = [(n, {c: row.get(c, "") for c in UNIT_COLUMNS}) for n, row in enumerate(rows, 2)]
    return Table("units.csv", UNIT_COLUMNS, tuple(cells))


def _template() -> Path:
    if not TEMPLATE.exists():
        engine = make_engine(f"sqlite:///{TEMPLATE}")
        migrate(engine)
        engine.dispose()
    return TEMPLATE


class Obligations(RuleBasedStateMachine):
    """A county whose stored obligations must always equal the engine's."""

    engine: Engine
    book: RuleBook

    @initialize(mode=st.sampled_from(["off", "required"]), as_of=days)
    def county(self, mode: str, as_of: date) -> None:
        folder = Path(tempfile.mkdtemp(prefix="huiqi-machine-"))
        self.folder = folder
        shutil.copy(_template(), folder / "huiqi.db")
        self.engine = make_engine(f"sqlite:///{folder / 'huiqi.db'}")
        self.book = sample_book(mode)
        self.as_of = as_of
        self.events: list[int] = []
        self.codes = ["100", "101", "102"]
        self.titles = 0
        with transaction(self.engine) as session:
            registry.import_units(session, self.book, _units_table(COUNTY), "admin", NOW)
            assert obligations.settle(session, self.book, TODAY) > 0  # the first build
        self.settled = True  # every change since the last check had the rulebook

    def teardown(self) -> None:
        if hasattr(self, "engine"):
            self.engine.dispose()
            shutil.rmtree(self.folder, ignore_errors=True)

    # ------------------------------------------------------------------------------------------
    # Changes, each through the store's own write path

    @rule(
        unit=st.sampled_from(["100", "101", "102"]),
        day=days,
        kind=kinds,
        amount=amounts,
        who=attended,
    )
    def record(
        self, unit: str, day: date, kind: frozenset[str], amount: object, who: object
    ) -> None:
        self.titles += 1
        cells = {
            "unit": unit, "kinds": ";".join(sorted(kind)), "date": day.isoformat(),
            "title": f"会议{self.titles}", "attended": ";".join(sorted(who)),  # type: ignore[call-overload]
            "amount": "" if amount is None else str(amount),
        }  # fmt: skip
        try:
            with transaction(self.engine) as session:
                self.events.append(registry.add_event(session, self.book, cells, "clerk", NOW))
        except InputError:
            pass  # before the unit's start: refused, nothing written

    @precondition(lambda self: self.events)
    @rule(pick=st.integers(0, 1000), day=days)
    def replace(self, pick: int, day: date) -> None:
        event_id = self.events.pop(pick % len(self.events))
        try:
            self.events.append(self._replace(event_id, day))
        except InputError:
            self.events.append(event_id)  # before its unit's start: refused, nothing written

    def _replace(self, event_id: int, day: date) -> int:
        with transaction(self.engine) as session:
            code = session.scalar(
                select(Unit.code).join(Event, Event.unit_id == Unit.id).where(Event.id == event_id)
            )
            cells = {"unit": code, "kinds": "hearing;funding", "date": day.isoformat(),
                     "title": "改", "amount": "60"}  # fmt: skip
            return registry.replace_event(session, self.book, event_id, cells, "clerk", NOW)

    @precondition(lambda self: self.events)
    @rule(pick=st.integers(0, 1000), with_book=st.booleans())
    def void(self, pick: int, with_book: bool) -> None:
        event_id = self.events.pop(pick % len(self.events))
        with transaction(self.engine) as session:
            book = self.book if with_book else None
            registry.void_event(session, event_id, "录错", "clerk", NOW, book)
        self.settled = self.settled and with_book

    @rule(unit=st.sampled_from(["101", "102"]), rule_id=st.sampled_from(["hearing", "report"]),
          day=days, on_request=st.booleans())  # fmt: skip
    def waive(self, unit: str, rule_id: str, day: date, on_request: bool) -> None:
        label = LABELS[rule_id](day)
        try:
            with transaction(self.engine) as session:
                if not on_request:
                    waivers.waive(session, self.book, unit, rule_id, label, "因故", "admin", NOW)
                    return
                clerk = waivers.Actor("clerk")
                asked = waivers.request(
                    session, self.book, unit, rule_id, label, "因故", clerk, NOW
                )
                waivers.decide(session, asked.id, True, "", waivers.Actor("admin"), NOW, self.book)
        except InputError:
            pass  # waived already, or a period the unit does not owe

    @precondition(lambda self: self.events and self.book.review_mode == "required")
    @rule(pick=st.integers(0, 1000), accept=st.booleans(), with_book=st.booleans())
    def review(self, pick: int, accept: bool, with_book: bool) -> None:
        event_id = self.events[pick % len(self.events)]
        try:
            with transaction(self.engine) as session:
                book = self.book if with_book else None
                reviews.decide(session, event_id, accept, "" if accept else "补材料", "admin",
                               NOW, book=book)  # fmt: skip
        except InputError:
            return  # an event of the county: nobody reviews it
        self.settled = self.settled and with_book

    @rule(start=st.none() | days, end=st.none() | days)
    def add_or_change_unit(self, start: date | None, end: date | None) -> None:
        code = f"1{len(self.codes):02d}" if len(self.codes) < 5 else self.codes[-1]
        ends = end.isoformat() if end and (not start or end >= start) else ""
        row = {"code": code, "name": "新", "kind": "township", "parent": "100",
               "active_from": start.isoformat() if start else "", "active_to": ends}  # fmt: skip
        try:
            with transaction(self.engine) as session:
                registry.import_units(session, self.book, _units_table([row]), "admin", NOW)
        except InputError:
            return  # events outside the new active dates
        if code not in self.codes:
            self.codes.append(code)

    @rule(day=days)
    def move_as_of(self, day: date) -> None:
        self.as_of = day

    # ------------------------------------------------------------------------------------------
    # The check

    @invariant()
    def stored_equals_a_rebuild(self) -> None:
        if not hasattr(self, "engine"):
            return
        book, rules = self.book, list(self.book.rules)
        with transaction(self.engine) as session:
            written = obligations.settle(session, book, TODAY)
            if self.settled:
                assert written == 0, "a change with the rulebook left pairs to compute"
            self.settled = True
            first, last = date(self.as_of.year, 1, 1), date(self.as_of.year, 12, 31)
            assert obligations.current(session, book, last)
            stored = obligations.entries(session, rules, None, date.min, HORIZON)
            units = unit_facts(session)
            kinds_ = {r.requirement.kind for r in rules}
            reviewed = book.review_mode != "off"
            every = event_facts(session, kinds_, date.min, date.max, None, reviewed)
            found = waiver_facts(session)
            selection = reports.Selection(self.as_of, first, last)
            streamed = list(StoredStatus(session, rules, self.as_of, first, last))
            dates = (self.as_of, first, last)
            paged = [o for at in range(0, len(streamed) + 3, 3)
                     for o in StoredStatus(session, rules, *dates, window=(at, 3))]  # fmt: skip
            assert paged == streamed
            listed = reports._status_rows(*reports.evaluate_selection(session, book, selection))
        assert streamed == [row.to_json() for row in listed]
        rebuilt = ledger(rules, sorted(units, key=lambda u: u.id), every, found, HORIZON,
                         book.review_mode)  # fmt: skip
        assert stored == rebuilt
        upto = [event for event in every if event.day <= self.as_of]
        expected = evaluate(rules, sorted(units, key=lambda u: u.id), upto, found, self.as_of,
                            first, last, book.review_mode)  # fmt: skip
        assert list(obligations_on(stored, self.as_of, first, last, book.review_mode)) == expected


Obligations.TestCase.settings = settings(
    max_examples=12, stateful_step_count=12, deadline=None, database=None
)
TestObligations = Obligations.TestCase


def test_a_changed_rule_is_computed_again_and_the_others_are_left() -> None:
    """A rulebook whose one rule changed computes that rule again for every unit it applies to,
    and leaves the others' rows alone."""
    folder = Path(tempfile.mkdtemp(prefix="huiqi-rules-"))
    shutil.copy(_template(), folder / "huiqi.db")
    engine = make_engine(f"sqlite:///{folder / 'huiqi.db'}")
    book = sample_book()
    with transaction(engine) as session:
        registry.import_units(session, book, _units_table(COUNTY), "admin", NOW)
        obligations.settle(session, book, TODAY)
    hearing = book.rule("hearing")
    from dataclasses import replace

    changed = replace(book, rules=tuple(
        replace(r, grace=replace(r.grace, count=20)) if r.id == "hearing" else r
        for r in book.rules
    ))  # fmt: skip
    with transaction(engine) as session:
        assert not obligations.current(session, changed, HORIZON)
        assert obligations.settle(session, changed, TODAY) == 2  # two townships owe it
        assert obligations.current(session, changed, HORIZON)
        rows = obligations.entries(session, [changed.rule("hearing")], None, date.min, HORIZON)
    assert rows and all(r.grace_end == r.due + timedelta(days=20) for r in rows)
    assert hearing.grace.count == 10
    engine.dispose()
    shutil.rmtree(folder)


def test_the_store_keeps_them_on_either_database(database_url: str) -> None:
    """On SQLite and PostgreSQL alike: a recorded event is in its obligations at once, a void
    without the rulebook marks its unit until the next settle, and the rows equal a rebuild."""
    engine = make_engine(database_url)
    migrate(engine)
    book = sample_book("required")
    rules = list(book.rules)
    with transaction(engine) as session:
        registry.import_units(session, book, _units_table(COUNTY), "admin", NOW)
        obligations.settle(session, book, TODAY)
        cells = {"unit": "101", "kinds": "hearing", "date": "2021-03-05", "title": "听取"}
        heard = registry.add_event(session, book, cells, "clerk", NOW)
        reviews.decide(session, heard, True, "", "admin", NOW, book=book)
        assert obligations.current(session, book, HORIZON)
        stored = obligations.entries(session, [book.rule("hearing")], None, date.min, HORIZON)
        served = [(e.period.label, e.satisfied_on) for e in stored if e.allocation]
        assert served == [("2021-B1", date(2021, 3, 5))]  # within Jan–Feb's 10 days of grace
    with transaction(engine) as session:
        registry.void_event(session, heard, "录错", "clerk", NOW)
        assert not obligations.current(session, book, HORIZON)
        assert obligations.settle(session, book, TODAY) == 2  # the unit's hearing and rolling
    with transaction(engine) as session:
        stored = obligations.entries(session, rules, None, date.min, HORIZON)
        units = sorted(unit_facts(session), key=lambda u: u.id)
        every = event_facts(session, {r.requirement.kind for r in rules}, date.min, date.max,
                            None, True)  # fmt: skip
        rebuilt = ledger(rules, units, every, waiver_facts(session), HORIZON, book.review_mode)
    assert stored == rebuilt
    assert not any(entry.allocation for entry in stored)
    engine.dispose()
