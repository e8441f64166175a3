"""Waivers on the web: a clerk requests from the obligation page, an approver a level above
decides from the queue, an admin waives directly. The real app on a real database."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from scheduler.store.database import transaction
from scheduler.store.models import Waiver

pytest_plugins = ["tests.webfixtures"]
CELL = "/obligations/101/township-research/2021-B1"
Login = Callable[[str], tuple[TestClient, str]]


def request_waiver(client: TestClient, csrf: str) -> None:
    form = client.get(CELL).text
    assert 'name="by"' not in form and "申请豁免" in form  # nobody is named approver
    data = {"csrf": csrf, "rule": "township-research", "period": "2021-B1", "reason": "防汛值班"}
    answer = client.post("/units/101/waive", data={**data, "back": CELL}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == CELL


def waivers_of(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count(Waiver.id))) or 0


def request_id(page: str) -> str:
    found = re.search(r'id="waiver-(\d+)"', page)
    assert found is not None, page
    return found.group(1)


def test_a_clerks_request_is_marked_and_changes_nothing_until_approved(
    client_of: Login, engine: Engine
) -> None:
    clerk, csrf = client_of("clerk")
    request_waiver(clerk, csrf)
    cell = clerk.get(CELL).text
    assert "已申请豁免" in cell and "防汛值班" in cell and "✗" in cell
    assert "已申请豁免" in clerk.get("/units/101").text
    queue = clerk.get("/waivers").text
    assert "由上级审批" in queue and "/approve" not in queue
    number = request_id(queue)
    refused = clerk.post(f"/waivers/{number}/approve", data={"csrf": csrf})
    assert refused.status_code == 422 and "不能审批自己提交的免于考核申请" in refused.text
    assert waivers_of(engine) == 0
    county, county_csrf = client_of("county")
    assert f'action="/waivers/{number}/approve"' in county.get("/waivers").text
    data = {"csrf": county_csrf, "comment": "同意"}
    approved = county.post(f"/waivers/{number}/approve", data=data, follow_redirects=False)
    assert approved.status_code == 303
    assert waivers_of(engine) == 1
    cell = clerk.get(CELL).text
    assert "–" in cell and "批准人 county" in cell


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_admin_waives_directly_and_cannot_approve_her_own_request(
    client_of: Login, engine: Engine
) -> None:
    admin, csrf = client_of("admin")
    data = {"csrf": csrf, "rule": "township-research", "period": "2021-B1", "reason": "合并"}
    assert admin.post("/units/101/waive", data=data, follow_redirects=False).status_code == 303
    assert waivers_of(engine) == 1
    clerk, clerk_csrf = client_of("clerk")
    data = {"csrf": clerk_csrf, "rule": "township-study", "period": "2021-Q1", "reason": "x"}
    clerk.post("/units/101/waive", data=data)
    other_clerk, _ = client_of("other")
    assert 'id="waiver-' not in other_clerk.get("/waivers").text  # 102 cannot read 101's
    viewer, viewer_csrf = client_of("viewer")
    number = request_id(admin.get("/waivers").text)
    assert viewer.post(f"/waivers/{number}/approve", data={"csrf": viewer_csrf}).status_code == 422
    refused = viewer.post("/units/101/waive", data={**data, "csrf": viewer_csrf})
    assert refused.status_code == 403
    assert waivers_of(engine) == 1
