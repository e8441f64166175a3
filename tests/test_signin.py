"""Meeting sign-in: the sheet by its QR URL on the meeting's day, 代签 and 补签, mark held."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from scheduler.calendar import meetings, signins
from scheduler.core.links import Refusal, TokenRefused
from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord, EventAttendance
from scheduler.store.models_calendar import Meeting
from tests.conftest import TEST_SECRET_KEY
from tests.phoneworld import app_at, phone_settings
from tests.remindworld import DAY, SHANGHAI, add_people, load, url_of
from tests.webfixtures import add_users, log_in

pytest_plugins = ["tests.webfixtures"]
KEY = TEST_SECRET_KEY.encode()
MEETING_DAY = datetime(2026, 10, 20, 9, 30, tzinfo=SHANGHAI)
URL = re.compile(r'id="signin-url" href="([^"]+)"')


@pytest.fixture
def planned(engine: Engine, book: RuleBook, cheap_hashes: None) -> int:
    """A hearing at 101 on Tuesday 2026-10-20 10:00 for four attendees."""
    load(engine, book)
    add_people(
        engine, book,
        ("王专干", "wang@example.org", "", "101", "clerk", "2020-01-01", ""),
        ("赵专干", "zhao@example.org", "", "101", "clerk", "2020-01-01", ""),
    )  # fmt: skip
    add_users(engine)
    fields = meetings.MeetingFields(
        unit="101", kinds=("hearing",), title="党委听取妇联工作汇报",
        start=MEETING_DAY.replace(hour=10), end=MEETING_DAY.replace(hour=11, minute=30),
        attendees=("fulian_chair", "party_secretary", "clerk"),
    )  # fmt: skip
    with transaction(engine) as session:
        change = meetings.plan(session, book, fields, "clerk", DAY, "huiqi")
        return change.meeting.id


def clients(engine: Engine, book: RuleBook, tmp: Path, now: datetime) -> tuple[TestClient, ...]:
    settings = phone_settings(url_of(engine), tmp / "mail", "http://testserver")
    app = app_at(engine, book, settings, now)
    return TestClient(app, base_url="https://testserver"), TestClient(app)


def test_three_sign_in_by_the_qr_url_one_is_signed_for_and_mark_held_takes_them(
    engine: Engine, book: RuleBook, planned: int, tmp_path: Path
) -> None:
    organiser, phone = clients(engine, book, tmp_path, MEETING_DAY)
    with organiser, phone:
        csrf = log_in(organiser, "clerk")
        screen = organiser.get(f"/meetings/{planned}/signin")
        assert screen.status_code == 200
        url = URL.search(screen.text).group(1)  # type: ignore[union-attr]
        assert segno.make(url, error="m").svg_inline(scale=6) in screen.text  # the QR says it
        path = url.removeprefix("http://testserver")
        sheet = phone.get(path)
        assert sheet.status_code == 200
        for name in ("刘主席", "陈书记", "王专干", "赵专干"):
            assert f'value="{name}"' in sheet.text
        for name in ("刘主席", "陈书记", "王专干"):
            answer = phone.post(path, data={"name": name}, follow_redirects=False)
            assert answer.status_code == 303
            assert f"{name}，已签到" in phone.get(answer.headers["location"]).text
        signed_for = organiser.post(
            f"/meetings/{planned}/signin", data={"csrf": csrf, "name": "赵专干", "mode": "proxy"}
        )
        assert signed_for.status_code == 200 and "代签" in signed_for.text
        held = organiser.post(
            f"/meetings/{planned}/held-from-signins", data={"csrf": csrf}, follow_redirects=False
        )
        assert held.status_code == 303
    with transaction(engine) as session:
        meeting = session.get_one(Meeting, planned)
        assert meeting.status == "held"
        roles = session.scalars(
            select(EventAttendance.role).where(EventAttendance.event_id == meeting.event_id)
        ).all()
        entries = session.scalars(
            select(ChangeRecord).where(ChangeRecord.action.in_(["meeting.signin", "meeting.held"]))
            .order_by(ChangeRecord.id)
        ).all()  # fmt: skip
    assert sorted(roles) == ["clerk", "fulian_chair", "party_secretary"]
    assert [(e.actor, (e.after or {}).get("mode")) for e in entries[:4]] == [
        ("经签到页由刘主席签到", "self"),
        ("经签到页由陈书记签到", "self"),
        ("经签到页由王专干签到", "self"),
        ("clerk", "proxy"),
    ]
    assert (entries[4].after or {})["signed_in"] == ["刘主席", "陈书记", "王专干", "赵专干（代签）"]


def test_the_sheet_opens_on_the_meeting_day_only_and_closes_once_cancelled(
    engine: Engine, book: RuleBook, planned: int, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        token = signins.sheet_token(KEY, session.get_one(Meeting, planned), SHANGHAI)
    path = f"/s/{token}"
    for moment, status, words in [
        (MEETING_DAY - timedelta(days=1), 410, "签到只在会议当天开放"),
        (MEETING_DAY.replace(hour=23, minute=59), 200, "党委听取妇联工作汇报"),
        (MEETING_DAY + timedelta(days=1), 410, "链接已过期"),
    ]:
        _, phone = clients(engine, book, tmp_path, moment)
        with phone:
            answer = phone.get(path)
        assert answer.status_code == status and words in answer.text, moment
    with transaction(engine) as session:
        meetings.cancel(session, planned, "改期", "clerk", MEETING_DAY)
        with pytest.raises(TokenRefused) as closed:
            signins.open_sheet(session, KEY, token, MEETING_DAY)
        with pytest.raises(InputError, match="was cancelled"):
            signins.sign(session, session.get_one(Meeting, planned), "刘主席", "late", "c", DAY)
    assert closed.value.reason is Refusal.CLOSED


def test_a_typed_name_signs_once_and_a_late_one_is_marked_afterwards(
    engine: Engine, book: RuleBook, planned: int, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        meeting = session.get_one(Meeting, planned)
        first = signins.sign(session, meeting, " 李  委员 ", "self", "x", MEETING_DAY)
        again = signins.sign(session, meeting, "李 委员", "self", "x", MEETING_DAY)
        assert first.id == again.id and first.person_id is None
        with pytest.raises(InputError):
            signins.sign(session, meeting, "a\x07b", "self", "x", MEETING_DAY)
    organiser, _ = clients(engine, book, tmp_path, MEETING_DAY + timedelta(days=2))
    with organiser:
        csrf = log_in(organiser, "clerk")
        organiser.post(
            f"/meetings/{planned}/signin", data={"csrf": csrf, "name": "刘主席", "mode": "late"}
        )
        organiser.post(f"/meetings/{planned}/held-from-signins", data={"csrf": csrf})
        other, _ = clients(engine, book, tmp_path, MEETING_DAY)
        with other:
            log_in(other, "other")  # the clerk of 102 may not touch 101's meeting
            assert other.get(f"/meetings/{planned}/signin").status_code == 403
    with transaction(engine) as session:
        held = session.scalar(select(ChangeRecord).where(ChangeRecord.action == "meeting.held"))
    assert held is not None and (held.after or {})["signed_in"] == ["李 委员", "刘主席（补签）"]
    assert (held.after or {})["attended"] == ["fulian_chair"]
