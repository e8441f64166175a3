"""Group-chat robots (WeCom, DingTalk) receiving the digest on a real local HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine

from scheduler.config import ChatSettings
from scheduler.core.rules import RuleBook
from scheduler.reminders.digest import CHAT_LIMIT, Digest, Line, chat_of
from tests.remindworld import DAY, load, rows, run_dispatch, run_sweep, settings_for, url_of

SECRET = "SEC0123456789abcdef"


@dataclass
class Robot:
    """A webhook receiver: records each request, answers from ``answers`` (then errcode 0)."""

    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, list[str]], dict[str, Any]]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def robot() -> Iterator[Robot]:
    state = Robot()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            parts = urlsplit(self.path)
            state.requests.append((parts.path, parse_qs(parts.query), body))
            status, answer = state.answers.pop(0) if state.answers else (200, {"errcode": 0})
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/robot/send?access_token=t0k"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def county(engine: Engine, book: RuleBook) -> Engine:
    load(engine, book)
    return engine


def chat_settings(engine: Engine, kind: str, secret: bool = False, **extra: Any) -> Any:
    chat = ChatSettings(
        unit="101",
        kind=kind,  # type: ignore[arg-type]
        url_env="HUIQI_TEST_CHAT_URL",
        secret_env="HUIQI_TEST_CHAT_SECRET" if secret else None,
    )
    return settings_for(url_of(engine), 1, chats=[chat], **extra)


def chat_rows(engine: Engine) -> list[Any]:
    return [r for r in rows(engine) if r.recipient.startswith("chat:")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_wecom_robot_gets_the_units_digest_as_markdown(
    county: Engine, book: RuleBook, robot: Robot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUIQI_TEST_CHAT_URL", robot.url)
    settings = chat_settings(county, "wecom")
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings)
    (path, _, body), *more = robot.requests
    assert (path, more) == ("/robot/send", [])
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith("### 会期提醒 · 东山镇")
    assert "**东山镇 · 乡镇党委听取妇联工作汇报**" in content
    assert "截止 2026年10月31日，还剩 15 天" in content
    assert [r.status for r in chat_rows(county)] == ["sent", "sent"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_dingtalk_robot_gets_a_signed_request(
    county: Engine, book: RuleBook, robot: Robot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUIQI_TEST_CHAT_URL", robot.url)
    monkeypatch.setenv("HUIQI_TEST_CHAT_SECRET", SECRET)
    settings = chat_settings(county, "dingtalk", secret=True)
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings)
    (_, query, body), *_ = robot.requests
    timestamp, sign = query["timestamp"][0], query["sign"][0]
    expected = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256)
    assert sign == base64.b64encode(expected.digest()).decode()
    assert query["access_token"] == ["t0k"]
    assert body["markdown"]["title"] == "【会期提醒】东山镇：2 项义务，最近截止 2026年10月31日"
    assert "乡镇党委调研妇联工作进展" in body["markdown"]["text"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_webhook_answering_5xx_is_retried_until_it_takes_the_message(
    county: Engine, book: RuleBook, robot: Robot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUIQI_TEST_CHAT_URL", robot.url)
    robot.answers = [(502, {"error": "bad gateway"})]
    settings = chat_settings(county, "wecom")
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings)
    assert {(r.status, r.attempts, r.last_error) for r in chat_rows(county)} == {
        ("pending", 1, "chat 101: HTTP 502")
    }
    run_dispatch(county, book, settings, DAY + timedelta(seconds=61))
    assert {(r.status, r.attempts) for r in chat_rows(county)} == {("sent", 2)}
    assert len(robot.requests) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_errcode_is_a_failure_even_with_http_200(
    county: Engine, book: RuleBook, robot: Robot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUIQI_TEST_CHAT_URL", robot.url)
    robot.answers = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    settings = chat_settings(county, "wecom")
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings)
    assert {(r.status, r.last_error) for r in chat_rows(county)} == {
        ("failed", "chat 101: errcode 93000 invalid webhook url")
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_robot_whose_url_variable_is_unset_is_retried_and_reported(
    county: Engine, book: RuleBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUIQI_TEST_CHAT_URL", raising=False)
    settings = chat_settings(county, "wecom")
    run_sweep(county, book, settings)
    outcome = run_dispatch(county, book, settings)
    assert any("HUIQI_TEST_CHAT_URL is not set" in error for error in outcome.errors)
    assert {(r.status, r.last_error) for r in chat_rows(county)} == {
        ("pending", "chat 101: environment variable HUIQI_TEST_CHAT_URL is not set")
    }


def test_a_long_digest_is_cut_to_fit_the_robots_limit(book: RuleBook, tmp_path: Any) -> None:
    line = Line(
        1, "101", "东山镇" * 10, "township-hearing", "2026-B5", date(2026, 9, 1),
        date(2026, 10, 31), "on due", date(2026, 10, 31), Decimal(1), Decimal(0),
    )  # fmt: skip
    lines = tuple(Line(n, *list(vars(line).values())[1:]) for n in range(60))
    digest = Digest("chat:2", date(2026, 10, 30), lines)
    settings = settings_for("sqlite://")
    title, text = chat_of(digest, "东山镇", book, settings)
    assert len(text.encode()) <= CHAT_LIMIT
    assert "60 项义务需要关注" in text
    assert "……另有" in text
    assert title.startswith("【会期提醒】")
