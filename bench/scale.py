#!/usr/bin/env python3
"""Benchmark: ``huiqi events import`` (first and unchanged again) and ``huiqi status --format
json`` of a province, each next to its floor measured in the same run, as whole processes.

usage: python bench/scale.py FOLDER [--rows N]

FOLDER holds units.csv, people.csv and events.csv (`bench/province.py` writes them); --rows
takes the first N events only. The floors:

* import: the same CSV rows into a SQLite table of the same columns with the csv module and
  one ``executemany`` (no validation, no kinds, no trail);
* status: ``SELECT unit, kind, count(*)`` over the events and their kinds, grouped, and the
  C JSON encoder writing one object per group;
* the status read from the stored obligations (after ``huiqi obligations refresh``, timed
  too), next to that floor and to a second one, the same rows: the stored obligations of the
  year with their unit's code and name, sorted, each written as one JSON object by the C
  encoder (no status, no evidence).

Each figure is wall-clock seconds, processor seconds (user + system, of the process and its
children) and peak resident memory of the process, measured by the operating system
(``wait4``). The machine's load average is printed before and after: on a shared machine the
ratios to the floors are the figures to quote.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
HUIQI = str(Path(sys.executable).parent / "huiqi")
STATUS = [HUIQI, "status", "--as-of", "2026-12-31", "--format", "json"]

IMPORT_FLOOR = """
import csv, sqlite3, sys
connection = sqlite3.connect(sys.argv[2])
connection.execute("CREATE TABLE events (unit, kinds, date, time, title, attended, amount, ref)")
with open(sys.argv[1], encoding="utf-8-sig", newline="") as handle:
    rows = csv.reader(handle)
    next(rows)
    connection.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
connection.commit()
"""

STATUS_FLOOR = """
import json, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
rows = connection.execute(
    "SELECT u.code, k.kind, count(*) FROM events e JOIN event_kinds k ON k.event_id = e.id "
    "JOIN units u ON u.id = e.unit_id GROUP BY u.code, k.kind ORDER BY u.code, k.kind"
)
out = sys.stdout
out.write("[\\n")
for number, (unit, kind, count) in enumerate(rows):
    out.write(("," if number else "") + json.dumps({"unit": unit, "kind": kind, "count": count}))
out.write("]\\n")
"""

ROWS_FLOOR = """
import json, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
rows = connection.execute(
    "SELECT u.code, u.name, o.rule_id, o.label, o.start, o.\\"end\\", o.due, o.required, o.actual "
    "FROM obligations o JOIN units u ON u.id = o.unit_id "
    "WHERE o.start <= '2026-12-31' AND o.\\"end\\" >= '2026-01-01' "
    "ORDER BY u.code, o.rule_id, o.start"
)
names = ("unit", "unit_name", "rule", "label", "start", "end", "due", "required", "actual")
out = sys.stdout
out.write("[\\n")
for number, row in enumerate(rows):
    out.write(("," if number else "") + json.dumps(dict(zip(names, row)), ensure_ascii=False))
out.write("]\\n")
"""


class Run(NamedTuple):
    wall: float
    cpu: float
    peak_mb: float


def run(command: Sequence[str], env: dict[str, str]) -> Run:
    """Run ``command`` to its end, output discarded; its figures as the kernel counts them."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-500:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def environment(database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HUIQI_DATABASE_URL": f"sqlite:///{database}",
        "HUIQI_RULES": str(ROOT / "rules" / "xihe-fulian.yaml"),
        "HUIQI_IMPORTS__MAX_BYTES": str(10**9),
        "HUIQI_IMPORTS__MAX_ROWS": str(10**7),
        "HUIQI_ACTOR": "bench",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, default=None, help="only the first N events")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="huiqi-scale-") as work:
        folder = Path(work)
        events = folder / "events.csv"
        _events_file(options.folder / "events.csv", events, options.rows)
        database = folder / "province.db"
        env = environment(database)
        load = os.getloadavg()[0]
        for step in (["init"], ["units", "import"], ["people", "import"]):
            extra = [str(options.folder / f"{step[0]}.csv")] if len(step) > 1 else []
            run([HUIQI, *step, *extra], env)
        template = folder / "units.db"
        shutil.copy(database, template)
        lines = sum(1 for _ in events.open(encoding="utf-8-sig")) - 1
        figures = {
            "import floor: csv → sqlite executemany": run(
                [sys.executable, "-c", IMPORT_FLOOR, str(events), str(folder / "floor.db")], env
            ),
            "huiqi events import (first)": run([HUIQI, "events", "import", str(events)], env),
            "huiqi events import (unchanged again)": run(
                [HUIQI, "events", "import", str(events)], env
            ),
            "status floor: GROUP BY + C JSON encoder": run(
                [sys.executable, "-c", STATUS_FLOOR, str(database)], env
            ),
            "huiqi status --format json (year)": run(STATUS, env),
            "huiqi obligations refresh (first build)": run([HUIQI, "obligations", "refresh"], env),
            "rows floor: stored rows + C JSON encoder": run(
                [sys.executable, "-c", ROWS_FLOOR, str(database)], env
            ),
            "huiqi status --format json (stored)": run(STATUS, env),
        }
    print(f"{lines:,} event rows; load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"{'measure':42} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'÷ floor (cpu)':>14}")
    for name, figure in figures.items():
        ratios = [f"{figure.cpu / figures[floor].cpu:.1f}×" for floor in floors_of(name, figures)]
        print(
            f"{name:42} {figure.wall:8.2f} {figure.cpu:8.2f} {figure.peak_mb:8.0f} "
            f"{' / '.join(ratios):>14}"
        )
    return 0


def floors_of(name: str, figures: dict[str, Run]) -> list[str]:
    """The floors a measure is divided by: the import's, the status's (and, read from the
    stored obligations, the same rows' too); none for the first build."""
    if "refresh" in name or "floor" in name:
        return [name] if "floor" in name else []
    if "import" in name:
        return [next(k for k in figures if k.startswith("import floor"))]
    status = next(k for k in figures if k.startswith("status floor"))
    return [status, *(k for k in figures if k.startswith("rows floor") and "stored" in name)]


def _events_file(source: Path, target: Path, rows: int | None) -> None:
    with source.open(encoding="utf-8-sig") as handle, target.open("w", encoding="utf-8") as out:
        for number, line in enumerate(handle):
            if rows is not None and number > rows:
                break
            out.write(line)


if __name__ == "__main__":
    sys.exit(main())
