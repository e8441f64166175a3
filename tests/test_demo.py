"""The demo county: deterministic, shaped like Xihe's, loaded through the imports on SQLite and
PostgreSQL, and varied enough to show every status."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from sqlalchemy import Engine, func, select

from scheduler.core.compliance import EventFacts, Obligation, UnitFacts, WaiverFacts, evaluate
from scheduler.core.periods import Duration
from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.demo import county as demo
from scheduler.store.database import transaction
from scheduler.store.models import Event, Person, RoleAssignment, Unit, Waiver
from scheduler.store.reports import status_rows, year_selection
from scheduler.tables import read_table
from tests.conftest import HuiqiRunner

AS_OF = date(2026, 9, 15)
NOW = datetime(2026, 9, 15, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def sample() -> demo.Demo:
    """The default demo: seed 1016, year 2026, as of 2026-09-15."""
    return demo.generate()


def units_of(sample: demo.Demo, kind: str) -> list[dict[str, str]]:
    return [row for row in sample.units if row["kind"] == kind]


def pure_obligations(
    sample: demo.Demo,
    book: RuleBook,
    events: Sequence[dict[str, str]] | None = None,
    first: date = date(2026, 1, 1),
) -> list[Obligation]:
    """The demo's obligations from ``first`` to the end of 2026 on its as-of day, evaluated by
    the pure engine straight from its rows (or from ``events`` instead of its own)."""
    ids = {row["code"]: number for number, row in enumerate(sample.units, start=1)}
    units = [
        UnitFacts(ids[row["code"]], row["code"], row["name"], row["kind"], ids.get(row["parent"]),
                  date.fromisoformat(row["active_from"]), None,
                  {"female_population": int(row["female_population"] or 0)})
        for row in sample.units
    ]  # fmt: skip
    facts = [
        EventFacts(number, ids[row["unit"]], date.fromisoformat(row["date"]),
                   frozenset(row["kinds"].split(";")),
                   Decimal(row["amount"]) if row["amount"] else None,
                   frozenset(filter(None, row["attended"].split(";"))))
        for number, row in enumerate(sample.events if events is None else events, start=1)
    ]  # fmt: skip
    waivers = {(ids[w.unit], w.rule, w.period): WaiverFacts(w.reason, w.by) for w in sample.waivers}
    return evaluate(book.rules, units, facts, waivers, sample.as_of, first, date(2026, 12, 31))


def statuses(obligations: Sequence[Obligation], *rules: str) -> set[str]:
    return {o.status.value for o in obligations if not rules or o.rule_id in rules}


def with_grace(book: RuleBook, grace: Duration) -> RuleBook:
    """The bundled rules with ``grace`` after every township rule's due date."""
    rules = tuple(
        dataclasses.replace(rule, grace=grace) if rule.id.startswith("township-") else rule
        for rule in book.rules
    )
    return dataclasses.replace(book, rules=rules)


# ----------------------------------------------------------------------------------------------
# The generator (pure)


def test_the_same_seed_gives_the_same_rows(sample: demo.Demo) -> None:
    assert demo.generate(demo.DEFAULT_SEED, 2026, AS_OF) == sample
    assert demo.generate(seed=7).events != sample.events


def test_the_demo_county_is_shaped_like_xihe(sample: demo.Demo) -> None:
    counts = {kind: sample.count(kind) for kind in demo.KINDS}
    assert counts == {"county": 1, "township": 20, "village": 384, "community": 10, "workshop": 13}
    (root,) = units_of(sample, "county")
    assert (root["code"], root["name"], root["parent"]) == ("621225", "西和县", "")
    townships = units_of(sample, "township")
    assert int(root["female_population"]) == sum(int(t["female_population"]) for t in townships)
    township_codes = {row["code"] for row in townships}
    assert {row["parent"] for row in townships} == {"621225"}
    assert all(row["parent"] in township_codes for row in sample.units if row["kind"] in
               ("village", "community", "workshop"))  # fmt: skip
    assert len({row["code"] for row in sample.units}) == len(sample.units)


