"""The web app on a real database with a fixed clock, its users, and logged-in clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from argon2 import PasswordHasher, profiles
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from scheduler.config import Settings
from scheduler.core.rules import RuleBook
from scheduler.store import accounts, obligations
from scheduler.store.database import transaction
from scheduler.web.app import create_app
from scheduler.web.context import WebContext
from tests.conftest import BUNDLED_RULES, ROOT
from tests.countyfacts import SHANGHAI, load_county

NOW = datetime(2021, 6, 30, 10, 0, tzinfo=SHANGHAI)
PASSWORD = "correct horse"
USERS = {
    "admin": ("admin", None),
    "clerk": ("clerk", "101"),
    "viewer": ("viewer", "100"),
    "other": ("clerk", "102"),
    "county": ("clerk", "100"),
}
EVENTS = [("101", "hearing", "2021-02-10", "10:00", "党委听取妇联工作汇报", "", "", "h1")]


@dataclass(frozen=True)
class FixedClock(WebContext):
    """The app's context with "now" fixed: tests never depend on today's date."""

    fixed: datetime = NOW

    def now(self) -> datetime:
        return self.fixed


def settings_for(database_url: str, tmp: str) -> Settings:
    return Settings(
        database_url=database_url,
        rules=[str(BUNDLED_RULES)],
        base_dir=str(ROOT),
        mail={"transport": "folder", "folder": f"{tmp}/mail"},  # type: ignore[arg-type]
        files={"folder": f"{tmp}/files"},  # type: ignore[arg-type]
    )


def make_app(engine: Engine, book: RuleBook, settings: Settings, now: datetime = NOW) -> FastAPI:
    app = create_app(settings)
    app.state.huiqi = FixedClock(settings, book, engine, now)
    return app


def add_users(engine: Engine) -> None:
    with transaction(engine) as session:
        for name, (role, unit) in USERS.items():
            accounts.add_user(session, name, role, unit, PASSWORD, NOW, "县妇联", display_name=name)


def log_in(client: TestClient, name: str) -> str:
    """Log ``name`` in through the login form; returns the session's CSRF token."""
    form = client.get("/login")
    token = form.text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/")
    return page.text.split('name="csrf" value="')[1].split('"')[0]


@pytest.fixture
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id with its cheapest parameters: the production ones cost ~0.7 s a hash."""
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def web_app(
    engine: Engine, book: RuleBook, database_url: str, tmp_path: object, cheap_hashes: None
) -> FastAPI:
    load_county(engine, book, EVENTS)
    with transaction(engine) as session:  # the dashboard reads the stored obligations
        obligations.settle(session, book, NOW.date())
    add_users(engine)
    return make_app(engine, book, settings_for(database_url, str(tmp_path)))


@pytest.fixture
def client_of(web_app: FastAPI) -> Iterator[object]:
    """``client_of(name)``: a client logged in as ``name``, and its CSRF token."""
    clients: list[TestClient] = []

    def make(name: str) -> tuple[TestClient, str]:
        client = TestClient(web_app, base_url="https://testserver")
        clients.append(client)
        return client, log_in(client, name)

    yield make
    for client in clients:
        client.close()
