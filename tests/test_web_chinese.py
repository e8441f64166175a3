"""Every page in Chinese, all of it: a walk over the pages (logged in as admin on the small
county, with reminders in the outbox, a meeting, a waiver request, payments and a history) that
fails on a known English word or a message id shown raw."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from scheduler.core.reminders import stage_name
from scheduler.core.rules import RuleBook
from scheduler.reminders.sweep import sweep
from scheduler.store import registry
from scheduler.store.database import transaction
from scheduler.store.models_calendar import Meeting
from scheduler.web.messages import form_message
from tests.conftest import EVENT_HEADER
from tests.countyfacts import RECORDED, table
from tests.webfixtures import NOW, USERS

pytest_plugins = ["tests.webfixtures"]

Login = Callable[[str], tuple[TestClient, str]]
ENGLISH = re.compile(
    r"\b(township|village|county|community|workshop|sent|pending|failed|undeliverable|"
    r"is required|days? before|on due|escalate|planned|held|cancelled|None|person:\d+|"
    r"chat:\d+|met|missed|overdue|upcoming|open|exempt|agenda|meeting \d+)\b"
)
MESSAGE_ID = re.compile(r"\b[a-z]+(?:_[a-z]+)*\.[a-z]+(?:[._][a-z]+)*\b")
PAGES = [
    "/",
    "/?year=2021&open=101&show=village-funding",
    "/units/100",
    "/units/101",
    "/units/10101",
    "/obligations/101/township-hearing/2021-B1",
    "/obligations/101/township-funding/2021",
    "/obligations/101/party-attend/02",
    "/units/101/events/new",
    "/units/101/meetings/new",
    "/scorecard?year=2021",
    "/audit?year=2021",
    "/outbox",
    "/imports",
    "/waivers",
    "/units/101/plan?year=2021",
]
MORE = [
    ("101", "funding", "2021-03-05", "", "县财政拨付工作经费", "", "7000", "p1"),
    ("101", "party_meeting", "2021-02-20", "09:30", "乡镇党委会", "fulian_chair", "", "m1"),
]


class _Text(HTMLParser):
    """The text a person reads: text nodes and the words of buttons, titles and placeholders
    (not scripts, styles, URLs or form values)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "data-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def readable(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def english_in(html: str) -> list[str]:
    text = readable(html)
    for name in USERS:  # the fixture's user names are names people chose, not interface words
        text = text.replace(f"用户 {name}", "用户").replace(f"显示名：{name}", "显示名")
    found = [m.group(0) for m in ENGLISH.finditer(text)]
    found += [m.group(0) for m in MESSAGE_ID.finditer(text) if not _allowed_id(m.group(0))]
    return found


HALF_WIDTH = re.compile(r"[\u4e00-\u9fff][,:;()!?]|[,:;()!?][\u4e00-\u9fff]")


def ruleset_texts(book: RuleBook) -> list[str]:
    """The ruleset's own Chinese (titles, clauses, roles, kinds): the deployment's text, as the
    policy writes it, not interface words."""
    texts = [text for rule in book.rules for text in (rule.title("zh"), rule.cite)]
    texts += [name("zh") for name in (*book.roles.values(), *book.event_kinds.values())]
    return sorted(texts, key=len, reverse=True)


def half_width_in(html: str, ruleset: list[str]) -> list[str]:
    """Half-width punctuation next to Chinese in the interface's own words."""
    text = readable(html)
    for own in ruleset:
        text = text.replace(own, " ")
    return [text[max(0, m.start() - 8) : m.end() + 8] for m in HALF_WIDTH.finditer(text)]


def _allowed_id(text: str) -> bool:
    """File names and addresses look like ids: ``units.csv``, ``example.org``."""
    return text.endswith((".csv", ".xlsx", ".ics", ".org", ".com", ".cn", ".local", ".db"))


