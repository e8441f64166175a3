"""The "plan the year" page: a month calendar of the proposal, accept, and moving a meeting
with the constraints re-checked; scopes and CSRF as for every change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from scheduler.core.workdays import Workdays
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord
from scheduler.store.models_calendar import Meeting, as_utc
from tests.webfixtures import NOW

pytest_plugins = ["tests.webfixtures"]

Login = Callable[[str], tuple[TestClient, str]]
CALENDAR = Workdays.of()


def planned(engine: Engine) -> list[tuple[int, date]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Meeting.id, Meeting.starts_at)
            .where(Meeting.status == "planned")
            .order_by(Meeting.starts_at)
        ).all()
    return [(mid, as_utc(start).astimezone(NOW.tzinfo).date()) for mid, start in rows]


def test_the_page_shows_the_proposal_in_a_month_calendar_and_accept_plans_it_once(
    client_of: Login, engine: Engine
) -> None:
    client, csrf = client_of("clerk")
    shown = client.get("/units/101/plan?year=2021")
    assert shown.status_code == 200
    assert shown.text.count('class="calendar"') == 12 and "◆" in shown.text
    assert 'action="/units/101/plan/accept"' in shown.text
    forged = client.post("/units/101/plan/accept", data={"csrf": "x", "year": "2021"})
    assert forged.status_code == 403 and planned(engine) == []
    accepted = client.post(
        "/units/101/plan/accept", data={"csrf": csrf, "year": "2021"}, follow_redirects=False
    )
    assert accepted.status_code == 303
    first = planned(engine)
    assert len(first) == 6  # Jul–Dec: three bimonthly meetings and three research visits
    assert all(CALENDAR.is_workday(day) and day > NOW.date() for _, day in first)
    with transaction(engine) as session:
        trail = session.scalar(
            select(func.count())
            .select_from(ChangeRecord)
            .where(ChangeRecord.action == "meeting.plan")
        )
    assert trail == 6
    client.post("/units/101/plan/accept", data={"csrf": csrf, "year": "2021"})
    assert planned(engine) == first
    after = client.get("/units/101/plan?year=2021").text
    assert 'action="/units/101/plan/accept"' not in after and "●" in after


def test_moving_a_meeting_rechecks_the_workday_the_busy_day_and_its_windows(
    client_of: Login, engine: Engine
) -> None:
    client, csrf = client_of("clerk")
    client.post("/units/101/plan/accept", data={"csrf": csrf, "year": "2021"})
    meetings = planned(engine)
    meeting_id, day = meetings[0]
    other_day = meetings[1][1]

    def move(to: date) -> int:
        data = {"csrf": csrf, "date": to.isoformat(), "back": "/units/101/plan?year=2021"}
        return client.post(f"/meetings/{meeting_id}/move", data=data, follow_redirects=False)

    sunday = day + timedelta(days=(6 - day.weekday()) or 7)
    refused = move(sunday)
    assert refused.status_code == 422 and "不是法定工作日" in refused.text
    assert move(other_day).status_code == 422
    far = move(date(2021, 12, 1))
    assert far.status_code == 422 and "将使义务不能按时完成" in far.text
    earlier = CALENDAR.previous_workday(day - timedelta(days=1))
    assert move(earlier).status_code == 303
    assert dict(planned(engine))[meeting_id] == earlier
    with transaction(engine) as session:
        assert session.get_one(Meeting, meeting_id).sequence == 1
    for elsewhere in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        data = {"csrf": csrf, "date": day.isoformat(), "back": elsewhere}
        answer = client.post(f"/meetings/{meeting_id}/move", data=data, follow_redirects=False)
        assert answer.headers["location"] == "/units/101/plan"  # never off the site


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_another_township_may_read_neither_plan_nor_move_its_meetings(
    client_of: Login, engine: Engine
) -> None:
    clerk, csrf = client_of("clerk")
    clerk.post("/units/101/plan/accept", data={"csrf": csrf, "year": "2021"})
    other, other_csrf = client_of("other")
    assert other.get("/units/101/plan").status_code == 403
    answer = other.post("/units/101/plan/accept", data={"csrf": other_csrf, "year": "2021"})
    assert answer.status_code == 403
    meeting_id, day = planned(engine)[0]
    moved = other.post(
        f"/meetings/{meeting_id}/move", data={"csrf": other_csrf, "date": day.isoformat()}
    )
    assert moved.status_code == 403
    viewer, _ = client_of("viewer")
    page = viewer.get("/units/101/plan?year=2021")
    assert page.status_code == 200 and "/move" not in page.text
