"""Feeds over real HTTP from ``huiqi serve`` on a free loopback port: ETag, 304, revocation.

The server reads the real clock, so the event this test records is dated on the test's own
today: whatever the date, it meets the open hearing obligation and so changes the feed.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from icalendar import Calendar
from sqlalchemy import Engine

from scheduler.calendar import feeds
from scheduler.core.rules import RuleBook
from scheduler.store import registry
from scheduler.store.database import transaction
from tests.calendarfacts import NOW, SHANGHAI, calendar_settings
from tests.conftest import BUNDLED_RULES, ROOT, huiqi_executable
from tests.countyfacts import load_county
from tests.mailsink import free_port


@pytest.fixture
def server(engine: Engine, book: RuleBook, database_url: str) -> Iterator[int]:
    """``huiqi serve`` on the test database (with the small county), answering on its port."""
    load_county(engine, book)
    port = free_port()
    env = {**os.environ, "HUIQI_DATABASE_URL": database_url, "HUIQI_RULES": str(BUNDLED_RULES)}
    process = subprocess.Popen(
        [huiqi_executable(), "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait_for(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"huiqi serve exited: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)  # polling for the server to listen, not waiting for time to pass
    raise AssertionError("huiqi serve did not start listening within 30 s")


def get(
    connection: http.client.HTTPConnection, path: str, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    connection.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_a_feed_is_served_then_revalidated_then_changed_then_revoked(
    server: int, engine: Engine, book: RuleBook
) -> None:
    settings = calendar_settings(engine.url.render_as_string(hide_password=False))
    with transaction(engine) as session:
        token = feeds.create(session, settings, "unit", "101", "孙主席", NOW).token
    path = f"/cal/{token}.ics"
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)

    status, headers, body = get(connection, "/health")
    assert (status, body) == (200, b'{"status":"ok"}')

    status, headers, body = get(connection, path)
    assert status == 200 and headers["content-type"] == "text/calendar; charset=utf-8"
    etag, modified = headers["etag"], headers["last-modified"]
    calendar = Calendar.from_ical(body)
    assert calendar["METHOD"] == "PUBLISH" and calendar["X-WR-CALNAME"] == "东山镇 会期"
    today = datetime.now(SHANGHAI)
    assert any("听取妇联工作汇报" in str(event["SUMMARY"]) for event in calendar.events)

    assert get(connection, path, If_None_Match=etag)[:1] == (304,)
    status, headers, body = get(connection, path, If_Modified_Since=modified)
    assert (status, headers["etag"], body) == (304, etag, b"")
    earlier = format_datetime(parsedate_to_datetime(modified) - timedelta(seconds=1), usegmt=True)
    assert get(connection, path, If_Modified_Since=earlier)[0] == 200
    assert get(connection, path, If_None_Match='"stale"')[0] == 200

    with transaction(engine) as session:
        cells = {"unit": "101", "kinds": "hearing", "date": today.date().isoformat()}
        registry.add_event(session, book, cells, "刘主席", today)
    status, headers, body = get(connection, path, If_None_Match=etag)
    assert status == 200 and headers["etag"] != etag
    assert not any(
        "听取妇联工作汇报" in str(event["SUMMARY"]) for event in Calendar.from_ical(body).events
    )

    with transaction(engine) as session:
        feeds.revoke(session, token, "admin", NOW)
    revoked = get(connection, path, If_None_Match=headers["etag"])
    unknown = get(connection, "/cal/" + "A" * 43 + ".ics")
    assert revoked[0] == unknown[0] == 404
    assert revoked[2] == unknown[2] == b"Not Found"
    assert revoked[1]["content-type"] == unknown[1]["content-type"] == "text/plain; charset=utf-8"
