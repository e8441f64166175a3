#!/usr/bin/env python3
"""Benchmark: a whole province's ``status`` evaluation, next to the floor of one grouped count.

usage: python bench/evaluate.py [--counties 86] [--townships 1300] [--villages 17000]
                                [--seed N] [--repeat 3] [--keep FILE.db]

--keep FILE keeps the database; when FILE exists it is reused as it is (no new province).

Builds a province with the demo's generator (`scheduler.demo.county`: the same tree, people,
rates and habits as ``huiqi demo``; 86 counties, 1,300 townships, 17,000 villages, and
communities and workshops at the demo's rates per township), one year of events (2026, as of
2026-12-31), in a temporary SQLite database: the schema by the migrations, the rows checked by
the importers' validation (`scheduler.core.records`) and written with SQLAlchemy Core bulk
inserts for speed. Then, in the same run, it times

* the floor: ``SELECT unit_id, count(*) FROM events GROUP BY unit_id`` over the same table;
* a full-province ``status`` (`scheduler.store.reports.status_rows` for the year), best of --repeat,
  split into loading the facts (`scheduler.store.facts`), the pure evaluation and building rows;
* the SQL statements one evaluation runs, and its peak memory (tracemalloc, a separate run).

The target is the whole province in under 5 seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, event, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.core.compliance import evaluate  # noqa: E402
from scheduler.core.records import (  # noqa: E402
    EventRow,
    PersonRow,
    UnitRow,
    UnitSpan,
    parse_events,
    parse_people,
    parse_units,
)
from scheduler.core.rules import RuleBook  # noqa: E402
from scheduler.demo import county as demo  # noqa: E402
from scheduler.rulefiles import read_rulebook  # noqa: E402
from scheduler.store.database import make_engine, migrate, transaction  # noqa: E402
from scheduler.store.facts import event_facts, unit_facts, waiver_facts  # noqa: E402
from scheduler.store.models import Base  # noqa: E402
from scheduler.store.reports import Selection, evaluate_selection, status_rows  # noqa: E402

T = TypeVar("T")


class Timing(NamedTuple):
    """Wall-clock and CPU seconds of one measurement, and the rows it produced."""

    wall: float
    cpu: float
    rows: int = 0


YEAR = 2026
AS_OF = date(YEAR, 12, 31)
NOW = datetime(YEAR, 12, 31, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TARGET_SECONDS = 5.0
SELECTION = Selection(AS_OF, date(YEAR, 1, 1), date(YEAR, 12, 31))
FLOOR = "SELECT unit_id, count(*) FROM events GROUP BY unit_id"
BATCH = 20_000


def province_shape(counties: int, townships: int, villages: int) -> demo.Shape:
    """A province with communities and workshops at the demo county's rates per township."""
    per_township = demo.XIHE.townships
    return demo.Shape(
        counties=counties,
        townships=townships,
        villages=villages,
        communities=townships * demo.XIHE.communities // per_township,
        workshops=townships * demo.XIHE.workshops // per_township,
    )


def timed(function: Callable[[], T]) -> tuple[T, float]:
    """The result and the wall-clock seconds of ``function()``."""
    result, timing = clocked(function)
    return result, timing.wall


def clocked(function: Callable[[], T]) -> tuple[T, Timing]:
    """The result, and the wall-clock and CPU seconds of this process, of ``function()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, Timing(time.perf_counter() - wall, time.process_time() - cpu)


# ----------------------------------------------------------------------------------------------
# Building the province


def build(engine: Engine, book: RuleBook, province: demo.Demo) -> dict[str, int]:
    """Validate the demo's rows as the importers do and bulk-insert them; return row counts."""
    units_table, people_table, events_table = province.tables()
    units = parse_units(units_table, book.unit_kinds, {})
    ids = {row.code: number for number, row in enumerate(units, start=1)}
    people = parse_people(people_table, book.roles, ids)
    spans = {row.code: UnitSpan(row.active_from, row.active_to) for row in units}
    events = parse_events(events_table, book.event_kinds, book.roles, spans)
    tables: dict[str, list[dict[str, Any]]] = {
        "units": [_unit(row, ids) for row in units],
        "people": [_person(number, row) for number, row in enumerate(people, start=1)],
        "role_assignments": [_role(n, row, ids) for n, row in enumerate(people, start=1)],
        "events": [_event(n, row, ids) for n, row in enumerate(events, start=1)],
        "event_kinds": [
            {"event_id": n, "kind": kind} for n, row in enumerate(events, 1) for kind in row.kinds
        ],
        "event_attendance": [
            {"event_id": n, "role": role}
            for n, row in enumerate(events, 1)
            for role in row.attended
        ],
    }
    with engine.begin() as connection:
        for name, rows in tables.items():
            _insert(connection, name, rows)
    return {name: len(rows) for name, rows in tables.items()}


