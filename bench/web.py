#!/usr/bin/env python3
"""Benchmark: the dashboard page over real HTTP, evaluated and read from the stored
obligations, next to a static copy of the page served the same way.

usage: python bench/web.py [--requests 60] [--province-requests 5] [--no-province]
                           [--counties 86] [--townships 1300] [--villages 17000]
                           [--postgresql URL]

For the demo county (``huiqi demo``'s data, 2026 as of 2026-09-15) and for the province-sized
dataset of bench/evaluate.py, in temporary SQLite databases (or, with ``--postgresql``, schemas
of that database) built the way bench/evaluate.py builds them, it serves the app with uvicorn
on loopback and times sequential ``GET /?year=2026`` requests (all rules, 12 rule blocks): the
first, cold request on its own, then requests per second, p50 and p95 of the following ones
(which reuse the page's data while the facts are unchanged). In turn:

* ``evaluated``: an admin's dashboard before any obligation is stored (every cold request
  evaluates the whole selection), next to the evaluation alone
  (`scheduler.store.reports.evaluate_selection`, best of the runs);
* the first build of the stored obligations (`scheduler.store.obligations.settle`), timed;
* ``stored``: the admin's dashboard again, from a new app (nothing cached), counted by SQL
  over the stored obligations (`scheduler.store.tallies`);
* ``township``: the dashboard of a township's clerk (her township and its villages), stored;
* ``floor``: the admin's page as a static file (Starlette's StaticFiles on the same uvicorn).

Targets (issue 15): the county's dashboard under 100 ms at p95; a township's under 50 ms and the
province's under 300 ms cold, read from the stored obligations.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from sqlalchemy import create_engine, select, text
from starlette.staticfiles import StaticFiles

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import evaluate as province_bench  # noqa: E402

from scheduler.config import Settings  # noqa: E402
from scheduler.core.access import Role  # noqa: E402
from scheduler.core.rules import RuleBook  # noqa: E402
from scheduler.demo import county as demo  # noqa: E402
from scheduler.rulefiles import read_rulebook  # noqa: E402
from scheduler.store import accounts, obligations, reports  # noqa: E402
from scheduler.store.database import make_engine, migrate, transaction  # noqa: E402
from scheduler.store.models import Unit  # noqa: E402
from scheduler.web.app import create_app  # noqa: E402
from scheduler.web.context import WebContext  # noqa: E402
from scheduler.web.kit import SESSION_COOKIE  # noqa: E402

YEAR = 2026
AS_OF = date(2026, 9, 15)
NOW = datetime(2026, 9, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TARGET_P95 = 0.100
WARM_UP = "township-hearing"  # the rule of the page requested before the cold one


@dataclass(frozen=True)
class BenchClock(WebContext):
    """The app's context with the demo's "now"."""

    fixed: datetime = NOW

    def now(self) -> datetime:
        return self.fixed


@dataclass(frozen=True)
class Timing:
    name: str
    units: int
    requests: int
    page_bytes: int
    cold: float
    latencies: tuple[float, ...]
    floor: float | None = None

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / sum(self.latencies)


def build(folder: Path, book: RuleBook, shape: demo.Shape, url: str) -> tuple[str, int]:
    """A database holding the demo data of ``shape`` (a SQLite file in ``folder`` unless
    ``url`` is given); returns its URL and unit count."""
    url = url or f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    counts = province_bench.build(engine, book, demo.generate(year=YEAR, as_of=AS_OF, shape=shape))
    engine.dispose()
    return url, counts["units"]


def store_obligations(url: str, book: RuleBook) -> float:
    """The first build of the stored obligations; its seconds."""
    engine = make_engine(url)
    started = time.perf_counter()
    with transaction(engine) as session:
        obligations.settle(session, book, AS_OF)
    engine.dispose()
    return time.perf_counter() - started


def serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    """``app`` on a free loopback port."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)  # waiting for the server to listen
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def huiqi_app(url: str, book: RuleBook) -> tuple[Any, dict[str, str]]:
    """A new app (nothing cached) and the cookies of an admin and of a township's clerk."""
    settings = Settings(
        database_url=url, rules=[str(ROOT / "rules" / "xihe-fulian.yaml")], base_dir=str(ROOT)
    )
    app = create_app(settings)
    app.state.huiqi = BenchClock(settings, book, app.state.huiqi.engine)
    cookies = {}
    with transaction(app.state.huiqi.engine) as session:
        township = session.scalars(
            select(Unit.code).where(Unit.kind == "township").order_by(Unit.code).limit(1)
        ).one()
        for name, role, scope in (("admin", Role.ADMIN, None), ("township", Role.CLERK, township)):
            user = accounts.authenticate(session, f"bench-{name}", "bench-password")
            if user is None:
                user = accounts.add_user(
                    session, f"bench-{name}", role.value, scope, "bench-password", NOW, "bench"
                )
            cookies[name] = accounts.open_session(session, user, NOW).cookie
    return app, cookies


def measure(
    name: str, shape: demo.Shape, book: RuleBook, requests: int, postgresql: str | None
) -> list[Timing]:
    with (
        tempfile.TemporaryDirectory(prefix="huiqi-web-bench-") as folder,
        _schema(postgresql) as database,
    ):
        url, units = build(Path(folder), book, shape, database)
        cold, latencies, size, page = _timed(url, book, "admin", requests)
        floor = _floor(url, book, requests)
        timings = [Timing(f"{name} evaluated", units, requests, size, cold, latencies, floor)]
        stored_s = store_obligations(url, book)
        for who, label in (("admin", "stored"), ("township", "township")):
            cold, latencies, size, _ = _timed(url, book, who, requests)
            timings.append(Timing(f"{name} {label}", units, requests, size, cold, latencies))
        cold, latencies = _static(Path(folder), page, requests)
        timings.append(Timing(f"{name} floor", units, requests, len(page), cold, latencies))
        print(f"{name}: first build of the stored obligations {stored_s:.2f} s")
    return timings