def test_every_unit_says_its_data_is_invented(sample: demo.Demo) -> None:
    assert {row["note"] for row in sample.units} == {sample.note}
    assert "示例数据" in sample.note and "sample data" in sample.note


def test_every_unit_has_a_holder_for_each_of_its_roles_on_the_as_of_day(sample: demo.Demo) -> None:
    held: dict[str, set[str]] = defaultdict(set)
    for row in sample.people:
        if row["from"] <= AS_OF.isoformat() and (not row["to"] or row["to"] >= AS_OF.isoformat()):
            held[row["unit"]].add(row["role"])
    expected = {
        "county": {"fulian_chair", "party_secretary", "clerk"},
        "township": {"fulian_chair", "party_secretary", "clerk"},
        "village": {"fulian_chair", "party_secretary"},
        "community": {"fulian_chair", "party_secretary"},
        "workshop": {"fulian_chair"},
    }
    assert all(held[row["code"]] == expected[row["kind"]] for row in sample.units)
    emails = [row["email"] for row in sample.people]
    assert len(set(emails)) == len(emails) and all(e.endswith("@example.org") for e in emails)


def test_some_township_chairs_hand_over_during_the_year(sample: demo.Demo) -> None:
    ended = [row for row in sample.people if row["to"]]
    assert ended and all(row["role"] == "fulian_chair" and row["to"] < "2026-09-15"
                         for row in ended)  # fmt: skip


def test_no_event_is_dated_outside_the_demo_year_or_after_the_as_of_day() -> None:
    spring = demo.generate(year=2025, as_of=date(2025, 4, 30))
    days = [row["date"] for row in spring.events]
    assert min(days) >= "2025-01-01" and max(days) <= "2025-04-30"
    assert "2025-04" in {day[:7] for day in days}


def test_events_fall_on_official_workdays_including_adjusted_weekends(
    sample: demo.Demo,
) -> None:
    days = {date.fromisoformat(row["date"]) for row in sample.events}
    assert all(chinese_calendar.is_workday(day) for day in days)
    assert any(day.weekday() >= 5 for day in days)  # 调休: e.g. Saturday 2026-02-14


def test_funds_are_paid_in_instalments_and_some_fall_short() -> None:
    whole_year = demo.generate(as_of=date(2026, 12, 31))
    paid: dict[str, list[Decimal]] = defaultdict(list)
    for row in whole_year.events:
        if row["kinds"] == "funding":
            paid[row["unit"]].append(Decimal(row["amount"]))
    townships = [paid[row["code"]] for row in units_of(whole_year, "township")]
    assert any(len(payments) > 1 for payments in townships)
    assert {sum(payments) >= 10_000 for payments in townships} == {True, False}


def test_the_demo_scales_to_more_counties_townships_and_villages() -> None:
    shape = demo.Shape(counties=3, townships=30, villages=200, communities=4, workshops=5)
    region = demo.generate(seed=5, shape=shape)
    assert [region.count(kind) for kind in demo.KINDS] == [3, 30, 200, 4, 5]
    assert len({row["code"] for row in region.units}) == len(region.units)
    assert {row["unit"] for row in region.events} >= {
        row["code"] for row in region.units if row["kind"] in ("county", "township", "village")
    }


def test_the_demo_year_and_as_of_day_default_to_each_other() -> None:
    today = date(2026, 12, 2)
    assert demo.demo_dates(None, None, today) == (2026, today)
    assert demo.demo_dates(2026, None, today) == (2026, today)
    assert demo.demo_dates(2025, None, today) == (2025, date(2025, 9, 15))
    assert demo.demo_dates(None, date(2027, 3, 1), today) == (2027, date(2027, 3, 1))


def test_the_summary_names_what_was_loaded_and_the_next_commands_in_both_languages(
    sample: demo.Demo,
) -> None:
    loaded = demo.Loaded(sample, people=865, assignments=865)
    chinese, english = demo.describe(loaded), demo.describe(loaded, "en")
    assert "384 村" in chinese and "2026年1月1日至2026年9月15日" in chinese
    assert "384 villages" in english and "sample data" in english
    assert "huiqi scorecard --year 2026 --as-of 2026-09-15 --kind township" in english
    assert "未作改动" in demo.describe(demo.Loaded(sample, already=True))
    head = chinese.splitlines()[:2]  # the commands below are the command line's, not Chinese
    assert not any(mark in line for line in head for mark in ",:;()"), head
    assert "（虚构的示例数据，种子" in chinese and "接下来可以试试：" in chinese


