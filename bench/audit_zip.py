#!/usr/bin/env python3
"""Benchmark: the 台账 ZIP of a county's year next to the floor of zipping the same files.

usage: python bench/audit_zip.py [--villages 380] [--events 3000] [--kb 200] [--repeat 3]

Builds a county (1 county, 20 townships, ``--villages`` villages: 400 units by default) with
``--events`` branch meetings in 2026 spread over the villages, each with one ``--kb`` KB
attachment (a PDF of random bytes, attached through the attachment service), in a SQLite
database and a folder store under a temporary directory. Then, in turn, ``--repeat`` times:

* ``huiqi audit --format zip`` of the year, its code called in this process (the listing, the
  trail, the XLSX with its links, every document streamed into the ZIP, the rename), next to
  the floor: the standard ``zipfile`` module writing the same files under the same names into
  a ZIP, stored like the bundle's documents (PDFs and photos are compressed already);
* the same two as whole processes (the ``huiqi`` program, interpreter start and imports
  included, and ``python bench/zip_floor.py``, the floor with the standard library only), with
  each one's processor time and peak RSS;
* the bundle's peak Python memory (tracemalloc) next to the bytes it wrote.

Each figure is the median of the runs. The target is the bundle within 2x of the floor's wall
time, in memory bounded by far less than the ZIP. The command builds its XLSX in a forked child
process while it copies the documents: the in-process processor seconds leave the child's out,
the whole process's include it (its children's time).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from zip_floor import floor  # noqa: E402

from scheduler.audit import bundle  # noqa: E402
from scheduler.audit.listing import AuditQuery, audit_listing  # noqa: E402
from scheduler.config import FileSettings  # noqa: E402
from scheduler.core.records import Table  # noqa: E402
from scheduler.rulefiles import read_rulebook  # noqa: E402
from scheduler.store import attachments, registry  # noqa: E402
from scheduler.store.blobs import FolderStore  # noqa: E402
from scheduler.store.database import make_engine, migrate, transaction  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 31, 18, 0, tzinfo=ZONE)
UNIT_COLUMNS = ("code", "name", "kind", "parent", "active_from", "active_to")
EVENT_COLUMNS = ("unit", "kinds", "date", "time", "title", "attended", "amount", "ref")


def table(name: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> Table:
    cells = tuple(
        (number, dict(zip(header, row, strict=True))) for number, row in enumerate(rows, 2)
    )
    return Table(name, header, cells)


def build(folder: Path, villages: int, events: int, kb: int) -> tuple[object, FolderStore]:
    """The county, its meetings and their attachments."""
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    migrate(engine)
    book = read_rulebook([ROOT / "rules" / "xihe-fulian.yaml"])
    units = [("1", "县", "county", "", "2000-01-01", "")]
    units += [(f"1{t:02d}", f"镇{t}", "township", "1", "2000-01-01", "") for t in range(20)]
    village_codes = [f"1{v % 20:02d}{v:04d}" for v in range(villages)]
    units += [(code, f"村{code}", "village", code[:3], "2000-01-01", "") for code in village_codes]
    rows = []
    for number in range(events):
        day = date(2026, 1 + number % 12, 1 + number % 28)
        unit = village_codes[number % villages]
        rows.append((unit, "branch_meeting", day.isoformat(), "", f"支部会议{number}",
                     "fulian_chair", "", f"m{number}"))  # fmt: skip
    store = FolderStore(folder / "files")
    limits = FileSettings(max_bytes=kb * 1024 * 2)
    with transaction(engine) as session:
        registry.import_units(session, book, table("units.csv", UNIT_COLUMNS, units), "bench", NOW)
        summary = registry.import_events(
            session, book, table("events.csv", EVENT_COLUMNS, rows), "bench", NOW
        )
        for event_id in summary.ids:
            data = b"%PDF-1.4\n" + os.urandom(kb * 1024 - 9)
            upload = attachments.Upload(f"会议记录{event_id}.pdf", data, "minutes")
            attachments.attach(session, store, limits, event_id, upload, "bench", NOW)
    return (engine, book), store


def configure(folder: Path) -> Path:
    """A config.yaml for ``huiqi`` over the benchmark's database and folder store."""
    config = folder / "config.yaml"
    config.write_text(
        f"database_url: sqlite:///{folder / 'bench.db'}\n"
        f"rules: [{ROOT / 'rules' / 'xihe-fulian.yaml'}]\n"
        f"templates: {ROOT / 'templates'}\n"
        f"files:\n  folder: {folder / 'files'}\n",
        encoding="utf-8",
    )
    return config