def _unit(row: UnitRow, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "id": ids[row.code],
        "code": row.code,
        "name": row.name,
        "kind": row.kind,
        "parent_id": ids.get(row.parent or ""),
        "active_from": row.active_from,
        "active_to": row.active_to,
        "attributes": row.attributes,
    }


def _person(number: int, row: PersonRow) -> dict[str, Any]:
    return {"id": number, "name": row.name, "email": row.email, "phone": row.phone}


def _role(number: int, row: PersonRow, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "person_id": number,
        "unit_id": ids[row.unit],
        "role": row.role,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
    }


def _event(number: int, row: EventRow, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "id": number,
        "unit_id": ids[row.unit],
        "date": row.day,
        "time": row.time,
        "title": row.title,
        "amount": row.amount,
        "ref": row.ref,
        "key": row.key,
        "source": "bench",
        "recorded_by": "bench",
        "recorded_at": NOW,
    }


TABLES = ("units", "people", "role_assignments", "events", "event_kinds", "event_attendance")


def _insert(connection: Connection, name: str, rows: Sequence[dict[str, Any]]) -> None:
    table = Base.metadata.tables[name]
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(table), list(rows[start : start + BATCH]))


# ----------------------------------------------------------------------------------------------
# Measuring


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def floor(engine: Engine) -> Timing:
    with engine.connect() as connection:
        rows, timing = clocked(lambda: connection.execute(text(FLOOR)).all())
    return timing._replace(rows=len(rows))


def full_status(engine: Engine, book: RuleBook) -> int:
    """``huiqi status`` for the whole province and year: obligations, sorted for output."""
    with transaction(engine) as session:
        return len(status_rows(session, book, SELECTION))


def evaluation(engine: Engine, book: RuleBook) -> int:
    """The evaluation alone (facts and engine), without building and sorting output rows."""
    with transaction(engine) as session:
        return len(evaluate_selection(session, book, SELECTION)[2])


def phases(engine: Engine, book: RuleBook) -> dict[str, Timing]:
    """The parts of one evaluation: the facts from the database, then the pure engine."""
    rules = list(book.rules)
    kinds = {rule.requirement.kind for rule in rules}
    earliest = min(rule.effective_from for rule in rules)
    with transaction(engine) as session:
        units, unit_s = clocked(lambda: unit_facts(session))
        events, event_s = clocked(lambda: event_facts(session, kinds, earliest, AS_OF))
        waivers, waiver_s = clocked(lambda: waiver_facts(session))
    first, last = SELECTION.first, SELECTION.last
    found, pure_s = clocked(lambda: evaluate(rules, units, events, waivers, AS_OF, first, last))
    return {
        "units (1 statement)": unit_s._replace(rows=len(units)),
        "events with kinds and attendance (2)": event_s._replace(rows=len(events)),
        "waivers (1)": waiver_s._replace(rows=len(waivers)),
        "pure evaluation (scheduler.core.compliance)": pure_s._replace(rows=len(found)),
    }


def peak_memory(engine: Engine, book: RuleBook) -> int:
    tracemalloc.start()
    full_status(engine, book)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


# ----------------------------------------------------------------------------------------------
# The run


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_arguments(argv)
    book = read_rulebook([ROOT / "rules" / "xihe-fulian.yaml"])
    shape = province_shape(options.counties, options.townships, options.villages)
    with tempfile.TemporaryDirectory(prefix="huiqi-bench-") as folder:
        path = options.keep or Path(folder) / "province.db"
        reuse = path.exists()
        engine = make_engine(f"sqlite:///{path}")
        if reuse:
            counts, made = table_counts(engine), f"reused {path}"
        else:
            counts, made = make_province(engine, book, shape, options.seed)
        report = measure(engine, book, options.repeat)
        engine.dispose()
    print_report(shape, counts, made, report)
    return 0 if report["status"].wall < TARGET_SECONDS else 1


