#!/usr/bin/env python3
"""Benchmark: one and two web servers behind Caddy on PostgreSQL, the topology of
deploy/compose.yaml run as processes (Docker cannot run on every machine; the processes can).

usage: python bench/servers.py [--seconds 8] [--clients 8] [--postgres URL]

It makes a fresh PostgreSQL schema (default: postgres@127.0.0.1:5432/test, or
HUIQI_BENCH_POSTGRES_URL), loads the demo county into it with the installed ``huiqi`` (init,
demo as of 2026-09-15, an admin), starts two daemons (``huiqi run``: one leads by the advisory
lock, the other waits) and then, for 1 and for 2 ``huiqi serve`` processes, Caddy with the site
of deploy/compose/Caddyfile (its upstreams pointed at the local ports, HTTP on loopback). Bounded
load: ``--clients`` concurrent clients, each with its own login, request the dashboard
(``GET /?year=2026&as_of=2026-09-15``) for ``--seconds``. The floor, in the same run: the same
clients fetching a static copy of that dashboard page from the same Caddy. Prints requests per
second and p50/p95 latency per topology. On a 2-core machine the load generator, Caddy,
PostgreSQL and the servers share the cores: a second server can only win what one leaves idle.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
HUIQI = str(Path(sys.executable).with_name("huiqi"))
SITE = ROOT / "deploy" / "compose" / "Caddyfile"
DASHBOARD = "/?year=2026&as_of=2026-09-15"
PASSWORD = "bench-servers-password"


@dataclass
class Figures:
    what: str
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.what:<34} {self.per_second:>8.1f} {self.quantile(0.5):>8.1f} "
            f"{self.quantile(0.95):>8.1f} {len(self.latencies):>8}"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """A new PostgreSQL schema for the run, dropped afterwards; its URL."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def huiqi(env: dict[str, str], *args: str) -> None:
    subprocess.run([HUIQI, *args], env=env, cwd=ROOT, check=True, capture_output=True)


def site_for(proxy_port: int, upstreams: list[int], floor: Path) -> str:
    """deploy/compose/Caddyfile on loopback: plain HTTP, local upstreams, and the floor file."""
    shipped = SITE.read_text(encoding="utf-8")
    start = shipped.index("{$HUIQI_SITE:localhost} {")
    site = shipped[start:].replace("{$HUIQI_SITE:localhost} {", f"http://127.0.0.1:{proxy_port} {{")
    site = site.replace("reverse_proxy web1:8000 web2:8000", "reverse_proxy " + " ".join(
        f"127.0.0.1:{port}" for port in upstreams))  # fmt: skip
    site = site.replace("health_interval 10s", "health_interval 1s")
    floor_route = f"\thandle /floor.html {{\n\t\troot * {floor.parent}\n\t\tfile_server\n\t}}\n"
    body_end = site.rindex("}")
    site = site[:body_end] + floor_route.replace("/floor.html", f"/{floor.name}") + "}\n"
    return "{\n\tadmin off\n\tauto_https off\n}\n\n" + site.replace(
        "reverse_proxy ", "handle {\n\t\treverse_proxy ", 1
    ).replace("\t\thealth_interval 1s\n\t}\n", "\t\thealth_interval 1s\n\t}\n\t}\n", 1)


