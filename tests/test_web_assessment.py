"""The scorecard page: internal by default, explained, for clerks of their own units only when
the deployment says so, and downloadable as the CSV and the XLSX 考核表."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from scheduler.config import AssessmentSettings
from scheduler.core.rules import RuleBook
from tests.countyfacts import load_county
from tests.webfixtures import EVENTS, add_users, log_in, make_app, settings_for

pytest_plugins = ["tests.webfixtures"]
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
Login = Callable[[str], tuple[TestClient, str]]


@pytest.fixture
def clerks_app(
    engine: Engine, book: RuleBook, database_url: str, tmp_path: Path, cheap_hashes: None
) -> FastAPI:
    """The web app of a deployment that lets clerks read their own units' scores."""
    load_county(engine, book, EVENTS)
    add_users(engine)
    settings = settings_for(database_url, str(tmp_path)).model_copy(
        update={"assessment": AssessmentSettings(visible_to="clerks")}
    )
    return make_app(engine, book, settings)


@pytest.fixture
def clerks_client(clerks_app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    clients: list[TestClient] = []

    def make(name: str) -> TestClient:
        client = TestClient(clerks_app, base_url="https://testserver")
        clients.append(client)
        log_in(client, name)
        return client

    yield make
    for client in clients:
        client.close()


@SQLITE_ONLY
def test_an_admin_reads_the_ranked_scorecard_and_how_it_is_computed(client_of: Login) -> None:
    client, _ = client_of("admin")
    page = client.get("/scorecard?year=2021&kind=township").text
    assert "计分方法" in page and "不公开排名" in page
    assert '<th class="num">名次</th>' in page and "东山镇" in page and "西河乡" in page
    assert "乡镇党委听取妇联工作汇报" in page and "<svg" in page
    villages = client.get("/scorecard?year=2021&kind=village").text
    assert "东山村" in villages and "东山镇" not in villages
    assert client.get("/scorecard?year=2021&kind=city").status_code == 422


@SQLITE_ONLY
def test_by_default_only_admins_see_the_scorecard_or_its_link(client_of: Login) -> None:
    for name in ("clerk", "viewer"):
        client, _ = client_of(name)
        assert 'href="/scorecard"' not in client.get("/").text
        for path in ("/scorecard", "/scorecard?year=2021&format=csv"):
            assert client.get(path).status_code == 403, (name, path)
    admin, _ = client_of("admin")
    assert 'href="/scorecard"' in admin.get("/").text


@SQLITE_ONLY
def test_with_clerks_allowed_a_clerk_reads_her_own_units_scores_without_ranks(
    clerks_client: Callable[[str], TestClient],
) -> None:
    clerk = clerks_client("clerk")
    assert 'href="/scorecard"' in clerk.get("/").text
    page = clerk.get("/scorecard?year=2021&kind=township").text
    assert "东山镇" in page and "西河乡" not in page
    assert '<th class="num">名次</th>' not in page and "不显示名次" in page
    download = clerk.get("/scorecard?year=2021&kind=township&format=csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert {row["代码"] for row in rows} == {"101"} and {row["名次"] for row in rows} == {""}
    assert clerks_client("viewer").get("/scorecard").status_code == 403


@SQLITE_ONLY
def test_the_workbook_download_has_a_sheet_per_kind(client_of: Login) -> None:
    client, _ = client_of("admin")
    answer = client.get("/scorecard?year=2021&format=xlsx")
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(answer.content)).sheetnames == ["县", "乡镇", "村"]
    one = client.get("/scorecard?year=2021&kind=township&format=xlsx")
    assert load_workbook(io.BytesIO(one.content)).sheetnames == ["乡镇"]
