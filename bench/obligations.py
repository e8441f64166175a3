#!/usr/bin/env python3
"""Benchmark: keeping the stored obligations up to date (`scheduler.store.obligations`).

usage: python bench/obligations.py [--events 40] [--province] [--counties 86]
                                   [--townships 1300] [--villages 17000]

On the demo county (or, with ``--province``, the province of bench/evaluate.py) in a temporary
SQLite database built as bench/evaluate.py builds it, it times the first build of every stored
obligation (`settle`), then records ``--events`` single events at townships one transaction
each through the store (`registry.add_event`, which computes the unit's rules again), and
reports the median and p95 of the refresh itself (`obligations.touch` for the event's unit) and
of the whole transaction, wall-clock and processor time of this process (the figures that a
loaded machine does not stretch). The floor, in the same run: the same transactions on a copy
of the database whose obligations are not kept (the write alone). Target: the refresh under
20 ms at p95, processor time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import evaluate as province_bench  # noqa: E402

from scheduler.core.rules import RuleBook  # noqa: E402
from scheduler.demo import county as demo  # noqa: E402
from scheduler.rulefiles import read_rulebook  # noqa: E402
from scheduler.store import obligations, registry  # noqa: E402
from scheduler.store.database import make_engine, migrate, transaction  # noqa: E402
from scheduler.store.models import Unit  # noqa: E402

YEAR, AS_OF = 2026, date(2026, 9, 15)
NOW = datetime(2026, 9, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TARGET = 0.020


def build(folder: Path, book: RuleBook, shape: demo.Shape) -> tuple[str, str, float, int]:
    """Two databases of the demo data of ``shape``: one without stored obligations (the floor)
    and one with them; the seconds and pairs of their first build."""
    plain = folder / "plain.db"
    engine = make_engine(f"sqlite:///{plain}")
    migrate(engine)
    province_bench.build(engine, book, demo.generate(year=YEAR, as_of=AS_OF, shape=shape))
    engine.dispose()
    kept = folder / "kept.db"
    shutil.copy(plain, kept)
    engine = make_engine(f"sqlite:///{kept}")
    started = time.perf_counter()
    with transaction(engine) as session:
        pairs = obligations.settle(session, book, AS_OF)
    seconds = time.perf_counter() - started
    engine.dispose()
    return f"sqlite:///{plain}", f"sqlite:///{kept}", seconds, pairs


Times = tuple[list[float], list[float]]  # wall-clock, processor seconds


def record(url: str, book: RuleBook, count: int, refreshes: Times) -> Times:
    """Seconds of ``count`` single-event transactions at townships, round robin; the refresh
    of each (when the obligations are kept) goes to ``refreshes``."""
    engine = make_engine(url)
    with transaction(engine) as session:
        codes = list(session.scalars(select(Unit.code).where(Unit.kind == "township")))
    original = obligations.touch

    def timed_touch(*args: object) -> int:
        started, cpu = time.perf_counter(), time.process_time()
        written = original(*args)  # type: ignore[arg-type]
        refreshes[0].append(time.perf_counter() - started)
        refreshes[1].append(time.process_time() - cpu)
        return written

    obligations.touch = timed_touch  # type: ignore[assignment]
    seconds: Times = ([], [])
    try:
        for number in range(count):
            cells = {
                "unit": codes[number % len(codes)], "kinds": "hearing;study",
                "date": date(YEAR, 1 + number % 9, 10).isoformat(), "title": f"测试{number}",
            }  # fmt: skip
            started, cpu = time.perf_counter(), time.process_time()
            with transaction(engine) as session:
                registry.add_event(session, book, cells, "bench", NOW)
            seconds[0].append(time.perf_counter() - started)
            seconds[1].append(time.process_time() - cpu)
    finally:
        obligations.touch = original  # type: ignore[assignment]
        engine.dispose()
    return seconds


def p95(values: Sequence[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--province", action="store_true")
    parser.add_argument("--counties", type=int, default=86)
    parser.add_argument("--townships", type=int, default=1300)
    parser.add_argument("--villages", type=int, default=17000)
    options = parser.parse_args(argv)
    book = read_rulebook([ROOT / "rules" / "xihe-fulian.yaml"])
    shape = demo.XIHE
    if options.province:
        shape = province_bench.province_shape(options.counties, options.townships, options.villages)
    with tempfile.TemporaryDirectory() as folder:
        plain, kept, build_seconds, pairs = build(Path(folder), book, shape)
        floor = record(plain, book, options.events, ([], []))
        refreshes: Times = ([], [])
        with_refresh = record(kept, book, options.events, refreshes)
    ms = 1000
    print(f"first build of the stored obligations: {build_seconds:.2f} s ({pairs} unit-rule pairs)")
    print(f"{'measure':<48} {'median ms':>9} {'p95 ms':>7} {'cpu median':>11} {'cpu p95':>8}")
    rows = [
        ("floor: one event recorded, obligations not kept", floor),
        ("one event recorded, its obligations refreshed", with_refresh),
        ("the refresh alone (obligations.touch)", refreshes),
    ]
    for name, (wall, cpu) in rows:
        print(
            f"{name:<48} {statistics.median(wall) * ms:>9.1f} {p95(wall) * ms:>7.1f} "
            f"{statistics.median(cpu) * ms:>11.1f} {p95(cpu) * ms:>8.1f}"
        )
    met = p95(refreshes[1]) < TARGET
    verdict = "met" if met else "NOT met"
    print(f"target: the refresh under {TARGET * ms:.0f} ms at p95 (processor): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
