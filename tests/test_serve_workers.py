"""``huiqi serve --workers 2``: two web processes on one port, sharing sessions and seeing each
other's changes (the page caches are checked against the database, not kept per process)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from scheduler.core.rules import RuleBook
from tests.conftest import ROOT, huiqi_executable
from tests.countyfacts import load_county
from tests.mailsink import free_port
from tests.opsworld import PASSWORD
from tests.test_daemon import until
from tests.test_operations_processes import Group, environment, log_in


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


@pytest.fixture
def served(engine: Engine, book: RuleBook, tmp_path: Path) -> Iterator[tuple[httpx.Client, dict]]:
    load_county(engine, book)
    env = environment(
        engine, tmp_path, HUIQI_PASSWORD=PASSWORD, HUIQI_WEB__SECURE_COOKIES="false",
        HUIQI_WEB__CACHE_SECONDS="3600",
    )  # fmt: skip
    subprocess.run([huiqi_executable(), "users", "add", "admin", "--role", "admin"], env=env,
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    port = free_port()
    server = Group(["serve", "--port", str(port), "--workers", "2"], env, tmp_path / "serve.log")
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        until(lambda: len(children(server.popen.pid)) >= 2, "two worker processes")
        until(lambda: _answers(client), "the web server to answer")
        yield client, env
    finally:
        client.close()
        server.kill()
    assert "，2 个工作进程（" in server.output  # the start-up line, in the configured language


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.TransportError:
        return False


def _dashboards(client: httpx.Client, times: int) -> set[str]:
    pages = set()
    for _ in range(times):
        answer = client.get("/", params={"as_of": "2026-12-01"})
        assert answer.status_code == 200
        pages.add(answer.text)
    return pages


def test_two_workers_share_sessions_and_see_each_others_changes(
    served: tuple[httpx.Client, dict],
) -> None:
    client, env = served
    log_in(client)
    before = _dashboards(client, 12)  # many requests: both workers answer some, from one session
    assert len(before) == 1, "every worker shows the same dashboard"
    added = subprocess.run(
        [huiqi_executable(), "events", "add", "--unit", "101", "--kinds", "hearing",
         "--date", "2026-11-20", "--by", "test"],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    after = _dashboards(client, 12)
    assert len(after) == 1 and after != before, "no worker keeps the dashboard of before"
