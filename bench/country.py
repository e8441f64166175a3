#!/usr/bin/env python3
"""Benchmark: a country on PostgreSQL. 38,000 townships and 490,000 villages (about 2,850
counties) with one year of events, imported with ``huiqi events import``, evaluated whole and
shown on the dashboard, each next to a floor measured in the same run.

usage: python bench/country.py [--fraction 1.0] [--url URL] [--requests 5] [--seed N]

``--fraction`` scales every count of units down (0.01: 380 townships, 4,900 villages); the
events follow from the demo generator's rates (`bench/province.py`'s rows, at this shape).
``--url`` is a PostgreSQL URL (default ``HUIQI_TEST_POSTGRES_URL``, else
postgres@127.0.0.1:5432/test); the benchmark works in a schema of its own, ``bench_country``,
made afresh and dropped at the end, so it never touches the tests' tables.

The figures, as whole processes (wall, processor and peak memory, from ``wait4``):

* ``huiqi events import`` of the year, then the same file again (all unchanged), next to the
  floor: the same CSV rows copied into a plain table of the same columns with psycopg's
  ``COPY`` (no validation, no kinds, no trail);
* the full rebuild, ``huiqi status --format json`` of the year (every unit, rule and period
  evaluated from the events), next to the floor: ``GROUP BY`` unit and kind over the same
  events and the C JSON encoder;
* in a process of its own, the dashboard (``GET /?year=2026`` over HTTP on loopback, all
  units): the first request (cold: it evaluates) and the later ones (p95), next to the
  evaluation alone (`scheduler.store.reports.evaluate_selection`);
* then the first build of the stored obligations (``huiqi obligations refresh``), the status
  read from them, next to the status floor and to the same rows' floor (the stored
  obligations of the year with their unit's code and name, sorted, one JSON object each by
  the C encoder), and the dashboard again, counted by SQL over them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scale  # noqa: E402  (the standard library only: this process stays small, since a

#                          child's peak memory as the kernel counts it starts from its parent's)

COUNTRY = {"counties": 2850, "townships": 38000, "villages": 490000}
SCHEMA = "bench_country"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RULES = ROOT / "rules" / "xihe-fulian.yaml"
STATUS = [scale.HUIQI, "status", "--as-of", "2026-12-31", "--format", "json"]

IMPORT_FLOOR = """
import csv, sys, psycopg
with psycopg.connect(sys.argv[2]) as connection:
    connection.execute("SET search_path TO " + sys.argv[3])
    connection.execute("DROP TABLE IF EXISTS floor_events")
    connection.execute(
        "CREATE TABLE floor_events (unit text, kinds text, date text, time text, title text, "
        "attended text, amount text, ref text)"
    )
    with open(sys.argv[1], encoding="utf-8-sig", newline="") as handle, connection.cursor() as cur:
        rows = csv.reader(handle)
        next(rows)
        with cur.copy("COPY floor_events FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
"""

STATUS_FLOOR = """
import json, sys, psycopg
with psycopg.connect(sys.argv[1]) as connection:
    connection.execute("SET search_path TO " + sys.argv[2])
    rows = connection.execute(
        "SELECT u.code, k.kind, count(*) FROM events e JOIN event_kinds k ON k.event_id = e.id "
        "JOIN units u ON u.id = e.unit_id GROUP BY u.code, k.kind ORDER BY u.code, k.kind"
    )
    out = sys.stdout
    out.write("[\\n")
    for number, (unit, kind, count) in enumerate(rows):
        item = {"unit": unit, "kind": kind, "count": count}
        out.write(("," if number else "") + json.dumps(item))
    out.write("]\\n")
"""

ROWS_FLOOR = """
import json, sys, psycopg
with psycopg.connect(sys.argv[1]) as connection:
    connection.execute("SET search_path TO " + sys.argv[2])
    rows = connection.execute(
        "SELECT u.code, u.name, o.rule_id, o.label, o.start::text, o.\\"end\\"::text, "
        "o.due::text, o.required::float8, o.actual::float8 "
        "FROM obligations o JOIN units u ON u.id = o.unit_id "
        "WHERE o.start <= '2026-12-31' AND o.\\"end\\" >= '2026-01-01' "
        "ORDER BY u.code COLLATE \\"C\\", o.rule_id, o.start"
    )
    names = ("unit", "unit_name", "rule", "label", "start", "end", "due", "required", "actual")
    out = sys.stdout
    out.write("[\\n")
    for number, row in enumerate(rows):
        item = dict(zip(names, row))
        out.write(("," if number else "") + json.dumps(item, ensure_ascii=False))
    out.write("]\\n")
"""


def scaled(fraction: float) -> dict[str, int]:
    """The country's counts of counties, townships and villages times ``fraction``."""
    return {name: max(1, round(count * fraction)) for name, count in COUNTRY.items()}


def schema_url(url: str) -> str:
    """``url`` with the benchmark's schema first on the search path."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={SCHEMA}')}"


SCHEMA_SQL = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as connection:
    connection.execute("DROP SCHEMA IF EXISTS " + sys.argv[2] + " CASCADE")
    if sys.argv[3] == "create":
        connection.execute("CREATE SCHEMA " + sys.argv[2])
"""


def fresh_schema(plain: str, drop_only: bool = False) -> None:
    """The benchmark's schema made afresh (or only dropped), by a process of its own."""
    action = "drop" if drop_only else "create"
    command = [sys.executable, "-c", SCHEMA_SQL, plain, SCHEMA, action]
    subprocess.run(command, check=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0)
    parser.add_argument("--url", default=os.environ.get("HUIQI_TEST_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=5, help="warm dashboard requests")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--dashboard", help=argparse.SUPPRESS)  # the dashboard's own process
    options = parser.parse_args(argv)
    if options.dashboard:
        return _dashboard(options.dashboard, options.requests)
    counts = scaled(options.fraction)
    plain = options.url.replace("postgresql+psycopg://", "postgresql://")
    with tempfile.TemporaryDirectory(prefix="huiqi-country-") as work:
        folder = Path(work)
        started = time.perf_counter()
        generate = [sys.executable, str(ROOT / "bench" / "province.py"), str(folder)]
        generate += [f"--{name}={count}" for name, count in counts.items()]
        generate += [f"--seed={options.seed}"] if options.seed is not None else []
        subprocess.run(generate, check=True, stdout=subprocess.DEVNULL)
        generated = time.perf_counter() - started
        rows = sum(1 for _ in (folder / "events.csv").open(encoding="utf-8-sig")) - 1
        units = sum(1 for _ in (folder / "units.csv").open(encoding="utf-8-sig")) - 1
        fresh_schema(plain)
        try:
            figures, dashboard = _measure(folder, options.url, plain, options.requests)
        finally:
            fresh_schema(plain, drop_only=True)
    load = os.getloadavg()[0]
    print(
        f"fraction {options.fraction}: {counts['counties']:,} counties, "
        f"{counts['townships']:,} townships, {counts['villages']:,} villages; {units:,} units, "
        f"{rows:,} event rows (generated in {generated:.0f} s); load average {load:.1f}"
    )
    print(f"{'measure':44} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'÷ floor (cpu)':>14}")
    for name, figure in figures.items():
        ratios = [f"{figure.cpu / figures[k].cpu:.1f}×" for k in scale.floors_of(name, figures)]
        print(
            f"{name:44} {figure.wall:8.2f} {figure.cpu:8.2f} {figure.peak_mb:8.0f} "
            f"{' / '.join(ratios):>14}"
        )
    print(dashboard, end="")
    return 0


def _measure(folder: Path, url: str, plain: str, requests: int) -> tuple[dict[str, scale.Run], str]:
    database = schema_url(url)
    env = {
        **os.environ,
        "HUIQI_DATABASE_URL": database,
        "HUIQI_RULES": str(RULES),
        "HUIQI_IMPORTS__MAX_BYTES": str(10**10),
        "HUIQI_IMPORTS__MAX_ROWS": str(10**8),
        "HUIQI_ACTOR": "bench",
    }
    huiqi = scale.HUIQI
    scale.run([huiqi, "init"], env)
    scale.run([huiqi, "units", "import", str(folder / "units.csv")], env)
    scale.run([huiqi, "people", "import", str(folder / "people.csv")], env)
    events = str(folder / "events.csv")
    figures = {
        "import floor: csv → PostgreSQL COPY": scale.run(
            [sys.executable, "-c", IMPORT_FLOOR, events, plain, SCHEMA], env
        ),
        "import: huiqi events import (first)": scale.run([huiqi, "events", "import", events], env),
        "import: huiqi events import (unchanged)": scale.run(
            [huiqi, "events", "import", events], env
        ),
        "status floor: GROUP BY + C JSON encoder": scale.run(
            [sys.executable, "-c", STATUS_FLOOR, plain, SCHEMA], env
        ),
        "status: full rebuild, status --format json": scale.run(STATUS, env),
    }
    dashboard = [sys.executable, __file__, f"--dashboard={database}", f"--requests={requests}"]
    shown = _output(dashboard)
    figures["refresh: huiqi obligations refresh (first build)"] = scale.run(
        [huiqi, "obligations", "refresh"], env
    )
    figures["rows floor: stored rows + C JSON encoder"] = scale.run(
        [sys.executable, "-c", ROWS_FLOOR, plain, SCHEMA], env
    )
    figures["status: stored obligations, --format json"] = scale.run(STATUS, env)
    stored = _output(dashboard)
    return figures, shown + stored.replace("dashboard (", "dashboard, stored (", 1)


def _output(command: list[str]) -> str:
    """What ``command`` prints; its error output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _dashboard(database: str, requests: int) -> int:
    """Print the dashboard's figures: every unit over HTTP, cold and warm, and the evaluation
    alone."""
    import web

    from scheduler.rulefiles import read_rulebook

    book = read_rulebook([RULES])
    cold, latencies, _size, _page = web._timed(database, book, "admin", requests)
    floor = web._floor(database, book, 1)
    p95 = sorted(latencies)[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(
        f"dashboard (all units, /?year=2026): cold {cold * 1000:,.0f} ms, p95 {p95 * 1000:,.0f} "
        f"ms over {requests} warm requests (the cache of one process); floor (evaluate_selection "
        f"alone) {floor * 1000:,.0f} ms; cold ÷ floor {cold / floor:.1f}×"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
