"""``GET /metrics``: Prometheus text behind a token, numbers that match the database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select, update

from scheduler.calendar import feeds
from scheduler.config import ConfigError
from scheduler.core.rules import RuleBook
from scheduler.store import reports
from scheduler.store.database import transaction
from scheduler.store.models_reminders import OutboxEntry
from scheduler.web.metrics import TOKEN_VARIABLE
from tests.opsworld import NOW, fill, world_settings
from tests.webfixtures import make_app

pytest_plugins = ["tests.webfixtures"]

TOKEN = "a-scrape-token-of-32-characters!"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def world(engine: Engine, book: RuleBook, tmp_path: Path) -> tuple[Engine, object]:
    settings = world_settings(engine.url.render_as_string(False), tmp_path / "mail")
    fill(engine, book, settings)
    return engine, settings


def test_metrics_need_the_token_from_the_environment(
    world: tuple[Engine, object], book: RuleBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, settings = world
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    with TestClient(make_app(engine, book, settings, NOW)) as client:  # type: ignore[arg-type]
        assert client.get("/metrics").status_code == 404
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    with TestClient(make_app(engine, book, settings, NOW)) as client:  # type: ignore[arg-type]
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 32})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert right.headers["content-type"].startswith("text/plain; version=")
    monkeypatch.setenv(TOKEN_VARIABLE, "short")
    with pytest.raises(ConfigError, match=f"{TOKEN_VARIABLE}: at least 16 characters") as short:
        make_app(engine, book, settings, NOW)  # type: ignore[arg-type]
    assert short.value.said("zh") == f"{TOKEN_VARIABLE}：至少需要 16 个字符"


def test_metrics_report_obligations_outbox_jobs_feeds_and_refused_logins(
    world: tuple[Engine, object], book: RuleBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, settings = world
    with transaction(engine) as session:
        token = feeds.create(session, settings, "unit", "101", "test", NOW).token  # type: ignore[arg-type]
        first = session.scalars(select(OutboxEntry.id).order_by(OutboxEntry.id)).first()
        session.execute(
            update(OutboxEntry).where(OutboxEntry.id == first)
            .values(status="pending", created_at=(NOW - timedelta(hours=2)).astimezone(UTC))
        )  # fmt: skip
        states = Counter(session.scalars(select(OutboxEntry.status)))
        selection = reports.year_selection(NOW.year, NOW.date())
        obligations = reports.evaluate_selection(session, book, selection)[2]
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    with TestClient(make_app(engine, book, settings, NOW), base_url="https://testserver") as client:  # type: ignore[arg-type]
        served = client.get(f"/cal/{token}.ics")
        again = client.get(f"/cal/{token}.ics", headers={"If-None-Match": served.headers["etag"]})
        assert (served.status_code, again.status_code) == (200, 304)
        assert client.get("/cal/nobody.ics").status_code == 404
        login = client.get("/login")
        csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
        client.post("/login", data={"username": "admin", "password": "wrong!", "csrf": csrf})
        assert (
            client.get("/api/units", headers={"Authorization": "Bearer hq_nope"}).status_code == 401
        )
        scraped = samples(client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text)
    expected = Counter((o.rule_id, o.status.value) for o in obligations)
    got = {
        labels: value for (name, labels), value in scraped.items() if name == "huiqi_obligations"
    }
    assert got == {(("rule", r), ("status", s)): float(n) for (r, s), n in expected.items()}
    for status, count in states.items():
        assert scraped[("huiqi_outbox_messages", (("status", status),))] == count
    assert scraped[("huiqi_outbox_oldest_pending_seconds", ())] == 7200.0
    assert scraped[("huiqi_job_last_duration_seconds", (("job", "sweep"),))] == 2.0
    assert scraped[("huiqi_job_last_failed", (("job", "backup"),))] == 0.0
    success = scraped[("huiqi_job_last_success_timestamp_seconds", (("job", "backup"),))]
    assert success == NOW.timestamp()
    for answer in ("200", "304", "404"):
        assert scraped[("huiqi_feed_requests_total", (("answer", answer),))] == 1.0
    assert scraped[("huiqi_login_failures_total", (("via", "form"),))] == 1.0
    assert scraped[("huiqi_login_failures_total", (("via", "token"),))] == 1.0
