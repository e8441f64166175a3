"""The JSON API's review queue: who sees which events, who may accept or return them (403/404
otherwise), the comment a return needs (422, nothing written), paging, and the trail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from scheduler.core.rules import RuleBook
from scheduler.store import accounts
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord, Event
from scheduler.store.models_reviews import EventReview
from tests.countyfacts import load_county

pytest_plugins = ["tests.webfixtures"]
Api = Callable[[str], TestClient]


@pytest.fixture
def api(web_app: FastAPI, engine: Engine) -> Api:
    """``api(user)``: a client sending a fresh bearer token of ``user``."""

    def make(user: str) -> TestClient:
        with transaction(engine) as session:
            token = accounts.create_token(session, user, "test", web_app.state.huiqi.now(), "cli")
        return TestClient(web_app, headers={"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
def hearing(engine: Engine) -> int:
    """The id of 101's hearing (the web app's one event)."""
    with transaction(engine) as session:
        return int(session.scalars(select(Event.id)).one())


def trail_of(engine: Engine) -> list[tuple[str, str, object]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(ChangeRecord.action, ChangeRecord.actor, ChangeRecord.after)
            .where(ChangeRecord.action.like("review.%"))
            .order_by(ChangeRecord.id)
        )
        return [tuple(row) for row in rows]


def test_the_queue_holds_the_events_below_the_callers_units(api: Api, hearing: int) -> None:
    county = api("county").get("/api/reviews")
    assert county.status_code == 200
    (item,) = county.json()["items"]
    assert (item["event"], item["unit"], item["status"], item["reviewer"]) == (
        hearing, "101", "pending", None,
    )  # fmt: skip
    assert api("clerk").get("/api/reviews").json()["items"] == []  # 101 reviews nothing of 101
    assert api("other").get("/api/reviews").json()["items"] == []
    assert api("viewer").get("/api/reviews").json()["items"] == []
    assert api("county").get("/api/reviews?status=maybe").status_code == 422


def test_the_level_above_returns_then_accepts_and_the_trail_has_both(
    api: Api, engine: Engine, hearing: int
) -> None:
    county = api("county")
    returned = county.post(f"/api/reviews/{hearing}/return", json={"comment": "缺会议记录"})
    assert returned.status_code == 200, returned.text
    assert (returned.json()["status"], returned.json()["comment"]) == ("returned", "缺会议记录")
    assert county.get("/api/reviews").json()["items"] == []
    (back,) = county.get("/api/reviews?status=returned").json()["items"]
    assert (back["reviewer"], back["reviewed_at"][:16]) == ("county", "2021-06-30T10:00")
    accepted = county.post(f"/api/reviews/{hearing}/accept", json={})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert trail_of(engine) == [
        ("review.return", "county", {"comment": "缺会议记录"}),
        ("review.accept", "county", None),
    ]


@pytest.mark.parametrize("user", ["clerk", "other", "viewer"])
def test_nobody_but_the_level_above_decides(
    api: Api, engine: Engine, hearing: int, user: str
) -> None:
    client = api(user)
    assert client.post(f"/api/reviews/{hearing}/accept", json={}).status_code == 403
    refused = client.post(f"/api/reviews/{hearing}/return", json={"comment": "x"})
    assert refused.status_code == 403
    with transaction(engine) as session:
        assert session.get(EventReview, hearing) is None
    assert trail_of(engine) == []


def test_a_return_needs_a_comment_and_an_event_that_is_current(
    api: Api, engine: Engine, hearing: int
) -> None:
    county = api("county")
    for body in ({}, {"comment": ""}, {"comment": "   "}, {"comment": "x", "extra": 1}):
        answer = county.post(f"/api/reviews/{hearing}/return", json=body)
        assert answer.status_code == 422, body
    assert county.post("/api/reviews/999/accept", json={}).status_code == 404
    assert api("clerk").post("/api/events/1/void", json={"reason": "错录"}).status_code == 204
    assert county.post(f"/api/reviews/{hearing}/accept", json={}).status_code == 404
    assert trail_of(engine) == []


def test_the_queue_comes_in_pages(api: Api, engine: Engine, book: RuleBook, hearing: int) -> None:
    rows = [("10101", "branch_meeting", f"2021-03-{10 + i}", "", f"会{i}", "", "", f"r{i}")
            for i in range(5)]  # fmt: skip
    load_county(engine, book, rows)
    clerk = api("clerk")  # 101's clerk reviews her village 10101
    seen, link = [], "/api/reviews?limit=2"
    while link:
        answer = clerk.get(link).json()
        seen.extend(item["title"] for item in answer["items"])
        link = answer["next"]
    assert seen == [f"会{i}" for i in range(5)]
    assert clerk.get("/api/reviews?cursor=bm90LWEtY3Vyc29y").status_code == 404
