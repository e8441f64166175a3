#!/usr/bin/env python3
"""Benchmark: plan a province's year (``huiqi plan``), next to the time to evaluate its status.

usage: python bench/plan.py [--counties 86] [--townships 1300] [--villages 17000]
                            [--seed N] [--repeat 3] [--as-of 2026-03-01] [--keep FILE.db]

Builds the province of ``bench/evaluate.py`` (the demo's generator; events of 2026 up to the
as-of day) in a temporary SQLite database, then, in the same run, times

* the floor: the whole province's ``status`` for the year on the as-of day
  (`scheduler.store.reports.status_rows`), what the planner cannot do without;
* the plan: `scheduler.calendar.plans.propose` for every unit of the province, the year 2026
  (facts, the engine's projection, the placement and the engine's settling), best of --repeat;

and checks the plan: every proposed day a workday, at most ``planner.per_day`` a day in a
county. The target is the whole province planned in under 10 seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from evaluate import YEAR, clocked, make_province, province_shape  # noqa: E402

from scheduler.calendar import plans  # noqa: E402
from scheduler.config import Settings  # noqa: E402
from scheduler.core.placement import county_roots  # noqa: E402
from scheduler.demo import county as demo  # noqa: E402
from scheduler.rulefiles import read_rulebook  # noqa: E402
from scheduler.store.database import make_engine, transaction  # noqa: E402
from scheduler.store.reports import Selection, status_rows  # noqa: E402

TARGET_SECONDS = 10.0


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_arguments(argv)
    book = read_rulebook([ROOT / "rules" / "xihe-fulian.yaml"])
    settings = Settings()
    shape = province_shape(options.counties, options.townships, options.villages)
    with tempfile.TemporaryDirectory(prefix="huiqi-bench-") as folder:
        path = options.keep or Path(folder) / "province.db"
        reuse = path.exists()
        engine = make_engine(f"sqlite:///{path}")
        made = f"reused {path}" if reuse else make_province(engine, book, shape, options.seed)[1]
        selection = Selection(options.as_of, date(YEAR, 1, 1), date(YEAR, 12, 31))

        def status() -> int:
            with transaction(engine) as session:
                return len(status_rows(session, book, selection))

        def plan() -> plans.YearPlan:
            with transaction(engine) as session:
                return plans.propose(session, book, settings, YEAR, options.as_of)

        floors = [clocked(status) for _ in range(options.repeat)]
        runs = [clocked(plan) for _ in range(options.repeat)]
        engine.dispose()
    floor = min(floors, key=lambda pair: pair[1].wall)
    best = min(runs, key=lambda pair: pair[1].wall)
    year_plan = best[0]
    problems = check(year_plan, settings.planner.per_day)
    proposals = year_plan.plan.proposals
    lines = [
        f"province: {shape.counties:,} counties, {shape.townships:,} townships, "
        f"{shape.villages:,} villages ({made}); plan {YEAR} as of {options.as_of}",
        "",
        f"{'measure':52} {'wall s':>7} {'cpu s':>7} {'rows':>9}",
        f"{'floor: status of the province, the year (obligations)':52} "
        f"{floor[1].wall:7.3f} {floor[1].cpu:7.3f} {floor[0]:9,}",
        f"{'plan: propose, every unit (meetings)':52} "
        f"{best[1].wall:7.3f} {best[1].cpu:7.3f} {len(proposals):9,}",
        f"plan runs, wall s: {' / '.join(f'{run[1].wall:.2f}' for run in runs)}",
        f"plan / floor: {best[1].wall / floor[1].wall:.1f}×",
        f"served {len(year_plan.plan.served()):,} obligations; already planned "
        f"{len(year_plan.plan.covered):,}; not placed {len(year_plan.plan.unplaced):,} "
        f"({dict(Counter(u.reason for u in year_plan.plan.unplaced))})",
        "checks: " + (problems or "every day a workday, the per-day cap kept"),
        f"target: whole province planned under {TARGET_SECONDS:.0f} s: "
        + ("met" if best[1].wall < TARGET_SECONDS else "MISSED"),
    ]
    print("\n".join(lines))
    return 0 if best[1].wall < TARGET_SECONDS and not problems else 1


def check(year_plan: plans.YearPlan, per_day: int) -> str:
    """'' when every proposal is on a workday and no county holds more than ``per_day``."""
    roots = county_roots(list(year_plan.units.values()))
    load = Counter((roots[p.unit_id], p.day) for p in year_plan.plan.proposals)
    if load and max(load.values()) > per_day:
        return f"a county holds {max(load.values())} meetings a day"
    off = [p for p in year_plan.plan.proposals if not year_plan.workdays.is_workday(p.day)]
    return f"{len(off)} proposals off a workday" if off else ""


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=86, help="counties (default 86)")
    parser.add_argument("--townships", type=int, default=1300, help="townships (default 1300)")
    parser.add_argument("--villages", type=int, default=17000, help="villages (default 17000)")
    parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="generator seed")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=date(YEAR, 3, 1), help="the planning day"
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the database in FILE")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
