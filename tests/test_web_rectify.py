"""整改 on the web, through the real app: the level above opens an item from the unit page or
the review queue, the unit's clerk answers with a note and a file, the reviewer reopens and
closes it; every route keeps to the scope (another township's clerk sees nothing and acts on
nothing), forms need the CSRF token, the trail has each step, the 整改台账 downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from scheduler.config import FileSettings
from scheduler.core.rules import RuleBook
from scheduler.reminders.sweep import sweep
from scheduler.store import reviews, waivers
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord, Event
from scheduler.store.models_rectifications import Rectification
from tests import filesamples as sample
from tests.countyfacts import RECORDED, load_county
from tests.webfixtures import EVENTS, NOW, add_users, log_in, make_app, settings_for

pytest_plugins = ["tests.webfixtures"]
ClientOf = Callable[[str], tuple[TestClient, str]]


def steps(engine: Engine) -> list[tuple[str, str]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(ChangeRecord.action, ChangeRecord.actor)
            .where(ChangeRecord.action.like("rectify.%"))
            .order_by(ChangeRecord.id)
        )
        return [tuple(row) for row in rows]


def items(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count(Rectification.id))) or 0)


def open_on_101(client: TestClient, csrf: str, **fields: str) -> object:
    data = {"csrf": csrf, "source": "text", "issue": "补充学习记录", "due": "2021-07-31", **fields}
    return client.post("/units/101/rectifications", data=data, follow_redirects=False)


def test_an_item_is_opened_answered_with_a_file_reopened_and_closed(
    client_of: ClientOf, engine: Engine
) -> None:
    county, county_csrf = client_of("county")
    assert "开整改事项" in county.get("/units/101").text
    opened = open_on_101(county, county_csrf)
    assert opened.status_code == 303 and opened.headers["location"] == "/units/101#rectifications"
    clerk, csrf = client_of("clerk")
    page = clerk.get("/units/101").text
    assert "补充学习记录" in page and "整改中" in page and "开整改事项" not in page
    answered = clerk.post(
        "/rectifications/1/answer",
        data={"csrf": csrf, "note": "已补充学习记录"},
        files={"file": ("学习记录.pdf", sample.pdf())},
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    page = clerk.get("/units/101").text
    assert "已补充学习记录" in page and 'href="/rectifications/1/file"' in page
    download = clerk.get("/rectifications/1/file")
    assert (
        download.content == sample.pdf() and download.headers["x-content-type-options"] == "nosniff"
    )
    reopen = "/rectifications/1/reopen"
    refused = county.post(reopen, data={"csrf": county_csrf, "comment": ""}, follow_redirects=False)
    assert refused.status_code == 422 and "重新打开必须填写意见" in refused.text
    assert county.post(reopen, data={"csrf": county_csrf, "comment": "缺签到表"}).status_code == 200
    again = {"csrf": csrf, "note": "已补签到表"}
    assert (
        clerk.post("/rectifications/1/answer", data=again, follow_redirects=False).status_code
        == 303
    )
    closed = county.post("/rectifications/1/close", data={"csrf": county_csrf, "comment": "销号"},
                         follow_redirects=False)  # fmt: skip
    assert closed.status_code == 303
    assert "已销号" in clerk.get("/units/101").text
    assert steps(engine) == [
        ("rectify.open", "county"), ("rectify.answer", "clerk"), ("rectify.reopen", "county"),
        ("rectify.answer", "clerk"), ("rectify.close", "county"),
    ]  # fmt: skip


def test_another_township_sees_nothing_and_the_unit_itself_does_not_decide(
    client_of: ClientOf, engine: Engine
) -> None:
    county, county_csrf = client_of("county")
    open_on_101(county, county_csrf)
    clerk, csrf = client_of("clerk")
    assert open_on_101(clerk, csrf).status_code == 403  # the unit does not open its own items
    assert clerk.post("/rectifications/1/close", data={"csrf": csrf}).status_code == 403
    other, other_csrf = client_of("other")
    answer = {"csrf": other_csrf, "note": "x"}
    assert other.post("/rectifications/1/answer", data=answer).status_code == 404
    assert other.post("/rectifications/1/close", data={"csrf": other_csrf}).status_code == 404
    assert other.get("/units/101/rectifications.csv").status_code == 403
    assert "补充学习记录" not in other.get("/rectifications.csv").content.decode("utf-8-sig")
    by_county = {"csrf": county_csrf, "note": "x"}  # the county may change 101 too
    answered = county.post("/rectifications/1/answer", data=by_county, follow_redirects=False)
    assert answered.status_code == 303
    viewer, viewer_csrf = client_of("viewer")
    assert viewer.post("/rectifications/1/close", data={"csrf": viewer_csrf}).status_code == 403
    assert steps(engine) == [("rectify.open", "county"), ("rectify.answer", "county")]


def test_forms_need_the_csrf_token_and_good_input_and_write_nothing_otherwise(
    client_of: ClientOf, engine: Engine
) -> None:
    county, csrf = client_of("county")
    assert open_on_101(county, "forged").status_code == 403
    bad_day = open_on_101(county, csrf, due="2021-02-30")
    assert bad_day.status_code == 422 and "日期“2021-02-30”不存在" in bad_day.text
    assert open_on_101(county, csrf, issue=" ").status_code == 422
    assert "必须填写问题" in open_on_101(county, csrf, issue=" ").text
    no_rule = open_on_101(county, csrf, source="obligation:no-such-rule:2021-Q1")
    assert no_rule.status_code == 422 and "没有这条规则“no-such-rule”" in no_rule.text
    assert "没有这个来源“minutes”" in open_on_101(county, csrf, source="minutes").text
    county.get("/lang/en?next=/units/101")
    english = open_on_101(county, csrf, due="2021-7-31")
    assert english.status_code == 422
    assert "rectify: due: bad date &#39;2021-7-31&#39;: expected YYYY-MM-DD" in english.text
    county.get("/lang/zh?next=/units/101")
    assert open_on_101(county, csrf, issue="a\tb").status_code == 422
    assert items(engine) == 0
    open_on_101(county, csrf)
    clerk, clerk_csrf = client_of("clerk")
    wrong = clerk.post(
        "/rectifications/1/answer",
        data={"csrf": clerk_csrf, "note": "见附件"},
        files={"file": ("记录.pdf", sample.HTML)},
    )
    assert wrong.status_code == 422
    with transaction(engine) as session:
        assert session.get_one(Rectification, 1).status == "open"
    assert steps(engine) == [("rectify.open", "county")]


def test_the_review_queue_opens_an_item_from_a_returned_event(
    client_of: ClientOf, engine: Engine
) -> None:
    with transaction(engine) as session:
        event_id = int(session.scalars(select(Event.id)).one())
        actor = waivers.command_line_actor(session, "county")
        reviews.decide(session, event_id, False, "缺会议记录", "county", RECORDED, actor.user)
    county, csrf = client_of("county")
    queue = county.get("/reviews?status=returned").text
    assert 'action="/units/101/rectifications"' in queue and 'href="/rectifications.xlsx"' in queue
    data = {"csrf": csrf, "source": f"event:{event_id}", "issue": "缺会议记录", "due": "2021-07-15",
            "back": "/reviews?status=returned"}  # fmt: skip
    made = county.post("/units/101/rectifications", data=data, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/reviews?status=returned"
    with transaction(engine) as session:
        item = session.get_one(Rectification, 1)
        assert (item.source, item.event_id) == ("event", event_id)
    clerk, _ = client_of("clerk")
    page = clerk.get("/units/101").text
    assert "被退回的事件" in page and "缺会议记录" in page  # the comment reaches the unit
    assert "被退回的事件" not in client_of("other")[0].get("/units/102").text


def test_an_item_from_a_missed_obligation_and_the_ledger_downloads(
    client_of: ClientOf, engine: Engine
) -> None:
    county, csrf = client_of("county")
    page = county.get("/units/101").text
    assert 'value="obligation:township-research:' in page
    made = open_on_101(county, csrf, source="obligation:township-research:2021-Q1", issue="缺调研")
    assert made.status_code == 303
    text = county.get("/units/101/rectifications.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["编号", "单位代码", "单位"]
    assert rows[1][1] == "101" and "township-research 2021-Q1" in rows[1][3]
    answer = county.get("/units/100/rectifications.xlsx")
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote('整改台账-100-')}" in answer.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(answer.content))["整改台账"]
    assert sheet.cell(2, 5).value == "缺调研"
    assert county.get("/units/101/rectifications.pdf").status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_forms_speak_english_too(client_of: ClientOf) -> None:
    county, csrf = client_of("county")
    county.cookies.set("huiqi_lang", "en")
    open_on_101(county, csrf)
    page = county.get("/units/101").text
    assert "Open a 整改 item" in page and "整改 ledger" in page and "Close (销号)" in page
    refused = open_on_101(county, csrf, issue="")
    assert refused.status_code == 422 and "the issue is required" in refused.text


def test_the_outbox_names_a_notice_by_its_kind(
    client_of: ClientOf, engine: Engine, web_app: FastAPI
) -> None:
    county, csrf = client_of("county")
    open_on_101(county, csrf, due="2021-07-01")  # a Thursday: 1 day before is this Wednesday
    context = web_app.state.huiqi
    with transaction(engine) as session:
        found = sweep(session, context.book, context.settings, NOW.date(), NOW)
    assert [(n.kind, n.stage) for n in found.notices] == [("@rectify", "1 day before")] * 2
    admin, _ = client_of("admin")
    page = admin.get("/outbox").text
    assert "整改事项" in page and "@rectify" not in page


def test_an_answers_file_keeps_to_the_upload_limits(
    engine: Engine, book: RuleBook, database_url: str, tmp_path: Path, cheap_hashes: None
) -> None:
    load_county(engine, book, EVENTS)
    add_users(engine)
    settings = settings_for(database_url, str(tmp_path))
    limits = FileSettings(folder=str(tmp_path / "f"), max_bytes=1000, max_files=1)
    small = settings.model_copy(update={"files": limits})
    app = make_app(engine, book, small)
    with TestClient(app, base_url="https://testserver") as county:
        open_on_101(county, log_in(county, "county"))
    with TestClient(app, base_url="https://testserver") as clerk:
        csrf = log_in(clerk, "clerk")
        big = clerk.post(
            "/rectifications/1/answer",
            data={"csrf": csrf, "note": "见附件"},
            files={"file": ("大.pdf", sample.pdf() + b" " * 70_000)},
        )
        assert big.status_code == 413
        over = clerk.post(
            "/rectifications/1/answer",
            data={"csrf": csrf, "note": "见附件"},
            files={"file": ("大.pdf", sample.pdf() + b" " * 2_000)},
        )
        assert over.status_code == 422
    with transaction(engine) as session:
        assert session.get_one(Rectification, 1).status == "open"
