"""The pages as clerks use them daily: any as-of day, links that keep it, money in sight, the
audit page paged, the feed page, the scorecard in percentages, and every word in Chinese."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from scheduler.core.rules import RuleBook
from scheduler.store import registry
from scheduler.store.database import transaction
from scheduler.store.models_calendar import CalendarFeed
from scheduler.web import listings
from scheduler.web.assessment import heat, percent, points_text
from tests.conftest import EVENT_HEADER
from tests.countyfacts import RECORDED, table

pytest_plugins = ["tests.webfixtures"]

Login = Callable[[str], tuple[TestClient, str]]
DATED = [
    "/?year=2021",
    "/units/101",
    "/obligations/101/township-hearing/2021-B1",
    "/audit?year=2021",
    "/scorecard?year=2021",
]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_every_dated_page_shows_the_asked_day_and_its_links_keep_it(client_of: Login) -> None:
    client, _ = client_of("admin")
    for path in DATED:
        joiner = "&" if "?" in path else "?"
        text = client.get(f"{path}{joiner}as_of=2021-03-31").text
        assert 'name="as_of" value="2021-03-31"' in text, path
        found = re.findall(r'href="(/(?:units|obligations|audit|scorecard)[^"]*)"', text)
        links = [link for link in found if not link.endswith("/new")]  # forms: no day
        assert links and all("as_of=2021-03-31" in link for link in links), (path, links)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_asked_day_decides_the_statuses_and_the_downloads(client_of: Login) -> None:
    client, _ = client_of("admin")
    # The hearing of 2021-02-10 meets B1 (Jan-Feb); on 2021-01-15 nothing had happened yet.
    before = client.get("/obligations/101/township-hearing/2021-B1?as_of=2021-01-15").text
    after = client.get("/obligations/101/township-hearing/2021-B1?as_of=2021-03-01").text
    assert "✔" not in before.split("<h2>")[1] and "✔" in after.split("<h2>")[1]
    early = client.get("/audit?year=2021&unit=101&format=csv&as_of=2021-01-15").text
    late = client.get("/audit?year=2021&unit=101&format=csv&as_of=2021-03-01").text
    assert early != late and "2021-03-01" in late
    card = client.get("/scorecard?year=2021&as_of=2021-03-01").text
    assert "as_of=2021-03-01" in card.split("format=xlsx")[0].rsplit("href=", 1)[1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("bad", ["2021-02-30", "yesterday", "2021-3-1", "20210301"])
def test_a_bad_as_of_day_is_a_clear_message_not_an_error(client_of: Login, bad: str) -> None:
    client, _ = client_of("admin")
    for path in DATED:
        joiner = "&" if "?" in path else "?"
        answer = client.get(f"{path}{joiner}as_of={bad}")
        assert answer.status_code == 422, path
        assert f"“{bad}”不是有效的日期" in answer.text and "YYYY-MM-DD" in answer.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_audit_page_is_paged_and_picks_a_unit_from_those_in_scope(
    client_of: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listings, "AUDIT_PAGE", 10)  # the small county has fewer than 100 rows
    admin, _ = client_of("admin")
    first = admin.get("/audit?year=2021").text
    assert "第1页，共" in first and 'rel="next"' in first
    pages = int(first.split("第1页，共")[1].split("页")[0])
    last = admin.get(f"/audit?year=2021&page={pages}").text
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert first.count("<tr>") <= 10 + 6  # a page of rows (and the headers of its sections)
    assert '<select id="unit" name="unit">' in first and '<option value="10101"' in first
    clerk, _ = client_of("clerk")
    mine = clerk.get("/audit?year=2021").text
    assert '<option value="101"' in mine and '<option value="102"' not in mine


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_print_version_opens_in_the_browser_with_page_numbers_and_signature_lines(
    client_of: Login,
) -> None:
    client, _ = client_of("admin")
    printed = client.get("/audit?year=2021&unit=102&rule=township-hearing&format=html")
    assert printed.headers["content-disposition"].startswith("inline;")
    html = printed.text
    assert "counter(page)" in html and "counter(pages)" in html
    assert all(word in html for word in ("填报人：", "审核人：", "日期："))
    assert html.count('<section class="rule">') == 1  # no empty section for the other rules


PAYMENTS = [
    ("101", "funding", "2021-03-05", "", "县财政拨付工作经费", "", "7000", "p1"),
    ("101", "funding", "2021-05-20", "", "乡镇追加工作经费", "", "10000", "p2"),
]


def add_payments(engine: Engine, book: RuleBook) -> None:
    with transaction(engine) as session:
        registry.import_events(
            session, book, table("events.csv", EVENT_HEADER, PAYMENTS), "刘主席", RECORDED
        )


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_each_payment_and_the_sum_against_the_quota_are_in_sight(
    client_of: Login, engine: Engine, book: RuleBook
) -> None:
    add_payments(engine, book)
    client, _ = client_of("admin")
    unit = client.get("/units/101").text
    assert "合计17,000元，定额10,000元" in unit and ">7,000<" in unit and ">10,000<" in unit
    cell = client.get("/obligations/101/township-funding/2021").text
    assert "7,000元" in cell and "10,000元" in cell and "合计17,000元，定额10,000元" in cell
    page = client.get("/audit?year=2021&unit=101&rule=township-funding").text
    assert "7,000元" in page and "合计17,000元，定额10,000元" in page
    printed = client.get("/audit?year=2021&unit=101&rule=township-funding&format=html").text
    assert "7,000元" in printed and "合计17,000元，定额10,000元" in printed
    rows = list(csv.reader(io.StringIO(
        client.get("/audit?year=2021&unit=101&rule=township-funding&format=csv").text
    )))  # fmt: skip
    assert rows[0][-1] == "证明金额（元）" and rows[1][-1] == "7000; 10000"
    sheet = load_workbook(io.BytesIO(
        client.get("/audit?year=2021&unit=101&rule=township-funding&format=xlsx").content
    ))["township-funding"]  # fmt: skip
    column = [cell.value for cell in sheet[1]].index("证明金额（元）")
    amounts = [row[column].value for row in sheet.iter_rows(min_row=2)]
    assert amounts == [7000, 10000]  # numbers, one payment a row


def feed_count(engine: Engine) -> tuple[int, int]:
    with transaction(engine) as session:
        every = session.scalars(select(CalendarFeed)).all()
        return len(every), sum(1 for feed in every if feed.revoked_at is None)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_one_feed_per_unit_and_person_unless_asked_and_the_link_names_its_scheme(
    client_of: Login, engine: Engine
) -> None:
    client, csrf = client_of("clerk")
    made = client.post("/units/101/feed", data={"csrf": csrf}).text
    assert "built-in method" not in made and "订阅网址（http）" in made
    assert 'value="http://' in made and 'value="webcal://' in made and "execCommand" in made
    assert feed_count(engine) == (1, 1)
    again = client.post("/units/101/feed", data={"csrf": csrf}).text
    assert "你已为本单位生成过 1 个订阅链接" in again and "/cal/" not in again
    assert feed_count(engine) == (1, 1)
    client.post("/units/101/feed", data={"csrf": csrf, "want": "another"})
    assert feed_count(engine) == (2, 2)
    replaced = client.post("/units/101/feed", data={"csrf": csrf, "want": "replace"}).text
    assert "/cal/" in replaced and feed_count(engine) == (3, 1)
    other, other_csrf = client_of("admin")  # another person gets a feed of her own
    assert "/cal/" in other.post("/units/101/feed", data={"csrf": other_csrf}).text


def test_shares_read_as_percentages_on_a_scale_where_zero_is_the_worst_colour() -> None:
    assert [percent(v) for v in (Decimal("0.9"), Decimal("0.487"), 0, None)] == [
        "90%", "48.7%", "0%", "—",
    ]  # fmt: skip
    assert points_text(Decimal("5.000")) == "5" and points_text(Decimal("1.666")) == "1.67"
    assert heat(0) == "background-color: hsl(0 65% 80%)" and heat(None) == ""
    assert heat(Decimal(1)) == "background-color: hsl(120 65% 80%)"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_scorecard_page_shows_percentages_and_colours(client_of: Login) -> None:
    client, _ = client_of("admin")
    page = client.get("/scorecard?year=2021&kind=township").text
    assert "hsl(" in page and re.search(r"<strong>\d+(\.\d)?%</strong>", page)
    assert not re.search(r"\d\.0%|\.00<", page)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_dashboard_opens_one_rule_at_a_time_and_its_toggles_keep_it_open(
    client_of: Login,
) -> None:
    client, _ = client_of("admin")
    every = client.get("/?year=2021").text
    assert every.count('<details class="card rule-block"') > 3
    assert len(re.findall(r'<details class="card rule-block" id="rule-[^"]+" open>', every)) == 1
    chosen = client.get("/?year=2021&show=village-funding&open=101").text
    assert '<details class="card rule-block" id="rule-village-funding" open>' in chosen
    assert "show=village-funding#rule-village-funding" in chosen  # the close toggle keeps it


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_unit_page_lists_what_is_still_open_before_what_is_closed(client_of: Login) -> None:
    client, _ = client_of("admin")
    page = client.get("/units/101").text
    classes = re.findall(r'<tr class="o-(\w+)">', page)
    closed = {"met", "met_late", "missed", "exempt"}
    first_closed = next(i for i, name in enumerate(classes) if name in closed)
    assert first_closed > 0 and not any(name not in closed for name in classes[first_closed:])