def test_an_as_of_day_before_the_demo_year_is_refused() -> None:
    with pytest.raises(InputError, match="before the demo year 2026") as refused:
        demo.generate(year=2026, as_of=date(2025, 12, 31))
    assert refused.value.said("zh") == "huiqi demo，as-of：2025-12-31 早于示例年份 2026"


def test_a_ruleset_without_the_demo_vocabulary_is_refused_in_one_line(book: RuleBook) -> None:
    kinds = {kind: text for kind, text in book.event_kinds.items() if kind != "funding"}
    with pytest.raises(InputError) as refused:
        demo.check_vocabulary(dataclasses.replace(book, event_kinds=kinds))
    assert str(refused.value) == (
        "huiqi demo: the loaded rulesets lack the event kinds funding the demo uses "
        "(load rules/xihe-fulian.yaml)"
    )
    assert refused.value.said("zh") == (
        "huiqi demo：已载入的规则集缺少示例用到的事件类型 funding（请载入 rules/xihe-fulian.yaml）"
    )


def test_the_exported_files_read_back_as_the_imported_tables(
    sample: demo.Demo, tmp_path: Path
) -> None:
    paths = sample.write_csv(tmp_path / "demo")
    assert [path.name for path in paths] == ["units.csv", "people.csv", "events.csv"]
    for path, table in zip(paths, sample.tables(), strict=True):
        read = read_table(path)
        assert (read.columns, read.rows) == (table.columns, table.rows)


# ----------------------------------------------------------------------------------------------
# Compliance on the as-of day


def test_on_the_as_of_day_the_demo_shows_met_missed_open_upcoming_and_exempt(
    sample: demo.Demo, book: RuleBook
) -> None:
    obligations = pure_obligations(sample, book)
    assert statuses(obligations, "township-hearing") == {
        "met", "missed", "open", "upcoming", "exempt"
    }  # fmt: skip
    assert statuses(obligations, "township-funding", "village-funding") == {"met", "open"}
    assert statuses(obligations, "village-chair-attendance") == {"met", "missed"}
    assert statuses(obligations, "county-conference") == {"met", "upcoming"}


def test_townships_range_from_exemplary_to_rarely_on_time(
    sample: demo.Demo, book: RuleBook
) -> None:
    counted = [o for o in pure_obligations(sample, book)
               if o.rule_id.startswith("township-") and o.status.due_passed]  # fmt: skip
    by_unit: dict[int, Counter[str]] = defaultdict(Counter)
    for obligation in counted:
        by_unit[obligation.unit_id][obligation.status.value] += 1
    rates = sorted(c["met"] / sum(c.values()) for c in by_unit.values())
    assert rates[-1] == 1.0 and rates[0] < 0.7


def test_with_a_month_of_grace_late_townships_are_met_late_or_overdue(
    sample: demo.Demo, book: RuleBook
) -> None:
    graced = pure_obligations(sample, with_grace(book, Duration(1, "months")))
    found = statuses(graced, "township-hearing", "township-research", "township-study")
    assert {"met_late", "overdue"} <= found


def test_a_years_evaluation_holds_exactly_that_years_obligations_of_a_longer_one(
    sample: demo.Demo, book: RuleBook
) -> None:
    earlier = demo.generate(year=2025, as_of=date(2025, 12, 31))
    assert [row["code"] for row in earlier.units] == [row["code"] for row in sample.units]
    graced = with_grace(book, Duration(1, "months"))
    events = [*earlier.events, *sample.events]
    year = pure_obligations(sample, graced, events)
    longer = pure_obligations(sample, graced, events, first=date(2020, 1, 1))
    in_year = [o for o in longer if o.period.overlaps(date(2026, 1, 1), date(2026, 12, 31))]
    assert len(in_year) < len(longer) and Counter(year) == Counter(in_year)