@pytest.fixture
def busy_county(web_app: FastAPI, engine: Engine, book: RuleBook) -> FastAPI:
    """The small county with payments, a meeting attended, reminders in the outbox."""
    with transaction(engine) as session:
        registry.import_events(
            session, book, table("e.csv", EVENT_HEADER, MORE), "刘主席", RECORDED
        )
    settings = web_app.state.huiqi.settings
    with transaction(engine) as session:
        sweep(session, book, settings, date(2021, 6, 30), NOW)
    return web_app


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_every_page_in_chinese_has_no_english_word_and_no_raw_message_id(
    busy_county: FastAPI, client_of: Login, book: RuleBook, engine: Engine
) -> None:
    client, csrf = client_of("admin")
    clerk, clerk_csrf = client_of("clerk")
    asked = {"csrf": clerk_csrf, "rule": "township-hearing", "period": "2021-B2", "reason": "汛期"}
    assert clerk.post("/units/101/waive", data=asked, follow_redirects=False).status_code == 303
    plan = {"csrf": csrf, "kinds": "hearing", "title": "党委会", "agenda": "听取汇报",
            "start": "2021-07-10T09:30", "end": "2021-07-10T10:30"}  # fmt: skip
    planned = client.post("/units/101/meetings/new", data=plan, follow_redirects=False)
    assert planned.status_code == 303
    pages = {path: client.get(path).text for path in PAGES}
    assert "党委会" in pages["/units/101"] and "汛期" in pages["/waivers"]
    pages["feed"] = client.post("/units/101/feed", data={"csrf": csrf}).text
    pages["bad event"] = client.post("/units/101/events/new", data={"csrf": csrf}).text
    pages["bad meeting"] = client.post("/units/101/meetings/new", data={"csrf": csrf}).text
    pages["bad day"] = client.get("/?as_of=soon").text
    pages["bad period"] = client.get("/audit?period=2021-X9").text
    pages["bad kind"] = client.get("/scorecard?kind=planet").text
    with transaction(engine) as session:
        planned_id = session.scalar(select(Meeting.id).where(Meeting.title == "党委会"))
    early = client.post(f"/meetings/{planned_id}/held", data={"csrf": csrf})
    assert early.status_code == 422 and "会议1尚未召开（2021-07-10）" in early.text
    pages["held too early"] = early.text
    leaks = {path: english_in(html) for path, html in pages.items()}
    assert not {path: words for path, words in leaks.items() if words}
    ruleset = ruleset_texts(book)
    half = {path: half_width_in(html, ruleset) for path, html in pages.items()}
    assert not {path: found for path, found in half.items() if found}


def test_the_walk_finds_english_and_raw_ids() -> None:
    assert english_in("<p>乡镇 township</p>") == ["township"]
    assert english_in("<td>person:811</td>") == ["person:811"]
    assert english_in("<p>page.dashboard</p>") == ["page.dashboard"]
    assert english_in('<p title="21 days before">截止前</p>') == ["days before"]
    assert english_in("<script>x.select()</script><p>units.csv 县妇联</p>") == []


def test_form_problems_are_said_in_chinese_and_unknown_ones_kept() -> None:
    assert form_message("is required", "zh") == "必填"
    assert form_message("bad date '2021-13-01': expected YYYY-MM-DD", "zh") == (
        "日期“2021-13-01”格式不对，应为 YYYY-MM-DD"
    )
    assert form_message("unknown role 'mayor' (known: clerk)", "zh") == "未知的取值“mayor”"
    assert form_message("is required", "en") == "is required"
    assert form_message("something new", "zh") == "something new"


def test_reminder_stages_read_as_words_in_both_languages() -> None:
    assert stage_name("21 days before", "zh") == "截止前21天"
    assert stage_name("1 week before", "zh") == "截止前1周"
    assert stage_name("on due", "zh") == "截止当日"
    assert stage_name("escalate", "zh") == "逾期上报"
    assert "21" in stage_name("21 days before", "en")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_english_pages_show_no_raw_message_id_either(
    busy_county: FastAPI, client_of: Login
) -> None:
    client, _ = client_of("admin")
    client.cookies.set("huiqi_lang", "en")
    assert "Compliance" in client.get("/").text
    for path in PAGES:
        text = readable(client.get(path).text)
        raw = [m.group(0) for m in MESSAGE_ID.finditer(text) if not _allowed_id(m.group(0))]
        assert not raw, (path, raw)