def make_province(
    engine: Engine, book: RuleBook, shape: demo.Shape, seed: int
) -> tuple[dict[str, int], str]:
    migrate(engine)
    province, generate_s = timed(lambda: demo.generate(seed, YEAR, AS_OF, shape))
    counts, insert_s = timed(lambda: build(engine, book, province))
    return counts, f"generated in {generate_s:.1f} s, validated and inserted in {insert_s:.1f} s"


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in TABLES
        }


def measure(engine: Engine, book: RuleBook, repeat: int) -> dict[str, Any]:
    load = os.getloadavg()[0]
    base = floor(engine)
    runs = [clocked(lambda: full_status(engine, book))[1] for _ in range(repeat)]
    alone = min(
        (clocked(lambda: evaluation(engine, book))[1] for _ in range(repeat)),
        key=lambda timing: timing.wall,
    )
    with counting_statements(engine) as statements:
        obligations = full_status(engine, book)
    return {
        "floor": base,
        "status": min(runs, key=lambda timing: timing.wall)._replace(rows=obligations),
        "runs": runs,
        "evaluation": alone._replace(rows=obligations),
        "phases": phases(engine, book),
        "statements": len(statements),
        "peak": peak_memory(engine, book),
        "load": (load, os.getloadavg()[0]),
    }


def print_report(
    shape: demo.Shape, counts: dict[str, int], made: str, report: dict[str, Any]
) -> None:
    status = report["status"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    runs = " / ".join(f"{run.wall:.2f} ({run.cpu:.2f})" for run in report["runs"])
    lines = [
        f"province: {shape.counties:,} counties, {shape.townships:,} townships, "
        f"{shape.villages:,} villages, {shape.communities:,} communities, "
        f"{shape.workshops:,} workshops (seeded demo generator, {YEAR}, as of {AS_OF})",
        f"rows: {counts['units']:,} units, {counts['people']:,} people, {counts['events']:,} "
        f"events, {counts['event_kinds']:,} event kinds, {counts['event_attendance']:,} "
        f"attendances; {made}",
        f"machine: {os.cpu_count()} CPUs, load average {report['load'][0]:.1f} before and "
        f"{report['load'][1]:.1f} after the measurements",
        "",
        f"{'measure':48} {'wall s':>7} {'cpu s':>7} {'rows':>9} {'rows/s':>9}",
        _line(f"floor: {FLOOR[:40]}…", report["floor"]),
        _line("status: status_rows, whole province, 1 year", status),
        _line("  evaluation only: evaluate_selection", report["evaluation"]),
        *(_line(f"    {name}", timing) for name, timing in report["phases"].items()),
        f"status runs, wall (cpu) s: {runs}",
        "",
        f"SQL statements per status evaluation: {report['statements']}",
        f"peak memory of one status evaluation (tracemalloc): {report['peak'] / 2**20:,.0f} MiB;"
        f" process max RSS: {rss_mb:,.0f} MiB",
        f"status / floor: {status.wall / report['floor'].wall:,.0f}×",
        f"target: whole province under {TARGET_SECONDS:.0f} s: "
        + ("met" if status.wall < TARGET_SECONDS else "MISSED"),
    ]
    print("\n".join(lines))


def _line(name: str, timing: Timing) -> str:
    rate = f"{timing.rows / timing.wall:9,.0f}" if timing.wall else ""
    return f"{name:48} {timing.wall:7.3f} {timing.cpu:7.3f} {timing.rows:9,} {rate}"


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=86, help="counties (default 86)")
    parser.add_argument("--townships", type=int, default=1300, help="townships (default 1300)")
    parser.add_argument("--villages", type=int, default=17000, help="villages (default 17000)")
    parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="generator seed")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs of each measure (default 3)"
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep the database in FILE; reuse it if it exists"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