AUDIT = ("audit", "--year", "2026", "--as-of", "2026-12-31", "--format", "zip", "-o")


def command(config: Path, target: Path) -> None:
    """``huiqi audit --format zip`` in this process: the command's own code from the listing to
    the renamed ZIP (the listing, the trail, the XLSX and every document), without the
    interpreter's start."""
    from scheduler.cli import main as huiqi

    with contextlib.redirect_stdout(io.StringIO()):
        huiqi.main(["--config", str(config), *AUDIT, str(target)], standalone_mode=False)


def manifest(parts: object, store: FolderStore, folder: Path) -> list[bundle.Document]:
    """The bundle's documents, also written to ``folder/manifest.tsv`` for the floor
    (`bench/zip_floor.py`: the same files under the same names)."""
    engine, book = parts  # type: ignore[misc]
    with transaction(engine) as session:
        listing = audit_listing(session, book, AuditQuery.for_year(2026, date(2026, 12, 31)))
        documents = bundle.documents_of(session, listing)
    lines = [f"{store.path(d.sha256)}\t{d.path}\n" for d in documents]
    (folder / "manifest.tsv").write_text("".join(lines), encoding="utf-8")
    return documents


@dataclass
class Runs:
    """Wall and processor seconds and peak memory (MB) of each run."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak: list[float] = field(default_factory=list)

    def text(self) -> str:
        peak = f", peak RSS {median(self.peak):.0f} MB" if self.peak else ""
        return f"{median(self.wall):.2f} s wall, {median(self.cpu):.2f} s CPU{peak}"


def in_process(run: Callable[[], None], runs: Runs) -> None:
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    run()
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    runs.wall.append(wall)
    runs.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


# A small process starts each measured one and reports its figures: a process forked from this
# big one would inherit this one's resident pages in its peak RSS (ru_maxrss).
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, status)
"""


def as_process(argv: list[str], runs: Runs) -> None:
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], capture_output=True, text=True)
    wall, cpu, peak, status = done.stdout.split()
    if done.returncode or status != "0":
        raise SystemExit(f"{argv[0]} failed: {done.stderr}")
    runs.wall.append(float(wall))
    runs.cpu.append(float(cpu))
    runs.peak.append(int(peak) / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=380)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--kb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        start = time.perf_counter()
        parts, store = build(folder, options.villages, options.events, options.kb)
        built = time.perf_counter() - start
        print(f"built {21 + options.villages} units, {options.events} events with one "
              f"{options.kb} KB attachment each in {built:.1f} s")  # fmt: skip
        config, documents = configure(folder), manifest(parts, store, folder)
        out, floor_out = folder / "bundle.zip", folder / "floor.zip"
        huiqi = [str(Path(sys.executable).parent / "huiqi"), "--config", str(config), *AUDIT]
        floor_argv = [sys.executable, str(ROOT / "bench" / "zip_floor.py"),
                      str(folder / "manifest.tsv")]  # fmt: skip
        runs = {key: Runs() for key in ("command", "floor", "process", "floor process")}
        command(config, out)  # warm: the first run loads the modules and fills the OS cache
        for _ in range(options.repeat):  # in turn, so that a drift of the machine hits both
            in_process(lambda: command(config, out), runs["command"])
            in_process(lambda: floor(folder / "manifest.tsv", floor_out), runs["floor"])
            as_process([*huiqi, str(out)], runs["process"])
            as_process([*floor_argv, str(floor_out)], runs["floor process"])
        tracemalloc.start()
        command(config, out)
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        size, floor_size = out.stat().st_size, floor_out.stat().st_size
    print(f"documents: {len(documents)}, ZIP {size / 1e6:.0f} MB (floor's {floor_size / 1e6:.0f} "
          f"MB); medians of {options.repeat} runs taken in turn")  # fmt: skip
    for label, (mine, base) in {
        "huiqi audit --format zip, its code in this process": ("command", "floor"),
        "huiqi audit --format zip, the whole process": ("process", "floor process"),
    }.items():
        ratio = median(runs[mine].wall) / median(runs[base].wall)
        print(f"{label}:\n  bundle {runs[mine].text()}\n  floor  {runs[base].text()}"
              f"\n  ratio  {ratio:.2f}x the floor's wall time (target < 2x)")  # fmt: skip
    print(f"memory: peak {traced / 1e6:.1f} MB of Python allocations while writing "
          f"{size / 1e6:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