# ----------------------------------------------------------------------------------------------
# Loading, on SQLite and PostgreSQL


def count(engine: Engine, model: type) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_demo_loads_through_the_imports_and_the_database_agrees_with_the_rows(
    engine: Engine, book: RuleBook, sample: demo.Demo
) -> None:
    with transaction(engine) as session:
        loaded = demo.load_demo(session, book, sample, NOW)
    assert not loaded.already and loaded.assignments == len(sample.people)
    assert count(engine, Unit) == 428 and count(engine, Event) == len(sample.events)
    assert count(engine, Person) == len(sample.people) == count(engine, RoleAssignment)
    assert count(engine, Waiver) == len(sample.waivers) == 1
    with transaction(engine) as session:
        rows = status_rows(session, book, year_selection(2026, AS_OF))
    from_database = Counter(
        (row.unit.code, row.rule.id, row.obligation.period.label, row.obligation.status.value,
         row.obligation.actual) for row in rows
    )  # fmt: skip
    codes = {number: row["code"] for number, row in enumerate(sample.units, start=1)}
    from_rows = Counter(
        (codes[o.unit_id], o.rule_id, o.period.label, o.status.value, o.actual)
        for o in pure_obligations(sample, book)
    )
    assert from_database == from_rows
    with transaction(engine) as session:
        assert demo.load_demo(session, book, sample, NOW).already
    assert count(engine, Event) == len(sample.events)


def test_the_demo_refuses_a_database_holding_other_units_and_writes_nothing(
    engine: Engine, book: RuleBook
) -> None:
    small = demo.generate(shape=demo.Shape(townships=1, villages=2, communities=0, workshops=0))
    with transaction(engine) as session:
        session.add(Unit(code="100", name="示例县", kind="county", attributes={}))
    with pytest.raises(InputError, match="already holds 1 units"), transaction(engine) as session:
        demo.load_demo(session, book, small, NOW)
    assert count(engine, Unit) == 1 and count(engine, Event) == 0


# ----------------------------------------------------------------------------------------------
# The installed command


@SQLITE_ONLY
def test_huiqi_demo_loads_the_county_and_the_commands_it_suggests_work(huiqi: HuiqiRunner) -> None:
    loaded = huiqi("demo", "--as-of", "2026-09-15")  # without it: today
    assert "384 村" in loaded.stdout and "示例数据" in loaded.stdout
    assert "huiqi matrix --year 2026 --as-of 2026-09-15" in loaded.stdout
    matrix = huiqi("matrix", "--year", "2026", "--as-of", "2026-09-15", "--rule",
                   "township-hearing").stdout  # fmt: skip
    assert all(symbol in matrix for symbol in "✔✗○·–")
    again = huiqi("demo", "--as-of", "2026-09-15")
    assert "已载入，未作改动" in again.stdout


@SQLITE_ONLY
def test_huiqi_demo_refuses_a_database_that_holds_other_units_in_one_line(
    county: HuiqiRunner,
) -> None:
    refused = county("demo", check=False)
    assert refused.returncode == 1
    assert refused.stderr == (
        "huiqi demo：数据库中已有4个单位；示例只能载入空数据库"
        "（请把 HUIQI_DATABASE_URL 设为一个新的数据库）\n"
    )
    english = county("--lang", "en", "demo", check=False)
    assert english.stderr.count("\n") == 1 and "already holds 4 units" in english.stderr


@SQLITE_ONLY
def test_huiqi_demo_export_writes_the_three_import_files(
    huiqi: HuiqiRunner, tmp_path: Path
) -> None:
    written = huiqi(
        "demo", "--export", str(tmp_path / "csv"), "--seed", "3", "--as-of", "2026-09-15"
    ).stdout.split()
    assert [Path(path).name for path in written] == ["units.csv", "people.csv", "events.csv"]
    header = (tmp_path / "csv" / "events.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "unit,kinds,date,time,title,attended,amount,ref"
