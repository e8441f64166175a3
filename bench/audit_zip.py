#!/usr/bin/env python3
"""Benchmark: the 台账 ZIP of a county's year next to the floor of zipping the same files.

usage: python bench/audit_zip.py [--villages 380] [--events 3000] [--kb 200] [--repeat 2]

Builds a county (1 county, 20 townships, ``--villages`` villages: 400 units by default) with
``--events`` branch meetings in 2026 spread over the villages, each with one ``--kb`` KB
attachment (a PDF of random bytes, attached through the attachment service), in a SQLite
database and a folder store under a temporary directory. Then, in the same run:

* the bundle: the audit listing of the year, its documents planned, the XLSX with its links and
  every document streamed into a ZIP file (what ``huiqi audit --format zip`` does), timed;
* the floor: the standard ``zipfile`` module writing the same files under the same names
  (stored, like the bundle's documents) into a ZIP file, timed;
* the bundle's peak Python memory (tracemalloc) next to the bytes it wrote.

Each figure is the best of ``--repeat`` runs. The target is the bundle within 2x of the floor,
in memory bounded by far less than the ZIP.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.audit import bundle  # noqa: E402
from scheduler.audit import xlsx as audit_xlsx  # noqa: E402
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


def write_bundle(parts: object, store: FolderStore, target: Path) -> int:
    engine, book = parts  # type: ignore[misc]
    with transaction(engine) as session:
        listing = audit_listing(session, book, AuditQuery.for_year(2026, date(2026, 12, 31)))
        ids = [e.event_id for row in listing.rows for e in row.evidence]
        documents = bundle.plan(listing, attachments.by_event(session, ids))

    def workbook(linked: object) -> bytes:
        return audit_xlsx.to_xlsx(listing, "zh", ZONE, NOW, (), linked)  # type: ignore[arg-type]

    with target.open("wb") as out:
        return bundle.write_zip(out, "台账.xlsx", workbook, documents, store, NOW)


def floor(documents: list[bundle.Document], store: FolderStore, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for document in documents:
            archive.write(store.path(document.sha256), document.path)


def best(repeat: int, run: object) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=380)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--kb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        start = time.perf_counter()
        parts, store = build(folder, options.villages, options.events, options.kb)
        built = time.perf_counter() - start
        print(f"built {21 + options.villages} units, {options.events} events with one "
              f"{options.kb} KB attachment each in {built:.1f} s")  # fmt: skip
        engine, book = parts  # type: ignore[misc]
        with transaction(engine) as session:
            listing = audit_listing(session, book, AuditQuery.for_year(2026, date(2026, 12, 31)))
            ids = [e.event_id for row in listing.rows for e in row.evidence]
            documents = bundle.plan(listing, attachments.by_event(session, ids))
        out = folder / "bundle.zip"
        count = write_bundle(parts, store, out)
        bundle_seconds = best(options.repeat, lambda: write_bundle(parts, store, out))
        floor_seconds = best(options.repeat, lambda: floor(documents, store, folder / "floor.zip"))
        tracemalloc.start()
        write_bundle(parts, store, out)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        size = out.stat().st_size
        floor_size = (folder / "floor.zip").stat().st_size
    ratio = bundle_seconds / floor_seconds
    print(f"bundle: {count} documents, {size / 1e6:.0f} MB ZIP in {bundle_seconds:.2f} s "
          f"(listing, XLSX with links, documents streamed)")  # fmt: skip
    print(f"floor:  zipfile writing the same {len(documents)} files ({floor_size / 1e6:.0f} MB) "
          f"in {floor_seconds:.2f} s")  # fmt: skip
    print(f"ratio:  {ratio:.2f}x the floor (target < 2x)")
    print(
        f"memory: peak {peak / 1e6:.1f} MB of Python allocations while writing {size / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
