#!/usr/bin/env python3
"""Benchmark: the dashboard page over real HTTP, next to the raw evaluation of the same data.

usage: python bench/web.py [--requests 60] [--province-requests 5] [--no-province]
                           [--counties 86] [--townships 1300] [--villages 17000]

For the demo county (``huiqi demo``'s data, 2026 as of 2026-09-15) and for the province-sized
dataset of bench/evaluate.py, in temporary SQLite databases built the way bench/evaluate.py
builds them, it serves the app with uvicorn on loopback, logs an admin in, and times sequential
``GET /?year=2026`` requests (all rules: the county and its townships, 12 rule blocks): requests
per second, p50 and p95 latency, after a first, cold request reported on its own (later requests
reuse the evaluation while the facts are unchanged). In the same run it times the floor: the
evaluation alone (`scheduler.store.reports.evaluate_selection` of the same year, facts loading
included), best of the same number of runs. Target: the demo county's dashboard under 100 ms at p95.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import evaluate as province_bench  # noqa: E402

from scheduler.config import Settings  # noqa: E402
from scheduler.core.access import Role  # noqa: E402
from scheduler.core.rules import RuleBook  # noqa: E402
from scheduler.demo import county as demo  # noqa: E402
from scheduler.rulefiles import read_rulebook  # noqa: E402
from scheduler.store import accounts, reports  # noqa: E402
from scheduler.store.database import make_engine, migrate, transaction  # noqa: E402
from scheduler.web.app import create_app  # noqa: E402
from scheduler.web.context import WebContext  # noqa: E402
from scheduler.web.kit import SESSION_COOKIE  # noqa: E402

YEAR = 2026
AS_OF = date(2026, 9, 15)
NOW = datetime(2026, 9, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TARGET_P95 = 0.100


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
    floor: float

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


def build(folder: Path, book: RuleBook, shape: demo.Shape) -> tuple[str, int]:
    """A database holding the demo data of ``shape``; returns its URL and unit count."""
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    counts = province_bench.build(engine, book, demo.generate(year=YEAR, as_of=AS_OF, shape=shape))
    engine.dispose()
    return url, counts["units"]


def serve(url: str, book: RuleBook) -> tuple[uvicorn.Server, threading.Thread, str, str]:
    """The app on a free loopback port and the cookie of a logged-in admin."""
    settings = Settings(
        database_url=url, rules=[str(ROOT / "rules" / "xihe-fulian.yaml")], base_dir=str(ROOT)
    )
    app = create_app(settings)
    app.state.huiqi = BenchClock(settings, book, app.state.huiqi.engine)
    with transaction(app.state.huiqi.engine) as session:
        user = accounts.add_user(
            session, "bench", Role.ADMIN.value, None, "bench-password", NOW, "bench"
        )
        cookie = accounts.open_session(session, user, NOW).cookie
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)  # waiting for the server to listen
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}", cookie


def measure(name: str, shape: demo.Shape, book: RuleBook, requests: int) -> Timing:
    with tempfile.TemporaryDirectory(prefix="huiqi-web-bench-") as folder:
        url, units = build(Path(folder), book, shape)
        server, thread, base, cookie = serve(url, book)
        try:
            cold, latencies, size = _requests(base, cookie, requests)
        finally:
            server.should_exit = True
            thread.join(30)
        floor = _floor(url, book, requests)
    return Timing(name, units, requests, size, cold, tuple(latencies), floor)


def _requests(base: str, cookie: str, count: int) -> tuple[float, list[float], int]:
    """The first (cold: evaluates) request's time, then ``count`` warm ones (the evaluation
    reused while the facts are unchanged)."""
    latencies: list[float] = []
    size = 0
    with httpx.Client(base_url=base, cookies={SESSION_COOKIE: cookie}, timeout=600) as client:
        started = time.perf_counter()
        client.get(f"/?year={YEAR}").raise_for_status()
        cold = time.perf_counter() - started
        for _ in range(count):
            started = time.perf_counter()
            answer = client.get(f"/?year={YEAR}")
            latencies.append(time.perf_counter() - started)
            answer.raise_for_status()
            size = len(answer.content)
    return cold, latencies, size


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
        f"{'dataset':10} {'units':>7} {'floor ms':>9} {'cold ms':>8} {'reqs':>5} "
        f"{'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'page KB':>8}"
    ]
    for t in timings:
        lines.append(
            f"{t.name:10} {t.units:7d} {t.floor * 1000:9.1f} {t.cold * 1000:8.1f} "
            f"{t.requests:5d} {t.per_second:7.1f} {t.p50 * 1000:8.1f} "
            f"{t.p95 * 1000:8.1f} {t.page_bytes / 1024:8.0f}"
        )
    lines.append(
        "floor: evaluation alone (best run); cold: the first request (evaluates); "
        "reqs, req/s, p50, p95: the following requests (evaluation reused)"
    )
    county = timings[0]
    verdict = "met" if county.p95 < TARGET_P95 else "NOT met"
    lines.append(f"target: demo county dashboard p95 < {TARGET_P95 * 1000:.0f} ms: {verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--province-requests", type=int, default=5)
    parser.add_argument("--no-province", action="store_true")
    parser.add_argument("--counties", type=int, default=86)
    parser.add_argument("--townships", type=int, default=1300)
    parser.add_argument("--villages", type=int, default=17000)
    options = parser.parse_args(argv)
    book = read_rulebook([ROOT / "rules" / "xihe-fulian.yaml"])
    timings = [measure("county", demo.XIHE, book, options.requests)]
    if not options.no_province:
        shape = province_bench.province_shape(options.counties, options.townships, options.villages)
        timings.append(measure("province", shape, book, options.province_requests))
    print(report(timings))
    return 0 if timings[0].p95 < TARGET_P95 else 1


if __name__ == "__main__":
    sys.exit(main())
