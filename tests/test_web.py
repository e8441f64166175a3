"""The web pages: every route with each role, login and CSRF, forms that keep nothing on error,
imports with a preview, and text people typed rendered as text."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from scheduler.core.rules import RuleBook
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord, Event, Person, Unit, Waiver
from scheduler.store.models_calendar import Meeting
from tests.countyfacts import load_county
from tests.webfixtures import NOW, PASSWORD

pytest_plugins = ["tests.webfixtures"]

Login = Callable[[str], tuple[TestClient, str]]

# (path, who may open it): "all" readers, "101" those who read township 101, "change101" …,
# "scores" who reads the (internal) annual assessment: admins unless the config says clerks
READS = [
    ("/", "all"),
    ("/?open=101&rule=township-hearing&year=2021", "all"),
    ("/units/101", "read101"),
    ("/units/10101", "read101"),
    ("/units/102", "read102"),
    ("/obligations/101/township-hearing/2021-B1", "read101"),
    ("/obligations/102/township-hearing/2021-B1", "read102"),
    ("/units/101/events/new", "change101"),
    ("/units/102/events/new", "change102"),
    ("/units/101/meetings/new", "change101"),
    ("/units/101/plan?year=2021", "read101"),
    ("/units/102/plan", "read102"),
    ("/scorecard?year=2021", "scores"),
    ("/scorecard?year=2021&format=xlsx", "scores"),
    ("/audit?year=2021", "all"),
    ("/audit?year=2021&unit=102", "read102"),
    ("/audit?year=2021&unit=101&format=csv", "read101"),
    ("/audit?year=2021&format=xlsx", "all"),
    ("/audit?year=2021&format=html", "all"),
    ("/outbox", "all"),
    ("/imports", "writers"),
]
ALLOWED = {
    "admin": {"all", "read101", "read102", "change101", "change102", "writers", "scores"},
    "clerk": {"all", "read101", "change101", "writers"},
    "viewer": {"all", "read101", "read102"},
    "other": {"all", "read102", "change102", "writers"},
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_every_page_route_checks_the_scope_of_each_role(client_of: Login, role: str) -> None:
    client, _ = client_of(role)
    for path, who in READS:
        expected = 200 if who in ALLOWED[role] else 403
        assert client.get(path).status_code == expected, (role, path)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_every_change_route_checks_the_scope_of_each_role(
    client_of: Login, role: str, engine: Engine
) -> None:
    client, csrf = client_of(role)
    may = "change102" in ALLOWED[role]
    event = {"csrf": csrf, "kinds": "hearing", "date": "2021-06-01", "title": "汇报"}
    posts = [
        ("/units/102/events/new", event),
        (
            "/units/102/waive",
            {
                "csrf": csrf,
                "rule": "township-hearing",
                "period": "2021-B2",
                "reason": "换届",
                "by": "孙主席",
            },
        ),
        (
            "/units/102/meetings/new",
            {
                "csrf": csrf,
                "kinds": "hearing",
                "title": "汇报会",
                "start": "2021-07-02T09:00",
                "end": "2021-07-02T10:00",
            },
        ),
        ("/units/102/plan/accept", {"csrf": csrf, "year": "2021"}),
    ]
    for path, data in posts:
        answer = client.post(path, data=data, follow_redirects=False)
        assert answer.status_code == (303 if may else 403), (role, path, answer.text[:300])
    with transaction(engine) as session:
        event_id = session.scalar(select(Event.id).join(Unit).where(Unit.code == "102"))
    if event_id is not None:
        answer = client.post(
            f"/events/{event_id}/void",
            data={"csrf": csrf, "reason": "错录"},
            follow_redirects=False,
        )
        assert answer.status_code == 303


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_walk_covers_every_page_route(web_app: FastAPI) -> None:
    walked = {
        "/",
        "/units/{code}",
        "/obligations/{unit}/{rule}/{column}",
        "/units/{code}/events/new",
        "/units/{code}/meetings/new",
        "/units/{code}/plan",
        "/units/{code}/plan/accept",
        "/meetings/{meeting_id}/move",
        "/scorecard",
        "/audit",
        "/outbox",
        "/imports",
        "/units/{code}/waive",
        "/events/{event_id}/void",
        "/meetings/{meeting_id}/held",
        "/units/{code}/feed",
        "/login",
        "/logout",
        "/lang/{lang}",
    }
    pages = {
        route.path
        for route in web_app.routes
        if isinstance(route, APIRoute) and not route.path.startswith(("/api", "/cal", "/health"))
    }
    assert pages <= walked, pages - walked


def test_a_page_without_login_goes_to_the_login_form(web_app: FastAPI) -> None:
    client = TestClient(web_app, base_url="https://testserver")
    answer = client.get("/units/101", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login?next=/units/101")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_wrong_password_or_a_missing_csrf_token_logs_nobody_in(web_app: FastAPI) -> None:
    client = TestClient(web_app, base_url="https://testserver")
    token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    wrong = client.post("/login", data={"username": "clerk", "password": "nope", "csrf": token})
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    forged = client.post("/login", data={"username": "clerk", "password": PASSWORD, "csrf": "x"})
    assert forged.status_code == 401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_session_cookie_is_secure_http_only_and_ends_at_logout(web_app: FastAPI) -> None:
    client = TestClient(web_app, base_url="https://testserver")
    token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post(
        "/login",
        data={"username": "clerk", "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    cookie = answer.headers["set-cookie"]
    assert "huiqi_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    csrf = client.get("/").text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    client.post("/logout", data={"csrf": csrf})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_form_posted_without_the_csrf_token_is_refused(client_of: Login, engine: Engine) -> None:
    client, _ = client_of("clerk")
    data = {"kinds": "hearing", "date": "2021-06-01", "title": "汇报"}
    assert client.post("/units/101/events/new", data=data).status_code == 403
    with transaction(engine) as session:
        assert session.scalar(select(func.count(Event.id))) == 1


def test_recording_a_hearing_turns_the_cell_met(client_of: Login, engine: Engine) -> None:
    client, csrf = client_of("clerk")
    cell = "/obligations/101/township-hearing/2021-B3"
    assert "○" in client.get(cell).text
    data = {"csrf": csrf, "kinds": "hearing", "date": "2021-05-20", "title": "听取汇报"}
    answer = client.post("/units/101/events/new", data=data, follow_redirects=False)
    assert answer.status_code == 303
    page = client.get(cell).text
    assert "✔" in page and "听取汇报" in page
    with transaction(engine) as session:
        trail = session.scalars(select(ChangeRecord.action)).all()
    assert "event.add" in trail


def test_a_bad_event_comes_back_with_errors_next_to_the_fields(
    client_of: Login, engine: Engine
) -> None:
    client, csrf = client_of("clerk")
    data = {"csrf": csrf, "kinds": "hearing", "date": "2021-13-40", "title": "汇报"}
    answer = client.post("/units/101/events/new", data=data)
    assert answer.status_code == 422
    error = re.search(r'id="error-date">([^<]+)<', answer.text)
    assert error is not None and "2021-13-40" in error.group(1)
    assert 'value="汇报"' in answer.text
    with transaction(engine) as session:
        assert session.scalar(select(func.count(Event.id))) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_line_break_or_tab_in_a_form_field_is_refused_next_to_it_and_nothing_is_saved(
    client_of: Login, engine: Engine
) -> None:
    client, csrf = client_of("clerk")
    event = {"csrf": csrf, "kinds": "hearing", "date": "2021-05-20", "title": "听取\r\n汇报"}
    answer = client.post("/units/101/events/new", data=event)
    assert answer.status_code == 422
    error = re.search(r'id="error-title">([^<]+)<', answer.text)
    assert error is not None and "换行" in error.group(1)
    meeting = {"csrf": csrf, "kinds": "hearing", "title": "汇报会", "location": "三楼\n会议室",
               "start": "2021-07-02T09:00", "end": "2021-07-02T10:00"}  # fmt: skip
    answer = client.post("/units/101/meetings/new", data=meeting)
    assert answer.status_code == 422 and 'id="error-location"' in answer.text
    waive = {"csrf": csrf, "rule": "township-research", "period": "2021-B1",
             "reason": "换\t届", "by": "孙\x00主席"}  # fmt: skip
    assert client.post("/units/101/waive", data=waive).status_code == 422
    with transaction(engine) as session:
        assert session.scalar(select(func.count(Event.id))) == 1
        assert session.scalar(select(func.count(Meeting.id))) == 0
        assert session.scalar(select(func.count(Waiver.id))) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_waiver_request_and_a_void_leave_a_trail_in_words(
    client_of: Login, engine: Engine
) -> None:
    client, csrf = client_of("clerk")
    waive = {"csrf": csrf, "rule": "township-research", "period": "2021-B1", "reason": "换届"}
    assert client.post("/units/101/waive", data=waive, follow_redirects=False).status_code == 303
    again = client.post("/units/101/waive", data=waive)
    assert again.status_code == 422 and "申请已经提交过了" in again.text
    with transaction(engine) as session:
        event_id = session.scalar(select(Event.id))
    void = client.post(
        f"/events/{event_id}/void", data={"csrf": csrf, "reason": "错录"}, follow_redirects=False
    )
    assert void.status_code == 303
    assert "✗" in client.get("/obligations/101/township-hearing/2021-B1").text
    unit_page = client.get("/units/101").text
    assert "作废事件" in unit_page and "申请豁免" in unit_page and "理由：错录" in unit_page
    assert "event.void" not in unit_page and "None" not in unit_page
    with transaction(engine) as session:
        assert session.scalar(select(func.count(Waiver.id))) == 0  # pending until approved


def kept_upload(preview_page: str) -> str:
    found = re.search(r'name="upload" value="([0-9a-f]{64})"', preview_page)
    assert found is not None, preview_page[:500]
    return found.group(1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_import_shows_a_preview_row_by_row_then_saves_and_refuses_bad_rows(
    client_of: Login, engine: Engine
) -> None:
    client, csrf = client_of("clerk")
    good = (
        "unit,kinds,date,time,title,attended,amount,ref\n"
        "10101,funding,2021-03-01,,拨款,,500,f1\n"
        "101,hearing,2021-02-10,10:00,党委听取妇联工作汇报,,,h1\n"
    )
    files = {"file": ("events.csv", good.encode(), "text/csv")}
    preview = client.post(
        "/imports", data={"csrf": csrf, "kind": "events", "action": "preview"}, files=files
    )
    assert preview.status_code == 200 and "新建 1 条，更新 0 条，不变 1 条" in preview.text
    cells = re.findall(r"<td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>", preview.text)
    assert cells == [
        ("2", "10101 2021-03-01 拨款", "新建"),
        ("3", "101 2021-02-10 党委听取妇联工作汇报", "不变"),
    ]
    with transaction(engine) as session:
        assert session.scalar(select(func.count(Event.id))) == 1
    apply = {"csrf": csrf, "kind": "events", "action": "apply", "upload": kept_upload(preview.text)}
    assert client.post("/imports", data=apply).status_code == 200
    with transaction(engine) as session:
        assert session.scalar(select(func.count(Event.id))) == 2
    again = client.post("/imports", data=apply)
    assert again.status_code == 422 and "预览已过期：请重新上传文件" in again.text
    bad = good.replace("2021-03-01", "someday") + "102,hearing,2021-03-01,,x,,,\n"
    refused = client.post(
        "/imports",
        data={"csrf": csrf, "kind": "events", "action": "preview"},
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    assert "bad.csv 第4行，“单位”列：不在您负责的单位范围内" in refused.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_three_megabyte_import_previews_and_applies_and_only_for_its_uploader(
    client_of: Login, engine: Engine
) -> None:
    header = "unit,kinds,date,time,title,attended,amount,ref\n"
    title = "村党支部会议听取妇联工作汇报并研究下一步工作安排" * 4
    rows = [
        f"10101,branch_meeting,2021-0{1 + i % 6}-1{i % 9},,{title}{i},,,b{i}\n" for i in range(9000)
    ]
    data = (header + "".join(rows)).encode()
    assert 2_800_000 < len(data) < 5_000_000
    client, csrf = client_of("clerk")
    files = {"file": ("village.csv", data, "text/csv")}
    preview = client.post(
        "/imports", data={"csrf": csrf, "kind": "events", "action": "preview"}, files=files
    )
    assert preview.status_code == 200 and "新建 9000 条" in preview.text
    assert preview.text.count("<td>新建</td>") == 9000
    upload = kept_upload(preview.text)
    other, other_csrf = client_of("other")
    stolen = {"csrf": other_csrf, "kind": "events", "action": "apply", "upload": upload}
    assert other.post("/imports", data=stolen).status_code == 422
    apply = {"csrf": csrf, "kind": "events", "action": "apply", "upload": upload}
    assert client.post("/imports", data=apply).status_code == 200
    with transaction(engine) as session:
        assert session.scalar(select(func.count(Event.id))) == 9001


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_preview_older_than_its_lifetime_cannot_be_applied(
    client_of: Login, web_app: FastAPI, engine: Engine
) -> None:
    client, csrf = client_of("clerk")
    good = (
        "unit,kinds,date,time,title,attended,amount,ref\n10101,funding,2021-03-01,,拨款,,500,f9\n"
    )
    files = {"file": ("events.csv", good.encode(), "text/csv")}
    preview = client.post(
        "/imports", data={"csrf": csrf, "kind": "events", "action": "preview"}, files=files
    )
    web_app.state.huiqi = replace(web_app.state.huiqi, fixed=NOW + timedelta(minutes=61))
    apply = {"csrf": csrf, "kind": "events", "action": "apply", "upload": kept_upload(preview.text)}
    answer = client.post("/imports", data=apply)
    assert answer.status_code == 422 and "预览已过期：请重新上传文件" in answer.text
    with transaction(engine) as session:
        assert session.scalar(select(func.count(Event.id))) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_upload_larger_than_the_limit_is_refused_before_it_is_read(client_of: Login) -> None:
    client, csrf = client_of("clerk")
    files = {"file": ("big.csv", b"unit\n" + b"1\n" * 2_600_000, "text/csv")}
    answer = client.post(
        "/imports", data={"csrf": csrf, "kind": "events", "action": "preview"}, files=files
    )
    assert answer.status_code == 413 and "文件超过上限5,000,000字节" in answer.text


def test_the_audit_download_is_a_workbook_with_a_sheet_per_rule(client_of: Login) -> None:
    client, _ = client_of("viewer")
    answer = client.get("/audit?year=2021&rule=township-hearing&format=xlsx")
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(answer.content))
    assert workbook.sheetnames == ["汇总", "township-hearing", "变更记录"]
    actions = [row[2] for row in workbook["变更记录"].iter_rows(min_row=2, values_only=True)]
    assert "新增用户" in actions


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_english_is_one_click_away(client_of: Login) -> None:
    client, _ = client_of("admin")
    switched = client.get("/lang/en?next=/scorecard", follow_redirects=False)
    assert switched.headers["location"] == "/scorecard"
    page = client.get("/scorecard?year=2021").text
    assert "Scorecard" in page and "<svg" in page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_unit_named_like_a_script_renders_as_text_everywhere(
    client_of: Login, engine: Engine, book: RuleBook
) -> None:
    evil = "<script>alert(1)</script>"
    load_county(engine, book, units=[("103", evil, "township", "100", "2000-01-01", "", "")])
    client, _ = client_of("admin")
    for path in (
        "/",
        "/units/103",
        "/scorecard?year=2021",
        "/audit?year=2021",
        "/obligations/103/township-hearing/2021-B1",
        "/audit?year=2021&format=html",
    ):
        text = client.get(path).text
        assert evil not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_planned_meeting_sends_invites_and_once_held_becomes_evidence(
    client_of: Login, engine: Engine, tmp_path: Path
) -> None:
    client, csrf = client_of("clerk")
    plan = {
        "csrf": csrf,
        "kinds": "hearing",
        "title": "听取妇联工作汇报",
        "start": "2021-07-05T09:00",
        "end": "2021-07-05T10:00",
    }
    answer = client.post("/units/101/meetings/new", data=plan, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert len(list((tmp_path / "mail").glob("*.eml"))) >= 1
    bad = client.post("/units/101/meetings/new", data={**plan, "start": "someday"})
    assert bad.status_code == 422 and 'id="error-start"' in bad.text
    early = {**plan, "start": "2021-06-30T08:00", "end": "2021-06-30T09:00", "title": "党委会"}
    client.post("/units/101/meetings/new", data=early)
    with transaction(engine) as session:
        held_id = session.scalar(select(Meeting.id).where(Meeting.title == "党委会"))
    done = client.post(
        f"/meetings/{held_id}/held",
        data={"csrf": csrf, "attended": "fulian_chair"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "✔" in client.get("/obligations/101/township-hearing/2021-B3").text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_dashboard_shows_townships_first_and_a_township_opens_onto_its_villages(
    client_of: Login,
) -> None:
    client, _ = client_of("admin")
    closed = client.get("/?year=2021&rule=village-funding").text
    assert 'data-unit="10101"' not in closed and "open=101" in closed
    opened = client.get("/?year=2021&rule=village-funding&open=101").text
    assert 'data-unit="10101"' in opened
    hearing = client.get("/?year=2021&rule=township-hearing").text
    assert 'data-unit="101"' in hearing and 'data-unit="102"' in hearing
    assert 'href="/obligations/101/township-hearing/2021-B1?year=2021"' in hearing


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_people_import_cannot_rename_another_townships_chair(
    client_of: Login, engine: Engine
) -> None:
    client, csrf = client_of("clerk")
    rows = "name,email,phone,unit,role,from,to\n周主席(改),zhou@example.org,,101,clerk,,\n"
    files = {"file": ("people.csv", rows.encode(), "text/csv")}
    answer = client.post(
        "/imports", data={"csrf": csrf, "kind": "people"}, files=files
    )  # the preview already refuses the file
    assert answer.status_code == 422
    assert "people.csv:2: name: 周主席 holds roles outside your units" in answer.text
    with transaction(engine) as session:
        assert session.scalar(select(Person.name).where(Person.email == "zhou@example.org")) == (
            "周主席"
        )