def wait_until_answers(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


async def logged_in(base: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    form = (await client.get("/login")).text
    csrf = form.split('name="csrf" value="')[1].split('"')[0]
    answer = await client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf": csrf, "next": "/"}
    )
    if answer.status_code != 303:
        raise SystemExit(f"login failed: {answer.status_code}")
    return client


async def load(base: str, path: str, clients: int, seconds: float, what: str) -> Figures:
    """``clients`` concurrent clients requesting ``path`` until ``seconds`` have passed."""
    sessions = [await logged_in(base) for _ in range(clients)]
    for session in sessions:  # warm: the first, cold evaluation is not what is measured
        (await session.get(path)).raise_for_status()
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client_loop(session: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop:
            began = time.perf_counter()
            answer = await session.get(path)
            answer.raise_for_status()
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(client_loop(session) for session in sessions))
    elapsed = time.perf_counter() - began
    for session in sessions:
        await session.aclose()
    return Figures(what, elapsed, latencies)


class Processes:
    """Started processes, all stopped at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        self.started.append(process)
        return process

    def stop(self, processes: list[subprocess.Popen[bytes]] | None = None) -> None:
        for process in processes if processes is not None else self.started:
            if process.poll() is None:
                process.terminate()
            process.wait(30)


def leaders(url: str) -> int:
    """How many sessions hold huiqi's daemon advisory lock (one daemon leads)."""
    engine = create_engine(url)
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
    with engine.connect() as connection:
        count = int(connection.execute(query).scalar() or 0)
    engine.dispose()
    return count


def run(base_url: str, clients: int, seconds: float) -> list[Figures]:
    if shutil.which("caddy") is None:
        raise SystemExit("caddy is not installed (Debian: apt-get install caddy)")
    with tempfile.TemporaryDirectory() as scratch, fresh_schema(base_url) as url:
        folder = Path(scratch)
        env = {**os.environ, "HUIQI_DATABASE_URL": url, "HUIQI_PASSWORD": PASSWORD,
               "HUIQI_MAIL__FOLDER": str(folder / "mail"), "HUIQI_WEB__SECURE_COOKIES": "false",
               "HUIQI_BACKUP__FOLDER": str(folder / "backups"),
               "HUIQI_REMINDERS__SEND_AT": "23:59",
               "HUIQI_SECRET_KEY": secrets.token_urlsafe(32)}  # fmt: skip
        huiqi(env, "init")
        huiqi(env, "demo", "--as-of", "2026-09-15")
        huiqi(env, "users", "add", "admin", "--role", "admin")
        processes = Processes(folder)
        try:
            for index in (1, 2):
                processes.start(f"daemon{index}", [HUIQI, "run"], env)
            ports = [free_port(), free_port()]
            servers = [
                processes.start(f"web{index}", [HUIQI, "serve", "--port", str(port)], env)
                for index, port in enumerate(ports, start=1)
            ]
            for port in ports:
                wait_until_answers(f"http://127.0.0.1:{port}/health")
            print(f"daemons: 2 running, {leaders(url)} holding the leader's lock", flush=True)
            figures = [_floor_and_one(processes, env, ports, folder, clients, seconds)]
            figures.append(_behind_caddy(processes, env, ports, folder, clients, seconds, 2))
            processes.stop(servers)
        finally:
            processes.stop()
    return [figure for group in figures for figure in group]


def _floor_and_one(
    processes: Processes, env: dict[str, str], ports: list[int], folder: Path,
    clients: int, seconds: float,
) -> list[Figures]:  # fmt: skip
    return _behind_caddy(processes, env, ports, folder, clients, seconds, 1, with_floor=True)


def _behind_caddy(
    processes: Processes, env: dict[str, str], ports: list[int], folder: Path,
    clients: int, seconds: float, servers: int, with_floor: bool = False,
) -> list[Figures]:  # fmt: skip
    floor = folder / "floor.html"
    proxy_port = free_port()
    site = folder / f"Caddyfile.{servers}"
    site.write_text(site_for(proxy_port, ports[:servers], floor), encoding="utf-8")
    caddy = processes.start(
        f"caddy{servers}", ["caddy", "run", "--adapter", "caddyfile", "--config", str(site)], env
    )
    base = f"http://127.0.0.1:{proxy_port}"
    try:
        wait_until_answers(f"{base}/health")
        results = []
        if with_floor:
            page = asyncio.run(_one_page(base))
            floor.write_text(page, encoding="utf-8")
            results.append(
                asyncio.run(load(base, f"/{floor.name}", clients, seconds, "static file (floor)"))
            )
        what = f"{servers} web server{'s' if servers > 1 else ''} behind caddy"
        results.append(asyncio.run(load(base, DASHBOARD, clients, seconds, what)))
        return results
    finally:
        processes.stop([caddy])


async def _one_page(base: str) -> str:
    client = await logged_in(base)
    page = (await client.get(DASHBOARD)).text
    await client.aclose()
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "HUIQI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    options = parser.parse_args()
    figures = run(options.postgres, options.clients, options.seconds)
    print(f"dashboard of the demo county, {options.clients} clients, {options.seconds:.0f} s each")
    print(f"{'':<34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'requests':>8}")
    for figure in figures:
        print(figure.line())
    floor = figures[0].per_second
    for figure in figures[1:]:
        print(f"{figure.what}: {floor / figure.per_second:.1f}x the floor's time per request")
    print(f"cores: {os.cpu_count()}, shared by the clients, caddy, PostgreSQL and the servers")


if __name__ == "__main__":
    main()
