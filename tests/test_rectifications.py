"""整改 items end to end: opened a level above from a returned event, a missed obligation or
free text, answered by the unit (with a file), closed or reopened; the trail, the unit page,
the 整改台账 (CSV, XLSX) and the commands."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from scheduler.audit import rectifications as ledger
from scheduler.config import FileSettings
from scheduler.core.problems import InputError
from scheduler.core.rules import RuleBook
from scheduler.store import rectifications, waivers
from scheduler.store.attachments import Upload
from scheduler.store.blobs import FolderStore
from scheduler.store.database import transaction
from scheduler.store.models import ChangeRecord, Event
from tests import filesamples as sample
from tests.conftest import HuiqiRunner
from tests.countyfacts import RECORDED, SHANGHAI, load_county
from tests.webfixtures import EVENTS, add_users

pytest_plugins = ["tests.webfixtures"]
Opening = rectifications.Opening
DUE = date(2021, 7, 31)


@pytest.fixture
def world(engine: Engine, book: RuleBook, cheap_hashes: None) -> int:
    load_county(engine, book, EVENTS)
    add_users(engine)
    with transaction(engine) as session:
        return int(session.scalars(select(Event.id)).one())


def act(engine: Engine, by: str, step: Callable[..., object], *args: object) -> object:
    with transaction(engine) as session:
        actor = waivers.command_line_actor(session, by)
        result = step(session, *args, actor.name, RECORDED, actor.user)
        return getattr(result, "status", result)


def open_as(engine: Engine, book: RuleBook, by: str, opening: Opening) -> int:
    with transaction(engine) as session:
        actor = waivers.command_line_actor(session, by)
        return rectifications.open_item(session, book, opening, actor.name, RECORDED, actor.user).id


def test_an_item_goes_from_open_to_answered_to_reopened_to_closed(
    engine: Engine, book: RuleBook, world: int, tmp_path: Path
) -> None:
    item = open_as(engine, book, "county", Opening("会议记录不全", DUE, event_id=world))
    limits = FileSettings()
    upload = (FolderStore(tmp_path), limits, Upload("补充记录.pdf", sample.pdf(), "other"))
    with transaction(engine) as session:
        actor = waivers.command_line_actor(session, "clerk")
        done = rectifications.answer(
            session, item, "已补充", actor.name, RECORDED, actor.user, upload
        )
        assert (done.status, done.answer_file) == ("answered", "补充记录.pdf")
    assert act(engine, "county", rectifications.reopen, item, "缺签到表") == "open"
    assert act(engine, "clerk", rectifications.answer, item, "已补签到表") == "answered"
    assert act(engine, "county", rectifications.close, item, "") == "closed"
    with transaction(engine) as session:
        actions = session.scalars(
            select(ChangeRecord.action)
            .where(ChangeRecord.action.like("rectify.%"))
            .order_by(ChangeRecord.id)
        ).all()
    assert actions == [
        "rectify.open", "rectify.answer", "rectify.reopen", "rectify.answer", "rectify.close",
    ]  # fmt: skip


def test_who_may_open_answer_and_close(engine: Engine, book: RuleBook, world: int) -> None:
    with pytest.raises(InputError, match="not below your units"):
        open_as(engine, book, "clerk", Opening("自查", DUE, unit="101"))  # the unit itself
    item = open_as(engine, book, "county", Opening("缺调研", DUE, "101", None, "township-research",
                                                   "2021-Q1"))  # fmt: skip
    with pytest.raises(InputError, match="not at your units"):
        act(engine, "other", rectifications.answer, item, "x")
    with pytest.raises(InputError, match="needs a note"):
        act(engine, "clerk", rectifications.answer, item, " ")
    with pytest.raises(InputError, match="not below your units"):
        act(engine, "clerk", rectifications.close, item, "")
    with pytest.raises(InputError, match="reopening needs a comment"):
        act(engine, "county", rectifications.reopen, item, "")


@pytest.mark.parametrize(
    ("opening", "says"),
    [
        (Opening("", DUE, "101"), "the issue is required"),
        (Opening("x", DUE), "a unit or an event is required"),
        (Opening("x", DUE, "999"), "unknown unit '999'"),
        (Opening("x", DUE, "101", None, "no-such-rule", "2021-Q1"), "unknown rule"),
        (Opening("x", DUE, "101", None, "township-hearing", "2021-X9"), "period"),
        (Opening("x", DUE, "102", 1), "is at unit 101"),
    ],
)
def test_a_bad_opening_is_refused_naming_its_field(
    engine: Engine, book: RuleBook, world: int, opening: Opening, says: str
) -> None:
    with pytest.raises(InputError, match=says):
        open_as(engine, book, "县妇联", opening)


def test_the_ledger_exports_csv_and_xlsx_without_formulas(
    engine: Engine, book: RuleBook, world: int
) -> None:
    open_as(engine, book, "county", Opening('=HYPERLINK("x")', DUE, "101"))
    with transaction(engine) as session:
        items = rectifications.listing(session)
        text = ledger.to_csv(items, "zh", SHANGHAI).decode("utf-8-sig")
        data = ledger.to_xlsx(items, "zh", SHANGHAI)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["编号", "单位代码", "单位", "来源", "问题"]
    assert rows[1][4] == '\'=HYPERLINK("x")' and rows[1][6] == "整改中"
    sheet = load_workbook(io.BytesIO(data))["整改台账"]
    assert sheet.cell(2, 5).value == '=HYPERLINK("x")' and sheet.cell(2, 5).data_type == "s"


def test_the_unit_page_lists_its_items(
    engine: Engine, book: RuleBook, client_of: Callable[[str], tuple[TestClient, str]]
) -> None:
    open_as(engine, book, "county", Opening("补充学习记录", DUE, "101"))
    clerk, _ = client_of("clerk")
    page = clerk.get("/units/101").text
    assert "整改事项" in page and "补充学习记录" in page and "整改中" in page
    other, _ = client_of("other")
    assert "补充学习记录" not in other.get("/units/102").text


def test_the_rectify_commands(county: HuiqiRunner, tmp_path: Path) -> None:
    assert county("rectify", "list").stdout.strip() == "（没有整改事项）"
    opened = county("rectify", "open", "--unit", "101", "--issue", "缺会议记录", "--due",
                    "2021-07-31", "--by", "县妇联")  # fmt: skip
    assert opened.stdout.strip() == "整改事项 1 已开出"
    refused = county("rectify", "close", "9", "--by", "县妇联", check=False)
    assert (refused.returncode, refused.stderr) == (1, "rectify：没有编号为9的整改事项\n")
    english = county("--lang", "en", "rectify", "close", "9", "--by", "县妇联", check=False)
    assert english.stderr == "rectify: no 整改 item 9\n"
    answered = county(
        "--lang", "en", "rectify", "answer", "1", "--note", "已补充", "--by", "刘主席"
    )
    assert answered.stdout.strip() == "整改 item 1 answered"
    closed = county("rectify", "close", "1", "--comment", "销号", "--by", "县妇联")
    assert closed.stdout.strip() == "整改事项 1 已销号"
    listed = json.loads(county("rectify", "list", "--format", "json").stdout)
    assert [(r["id"], r["status"], r["comment"]) for r in listed] == [(1, "已销号", "销号")]
    out = tmp_path / "整改台账.xlsx"
    written = county("rectify", "list", "--format", "xlsx", "-o", str(out))
    assert written.stdout.strip() == f"{out}：1 条整改事项"
    assert load_workbook(out)["整改台账"].max_row == 2
