"""Review by the level above, end to end: who may accept or return, the trail, the queue, and
the statuses each ``review.mode`` gives (store, command line, pages)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from scheduler.core.compliance import Status
from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import reports, reviews, waivers
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord, Event
from tests.conftest import ROOT, HuiqiRunner
from tests.countyfacts import RECORDED, load_county
from tests.webfixtures import EVENTS, FixedClock, add_users

pytest_plugins = ["tests.webfixtures"]
SELECTION = reports.Selection(date(2021, 6, 30), date(2021, 1, 1), date(2021, 2, 28), "101")


@pytest.fixture
def hearing(engine: Engine, book: RuleBook, cheap_hashes: None) -> int:
    """The small county, its users, and the id of 101's hearing of 2021-02-10."""
    load_county(engine, book, EVENTS)
    add_users(engine)
    with transaction(engine) as session:
        return int(session.scalars(select(Event.id)).one())


def decide(engine: Engine, event_id: int, accept: bool, by: str, comment: str = "") -> str:
    with transaction(engine) as session:
        actor = waivers.command_line_actor(session, by)
        review = reviews.decide(
            session, event_id, accept, comment, actor.name, RECORDED, actor.user
        )
        return review.status


def b1(engine: Engine, book: RuleBook, mode: str) -> tuple[Status, bool]:
    with transaction(engine) as session:
        rows = reports.status_rows(session, replace(book, review_mode=mode), SELECTION)
    (row,) = [
        r
        for r in rows
        if r.rule.id == "township-hearing" and r.obligation.period.label == "2021-B1"
    ]
    return row.obligation.status, row.obligation.awaiting_review


def test_the_level_above_accepts_or_returns_and_the_unit_itself_cannot(
    engine: Engine, hearing: int
) -> None:
    with pytest.raises(InputError, match="not at a unit below yours"):
        decide(engine, hearing, True, "clerk")  # the township's own clerk
    with pytest.raises(InputError, match="not at a unit below yours"):
        decide(engine, hearing, True, "other")  # another township's clerk
    with pytest.raises(InputError, match="needs a comment"):
        decide(engine, hearing, False, "county")
    assert decide(engine, hearing, False, "county", "缺会议记录") == "returned"
    assert decide(engine, hearing, True, "county") == "accepted"
    with transaction(engine) as session:
        steps = session.execute(
            select(ChangeRecord.action, ChangeRecord.actor, ChangeRecord.after)
            .where(ChangeRecord.action.like("review.%"))
            .order_by(ChangeRecord.id)
        ).all()
    assert [tuple(step) for step in steps] == [
        ("review.return", "county", {"comment": "缺会议记录"}),
        ("review.accept", "county", None),
    ]


def test_the_queue_holds_the_events_below_the_reviewer(engine: Engine, hearing: int) -> None:
    with transaction(engine) as session:
        mine = waivers.command_line_actor(session, "county").user
        township = waivers.command_line_actor(session, "clerk").user
        assert [i.event.id for i in reviews.queue(session, mine)] == [hearing]
        assert reviews.queue(session, township) == []
    decide(engine, hearing, True, "county")
    with transaction(engine) as session:
        assert reviews.queue(session, mine) == []
        assert [i.state for i in reviews.queue(session, mine, "accepted")] == ["accepted"]


@pytest.mark.parametrize("mode", ["off", "advisory"])
def test_off_and_advisory_count_the_event_pending_or_returned(
    engine: Engine, book: RuleBook, hearing: int, mode: str
) -> None:
    assert b1(engine, book, mode) == (Status.MET, False)
    decide(engine, hearing, False, "county", "缺会议记录")
    assert b1(engine, book, mode) == (Status.MET, False)


def test_required_counts_the_event_once_accepted_never_while_returned(
    engine: Engine, book: RuleBook, hearing: int
) -> None:
    assert b1(engine, book, "required") == (Status.MISSED, True)
    decide(engine, hearing, False, "county", "缺会议记录")
    assert b1(engine, book, "required") == (Status.MISSED, False)
    decide(engine, hearing, True, "county")
    assert b1(engine, book, "required") == (Status.MET, False)


def test_a_replaced_event_is_pending_again(engine: Engine, book: RuleBook, hearing: int) -> None:
    from scheduler.store import registry

    decide(engine, hearing, True, "county")
    cells = {"unit": "101", "kinds": "hearing", "date": "2021-02-11", "title": "改期"}
    with transaction(engine) as session:
        registry.replace_event(session, book, hearing, cells, "刘主席", RECORDED)
    assert b1(engine, book, "required") == (Status.MISSED, True)


# ----------------------------------------------------------------------------------------------
# Command line and pages


