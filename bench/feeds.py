"""Feed benchmark: requests per second over loopback with one keep-alive client.

Builds the demo county (``huiqi init`` + ``huiqi demo``) in a temporary SQLite file (or uses
``--database-url``), creates a feed for one township and one for the whole county (subtree),
starts the web app with uvicorn in a child process, with the township feed's bytes also mounted
as a static file on the same server (the floor: what serving those bytes costs with no work),
and measures, in the same run:

* the township feed (200), as clients get it: rendered once, then reused until facts change;
* the same feed rendered on every request (``calendar.feed_cache_seconds: 0``, a second app);
* the county feed (200) and the 304 answer to ``If-None-Match``;
* the static file (200) and its own 304.

Run: ``.venv/bin/python bench/feeds.py [--seconds 3]``. The target is the township feed at half
the static floor or better. The figures depend on the machine's load: quote them with it.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUIQI = str(Path(sys.executable).parent / "huiqi")


@dataclass(frozen=True)
class Figure:
    name: str
    requests: int
    seconds: float
    size: int
    status: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--database-url", default=None, help="use this database as it is")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="huiqi-bench-") as folder:
        url = options.database_url or prepare(Path(folder))
        tokens = create_feeds(url)
        run(url, tokens, Path(folder), options.seconds)


def huiqi(url: str, *args: str) -> str:
    env = {**os.environ, "HUIQI_DATABASE_URL": url}
    result = subprocess.run(
        [HUIQI, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"huiqi {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def prepare(folder: Path) -> str:
    url = f"sqlite:///{folder / 'bench.db'}"
    huiqi(url, "init")
    huiqi(url, "demo")
    return url


def create_feeds(url: str) -> dict[str, str]:
    """Tokens of a township feed and of the county (subtree) feed."""
    from sqlalchemy import select

    from scheduler.store.database import make_engine, transaction
    from scheduler.store.models import Unit

    with transaction(make_engine(url)) as session:
        county = session.scalar(select(Unit.code).where(Unit.kind == "county").order_by(Unit.code))
        township = session.scalar(
            select(Unit.code).where(Unit.kind == "township").order_by(Unit.code)
        )
    assert county and township, "the database has no county or township"

    def token(*args: str) -> str:
        lines = huiqi(url, "feeds", "create", *args).splitlines()
        return next(line for line in lines if line.startswith("token:")).split()[-1]

    return {"township": token("--unit", township), "county": token("--unit", county, "--subtree")}


def serve(url: str, port: int, static: str, cache_seconds: int) -> None:
    """The child process: create_app + the static floor, under uvicorn."""
    import uvicorn
    from fastapi.staticfiles import StaticFiles

    from scheduler.config import load_settings
    from scheduler.web.app import create_app

    os.environ["HUIQI_DATABASE_URL"] = url
    os.environ["HUIQI_CALENDAR__FEED_CACHE_SECONDS"] = str(cache_seconds)
    app = create_app(load_settings(ROOT / "config.yaml"))
    app.mount("/static", StaticFiles(directory=static), name="static")
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
        timeout_keep_alive=120,
    )  # fmt: skip


def start(url: str, static: Path, cache_seconds: int) -> tuple[multiprocessing.Process, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = multiprocessing.Process(
        target=serve, args=(url, port, str(static), cache_seconds), daemon=True
    )
    process.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


@dataclass
class Target:
    """One URL measured on its own keep-alive connection."""

    name: str
    port: int
    path: str
    headers: dict[str, str]
    requests: int = 0
    seconds: float = 0.0
    size: int = 0
    status: int = 0

    def __post_init__(self) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for _ in range(20):
            self.fetch()

    def fetch(self) -> None:
        self.connection.request("GET", self.path, headers=self.headers)
        response = self.connection.getresponse()
        self.size, self.status = len(response.read()), response.status

    def run(self, seconds: float) -> None:
        """Requests back to back for ``seconds``, added to the totals."""
        began = time.perf_counter()
        while (elapsed := time.perf_counter() - began) < seconds:
            self.fetch()
            self.requests += 1
        self.seconds += elapsed

    def figure(self) -> Figure:
        return Figure(self.name, self.requests, self.seconds, self.size, self.status)


def first_response(port: int, path: str) -> tuple[str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.getheader("ETag") or "", body


def run(url: str, tokens: dict[str, str], folder: Path, seconds: float) -> None:
    """Measure every target in interleaved rounds, so a busy machine slows them alike."""
    static = folder / "static"
    static.mkdir(exist_ok=True)
    cached, port = start(url, static, 60)
    uncached, plain_port = start(url, static, 0)
    try:
        township, county = (f"/cal/{tokens[name]}.ics" for name in ("township", "county"))
        etag, body = first_response(port, township)
        (static / "township.ics").write_bytes(body)
        static_etag, _ = first_response(port, "/static/township.ics")
        targets = [
            Target("static file (floor)", port, "/static/township.ics", {}),
            Target("township feed", port, township, {}),
            Target("township feed, rendered each time", plain_port, township, {}),
            Target("county feed (subtree)", port, county, {}),
            Target("township feed 304", port, township, {"If-None-Match": etag}),
            Target("static file 304", port, "/static/township.ics", {"If-None-Match": static_etag}),
        ]
        rounds = 12
        for turn in range(rounds):  # rotate the order: no target always follows the same one
            for target in targets[turn % len(targets) :] + targets[: turn % len(targets)]:
                target.run(seconds / rounds)
    finally:
        cached.terminate()
        uncached.terminate()
    report([target.figure() for target in targets])


def report(figures: list[Figure]) -> None:
    floor = figures[0].rate
    print(f"{'what':36} {'status':>6} {'bytes':>7} {'req/s':>9} {'vs floor':>9}")
    for figure in figures:
        share = f"{figure.rate / floor:.0%}"
        print(
            f"{figure.name:36} {figure.status:>6} {figure.size:>7} {figure.rate:>9.0f} {share:>9}"
        )
    township = next(f for f in figures if f.name == "township feed")
    verdict = "met" if township.rate >= floor / 2 else "NOT met"
    print(f"target (township feed >= half the static floor): {verdict}")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