@contextlib.contextmanager
def _schema(postgresql: str | None) -> Iterator[str]:
    """A new schema of the PostgreSQL database ``postgresql`` (its URL, dropped after), or ""
    (SQLite)."""
    if not postgresql:
        yield ""
        return
    schema = f"bench_web_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgresql)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgresql else "?"
    try:
        yield f"{postgresql}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _timed(
    url: str, book: RuleBook, who: str, count: int
) -> tuple[float, tuple[float, ...], int, bytes]:
    app, cookies = huiqi_app(url, book)
    server, thread, base = serve(app)
    try:
        cookie = {SESSION_COOKIE: cookies[who]}
        return _requests(base, f"/?year={YEAR}", cookie, count, f"/?year={YEAR}&rule={WARM_UP}")
    finally:
        server.should_exit = True
        thread.join(30)


def _static(folder: Path, page: bytes, count: int) -> tuple[float, tuple[float, ...]]:
    """The page as a static file served by uvicorn: the floor of any page."""
    (folder / "static").mkdir()
    (folder / "static" / "index.html").write_bytes(page)
    server, thread, base = serve(StaticFiles(directory=folder / "static"))
    try:
        cold, latencies, _, _ = _requests(base, "/index.html", {}, count)
    finally:
        server.should_exit = True
        thread.join(30)
    return cold, latencies


def _requests(
    base: str, path: str, cookies: dict[str, str], count: int, warm_up: str | None = None
) -> tuple[float, tuple[float, ...], int, bytes]:
    """The first (cold: its data computed) request's time, after ``warm_up`` (a page with other
    data), then ``count`` warm ones' (the page's data reused while the facts are unchanged), the
    page's size and bytes."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, cookies=cookies, timeout=600) as client:
        if warm_up:  # the templates compiled and the login's first use, on another page's data
            client.get(warm_up).raise_for_status()
        started = time.perf_counter()
        answer = client.get(path)
        cold = time.perf_counter() - started
        answer.raise_for_status()
        for _ in range(count):
            started = time.perf_counter()
            answer = client.get(path)
            latencies.append(time.perf_counter() - started)
            answer.raise_for_status()
    return cold, tuple(latencies), len(answer.content), answer.content


def _floor(url: str, book: RuleBook, runs: int) -> float:
    """Best time of the evaluation alone (facts loading + pure engine) of the same year."""
    engine = make_engine(url)
    selection = reports.year_selection(YEAR, AS_OF)
    best = float("inf")
    for _ in range(max(1, runs)):
        with transaction(engine) as session:
            started = time.perf_counter()
            reports.evaluate_selection(session, book, selection)
            best = min(best, time.perf_counter() - started)
    engine.dispose()
    return best


def report(timings: Sequence[Timing]) -> str:
    lines = [
        f"{'dataset':20} {'units':>7} {'cold ms':>8} {'reqs':>5} {'req/s':>7} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'page KB':>8} {'evaluation ms':>14}"
    ]
    for t in timings:
        evaluation = f"{t.floor * 1000:14.1f}" if t.floor is not None else ""
        lines.append(
            f"{t.name:20} {t.units:7d} {t.cold * 1000:8.1f} {t.requests:5d} "
            f"{t.per_second:7.1f} {t.p50 * 1000:8.1f} {t.p95 * 1000:8.1f} "
            f"{t.page_bytes / 1024:8.0f} {evaluation}"
        )
    lines.append(
        "cold: the first request of the page (its data not cached; after one rule's page); "
        "reqs, req/s, p50, p95: the following requests; evaluation: the evaluation alone "
        "(best run); floor: the page as a static file"
    )
    by_name = {t.name: t for t in timings}
    county = by_name["county evaluated"]
    lines.append(_verdict("county dashboard p95 (evaluated)", county.p95, TARGET_P95))
    for name in ("county", "province"):
        if f"{name} township" in by_name:
            township = by_name[f"{name} township"]
            lines.append(_verdict(f"{name}: a township's dashboard, cold", township.cold, 0.050))
    if "province stored" in by_name:
        lines.append(_verdict("province dashboard, cold", by_name["province stored"].cold, 0.300))
    return "\n".join(lines)


def _verdict(what: str, seconds: float, target: float) -> str:
    met = "met" if seconds < target else "NOT met"
    return f"target: {what} < {target * 1000:.0f} ms: {seconds * 1000:.1f} ms, {met}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--province-requests", type=int, default=5)
    parser.add_argument("--no-province", action="store_true")
    parser.add_argument(
        "--postgresql", metavar="URL", help="a PostgreSQL database (a schema of its own is used)"
    )
    parser.add_argument("--counties", type=int, default=86)
    parser.add_argument("--townships", type=int, default=1300)
    parser.add_argument("--villages", type=int, default=17000)
    options = parser.parse_args(argv)
    book = read_rulebook([ROOT / "rules" / "xihe-fulian.yaml"])
    timings = measure("county", demo.XIHE, book, options.requests, options.postgresql)
    if not options.no_province:
        shape = province_bench.province_shape(options.counties, options.townships, options.villages)
        timings += measure("province", shape, book, options.province_requests, options.postgresql)
    print(report(timings))
    return 0 if timings[0].p95 < TARGET_P95 else 1


if __name__ == "__main__":
    sys.exit(main())
