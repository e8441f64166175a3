"""Login throttling: counted in the database, checked before any password hash, 429 with
Retry-After until the window passes; the clock is a parameter, never a sleep."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher, profiles
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from scheduler.store import accounts, throttle
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord
from tests.webfixtures import NOW, PASSWORD

pytest_plugins = ["tests.webfixtures"]
LIMITS = throttle.ThrottleLimits(per_user=10, per_address=50, window=timedelta(minutes=15))


class CountingHasher(PasswordHasher):
    """argon2id at its cheapest, counting the hashes it computes."""

    def __init__(self) -> None:
        cheap = profiles.CHEAPEST
        super().__init__(cheap.time_cost, cheap.memory_cost, cheap.parallelism, cheap.hash_len)
        self.hashes = 0

    def hash(self, password: str | bytes, **options: Any) -> str:
        self.hashes += 1
        return super().hash(password, **options)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.hashes += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch, web_app: FastAPI) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "HASHER", counting)
    return counting


def at(app: FastAPI, moment: datetime) -> None:
    """Move the app's clock."""
    app.state.huiqi = replace(app.state.huiqi, fixed=moment)


def try_login(client: TestClient, name: str, password: str) -> Any:
    form = client.get("/login")
    token = form.text.split('name="csrf" value="')[1].split('"')[0]
    data = {"username": name, "password": password, "csrf": token, "next": "/"}
    return client.post("/login", data=data, follow_redirects=False)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_after_ten_failures_a_name_gets_429_without_a_hash_until_the_window_passes(
    web_app: FastAPI, hasher: CountingHasher
) -> None:
    client = TestClient(web_app, base_url="https://testserver")
    for _ in range(10):
        assert try_login(client, "clerk", "wrong password").status_code == 401
    hashes = hasher.hashes
    refused = try_login(client, "clerk", PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "900"
    assert "15" in refused.text and hasher.hashes == hashes
    at(web_app, NOW + timedelta(minutes=5))
    assert try_login(client, "clerk", PASSWORD).headers["Retry-After"] == "600"
    at(web_app, NOW + timedelta(minutes=15, seconds=1))
    assert try_login(client, "clerk", PASSWORD).status_code == 303


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_another_users_login_neither_is_blocked_nor_resets_the_count(
    web_app: FastAPI, hasher: CountingHasher
) -> None:
    client = TestClient(web_app, base_url="https://testserver")
    for _ in range(10):
        try_login(client, "clerk", "wrong password")
    assert try_login(client, "admin", PASSWORD).status_code == 303
    assert try_login(client, "clerk", PASSWORD).status_code == 429


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_failed_logins_are_in_the_trail_with_their_address(
    web_app: FastAPI, engine: Engine, hasher: CountingHasher
) -> None:
    client = TestClient(web_app, base_url="https://testserver")
    try_login(client, "clerk", "wrong password")
    try_login(client, "nobody", "wrong password")
    with transaction(engine) as session:
        rows = session.scalars(
            select(ChangeRecord).where(ChangeRecord.action == "login.failed")
        ).all()
        assert [(r.subject, r.actor, r.unit_id is not None) for r in rows] == [
            ("user clerk", "testclient", True),
            ("user nobody", "testclient", False),
        ]


def test_fifty_failures_from_one_address_stop_every_name_from_it_only(engine: Engine) -> None:
    with transaction(engine) as session:
        for number in range(50):
            moment = NOW + timedelta(seconds=number)
            throttle.record(session, f"name{number}", "10.0.0.1", False, moment, LIMITS)
    later = NOW + timedelta(minutes=1)
    with transaction(engine) as session:
        wait = throttle.retry_after(session, "somebody", "10.0.0.1", later, LIMITS)
        assert wait == 15 * 60 - 60
        assert throttle.retry_after(session, "somebody", "10.0.0.2", later, LIMITS) is None


def test_a_success_restarts_the_count_of_its_own_name_only(engine: Engine) -> None:
    with transaction(engine) as session:
        for _ in range(9):
            throttle.record(session, "liu", "10.0.0.1", False, NOW, LIMITS)
        throttle.record(session, "liu", "10.0.0.1", True, NOW + timedelta(seconds=1), LIMITS)
        for _ in range(9):
            throttle.record(session, "liu", "10.0.0.1", False, NOW + timedelta(seconds=2), LIMITS)
    with transaction(engine) as session:
        after = NOW + timedelta(seconds=3)
        assert throttle.retry_after(session, "liu", "10.0.0.1", after, LIMITS) is None
        throttle.record(session, "liu", "10.0.0.1", False, after, LIMITS)
        assert throttle.retry_after(session, "liu", "10.0.0.1", after, LIMITS) == 15 * 60 - 1
