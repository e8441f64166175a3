"""The pages as clerks use them daily: any as-of day, links that keep it, money in sight, the
audit page paged, the feed page, the scorecard in percentages, and every word in Chinese."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

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