def test_the_review_commands_list_accept_and_return(county: HuiqiRunner) -> None:
    run = county
    env = {"HUIQI_REVIEW__MODE": "required"}
    run("events", "add", "--unit", "101", "--kinds", "hearing", "--date", "2021-02-10")
    status = ("status", "--as-of", "2021-06-30", "--from", "2021-01-01", "--to", "2021-02-28",
              "--unit", "101", "--rule", "township-hearing", "--format", "json")  # fmt: skip
    assert json.loads(run(*status, env=env).stdout)[0]["status"] == "missed"
    assert json.loads(run(*status).stdout)[0]["status"] == "met"  # review.mode off: unchanged
    listed = json.loads(run("review", "list", "--format", "json", env=env).stdout)
    assert [(row["event"], row["unit"], row["status"]) for row in listed] == [(1, "101", "pending")]
    refused = run("review", "return", "1", "--comment", " ", "--by", "县妇联", check=False)
    assert (refused.returncode, refused.stderr) == (1, "review，意见：退回记录必须填写意见\n")
    english = run("--lang", "en", "review", "return", "1", "--comment", " ", "--by", "县妇联",
                  check=False)  # fmt: skip
    assert english.stderr == "review: comment: returning an event needs a comment\n"
    assert run("review", "accept", "1", "--by", "县妇联").stdout.strip() == "记录 1：已通过"
    assert json.loads(run(*status, env=env).stdout)[0]["status"] == "met"
    assert run("review", "list").stdout.strip() == "（没有待审核的记录）"
    assert run("--lang", "en", "review", "list").stdout.strip() == "(nothing to review)"


def test_the_reviewers_queue_accepts_and_the_unit_page_shows_who_and_when(
    web_app: FastAPI, book: RuleBook, client_of: Callable[[str], tuple[TestClient, str]],
    engine: Engine,
) -> None:  # fmt: skip
    context = web_app.state.huiqi
    web_app.state.huiqi = FixedClock(
        context.settings, replace(book, review_mode="required"), context.engine, context.fixed
    )
    with transaction(engine) as session:
        event_id = int(session.scalars(select(Event.id)).one())
    township, _ = client_of("clerk")
    assert "已完成，待审核" in township.get("/units/101?year=2021").text
    assert township.get("/reviews").text.count('class="review-pending"') == 0
    reviewer, csrf = client_of("county")
    queue = reviewer.get("/reviews").text
    assert f'id="review-{event_id}"' in queue
    answer = reviewer.post(
        f"/reviews/{event_id}/return", data={"csrf": csrf, "comment": ""}, follow_redirects=False
    )
    assert answer.status_code == 422 and "退回记录必须填写意见" in answer.text
    answer = reviewer.post(
        f"/reviews/{event_id}/accept", data={"csrf": csrf, "comment": ""}, follow_redirects=False
    )
    assert answer.status_code == 303
    page = township.get("/units/101?year=2021").text
    assert "已通过：county 2021-06-30 10:00" in page and "已完成，待审核" not in page
    viewer, _ = client_of("viewer")
    assert viewer.get("/reviews").status_code == 403


# ----------------------------------------------------------------------------------------------
# The audit listing (台账)


def test_the_audit_listing_shows_the_reviewer_and_date_once_review_is_on(
    engine: Engine, book: RuleBook, hearing: int
) -> None:
    import io

    from openpyxl import load_workbook

    from scheduler.audit import export as audit_export
    from scheduler.audit import xlsx as audit_xlsx
    from scheduler.audit.listing import AuditQuery, audit_listing
    from tests.countyfacts import SHANGHAI

    decide(engine, hearing, False, "county", "请补充会议记录")
    query = AuditQuery.for_year(2021, date(2021, 6, 30), unit="101", rule="township-hearing")
    with transaction(engine) as session:
        plain = audit_listing(session, book, query)
        advisory = audit_listing(session, replace(book, review_mode="advisory"), query)
    (unreviewed,) = plain.rows[0].evidence
    assert unreviewed.review is None
    (evidence,) = advisory.rows[0].evidence
    text = audit_export.review_text(evidence, "zh", SHANGHAI)
    assert text == "已退回 county 2021-03-01 10:30（请补充会议记录）"
    context = audit_export.HtmlContext("zh", SHANGHAI, RECORDED, [])
    assert text in audit_export.to_html(advisory, ROOT / "templates", context).decode()
    workbook = load_workbook(io.BytesIO(audit_xlsx.to_xlsx(advisory, "zh", SHANGHAI, RECORDED)))
    sheet = workbook["township-hearing"]
    assert sheet.cell(1, sheet.max_column).value == "审核"
    assert sheet.cell(2, sheet.max_column).value == text
    plain_book = load_workbook(io.BytesIO(audit_xlsx.to_xlsx(plain, "zh", SHANGHAI, RECORDED)))
    assert plain_book["township-hearing"].max_column == sheet.max_column - 1
    import csv

    header, *lines = csv.reader(
        io.StringIO(audit_export.to_csv(advisory, "zh", SHANGHAI).decode("utf-8-sig"))
    )
    assert header[-4:] == ["审核状态", "审核人", "审核时间", "审核意见"]
    (b1,) = [line for line in lines if line[5] == "2021-B1"]
    assert b1[-4:] == ["已退回", "county", "2021-03-01 10:30", "请补充会议记录"]
    plain_csv = audit_export.to_csv(plain, "zh", SHANGHAI).decode("utf-8-sig")
    assert "审核人" not in plain_csv.splitlines()[0]
