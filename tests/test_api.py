"""The JSON API: bearer tokens, the pages' scopes, 422 naming the field, nothing half-written,
and fuzzing from its OpenAPI schema (schemathesis) without a single 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import Engine, func, select

from scheduler.core.rules import RuleBook
from scheduler.store import accounts
from scheduler.store.database import transaction
from scheduler.store.models import Event, Unit
from tests.countyfacts import load_county
from tests.webfixtures import NOW

pytest_plugins = ["tests.webfixtures"]
Api = Callable[[str], TestClient]
HEARING = {"unit": "101", "kinds": ["hearing"], "date": "2021-05-20", "title": "听取汇报"}


@pytest.fixture
def api(web_app: FastAPI, engine: Engine) -> Api:
    """``api(user)``: a client sending a fresh bearer token of ``user``."""

    def make(user: str) -> TestClient:
        with transaction(engine) as session:
            token = accounts.create_token(session, user, "test", web_app.state.huiqi.now(), "cli")
        return TestClient(web_app, headers={"Authorization": f"Bearer {token}"})

    return make


def events_in(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count(Event.id))) or 0)


def test_without_a_valid_token_the_api_answers_401(web_app: FastAPI) -> None:
    client = TestClient(web_app)
    assert client.get("/api/units").status_code == 401
    forged = client.get("/api/units", headers={"Authorization": "Bearer hq_forged"})
    assert forged.status_code == 401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_clerk_token_sees_and_changes_its_township_only(api: Api, engine: Engine) -> None:
    clerk = api("clerk")
    assert [unit["code"] for unit in clerk.get("/api/units").json()["items"]] == ["101", "10101"]
    assert clerk.get("/api/units/102").status_code == 403
    assert clerk.get("/api/obligations?unit=102").status_code == 403
    assert clerk.post("/api/events", json={**HEARING, "unit": "102"}).status_code == 403
    assert api("viewer").post("/api/events", json=HEARING).status_code == 403
    assert events_in(engine) == 1


def test_an_event_is_created_replaced_and_voided_through_the_api(api: Api, engine: Engine) -> None:
    clerk = api("clerk")
    created = clerk.post("/api/events", json=HEARING)
    assert created.status_code == 201
    event_id = created.json()["id"]
    replaced = clerk.put(f"/api/events/{event_id}", json={**HEARING, "title": "更正"})
    assert replaced.status_code == 200 and replaced.json()["title"] == "更正"
    new_id = replaced.json()["id"]
    assert clerk.put(f"/api/events/{event_id}", json=HEARING).status_code == 404
    obligations = clerk.get("/api/obligations?year=2021&unit=101&rule=township-hearing").json()[
        "items"
    ]
    b3 = next(o for o in obligations if o["period"]["label"] == "2021-B3")
    assert (b3["status"], b3["evidence"]) == ("met", [new_id])
    assert clerk.post(f"/api/events/{new_id}/void", json={"reason": "错录"}).status_code == 204
    assert events_in(engine) == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**HEARING, "date": "2021-02-30"}, "date"),
        ({**HEARING, "kinds": ["karaoke"]}, "kinds"),
        ({**HEARING, "attended": ["mayor"]}, "attended"),
        ({**HEARING, "date": "1999-05-20"}, "date"),
        ({k: v for k, v in HEARING.items() if k != "kinds"}, "kinds"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    api: Api, engine: Engine, body: dict[str, object], field: str
) -> None:
    answer = api("clerk").post("/api/events", json=body)
    assert answer.status_code == 422, answer.text
    assert field in [problem["loc"][-1] for problem in answer.json()["detail"]], answer.text
    assert events_in(engine) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_people_meetings_and_feeds_keep_to_the_scope(api: Api) -> None:
    clerk = api("clerk")
    assert {p["unit"] for p in clerk.get("/api/people").json()["items"]} == {"101"}
    assert clerk.get("/api/meetings?year=2021").json() == {"items": [], "next": None}
    meeting = {"unit": "101", "kinds": ["hearing"], "title": "汇报会",
               "start": "2021-07-05T09:00", "end": "2021-07-05T10:00"}  # fmt: skip
    assert clerk.post("/api/meetings", json=meeting).status_code == 201
    assert clerk.post("/api/meetings", json={**meeting, "unit": "102"}).status_code == 403
    bad = clerk.post("/api/meetings", json={**meeting, "start": "soon"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "start"
    assert [m["title"] for m in clerk.get("/api/meetings?year=2021").json()["items"]] == ["汇报会"]
    feed = clerk.post("/api/feeds", json={"unit": "101"})
    assert feed.status_code == 201 and feed.json()["webcal"].startswith("webcal://")
    assert clerk.post("/api/feeds", json={"unit": "102"}).status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_openapi_schema_lists_the_api_its_pages_errors_and_the_rulesets_words(
    api: Api, book: RuleBook
) -> None:
    schema = api("admin").get("/api/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/units", "/api/events", "/api/events/{event_id}", "/api/obligations"} <= set(paths)
    for path in ("/api/units", "/api/people", "/api/events", "/api/obligations", "/api/meetings"):
        names = {parameter["name"] for parameter in paths[path]["get"]["parameters"]}
        assert {"limit", "cursor"} <= names, path
        page = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert set(schema["components"]["schemas"][page["$ref"].split("/")[-1]]["properties"]) == {
            "items",
            "next",
        }
    for operations in paths.values():
        for operation in operations.values():
            assert {"400", "401", "403", "404", "422"} <= set(operation["responses"])
    kinds = schema["components"]["schemas"]["EventIn"]["properties"]["kinds"]["items"]["enum"]
    assert kinds == sorted(book.event_kinds)


def test_lists_come_in_pages_that_together_hold_every_item_once(
    api: Api, engine: Engine, book: RuleBook
) -> None:
    rows = [
        ("10101", "branch_meeting", f"2021-0{1 + i % 9}-1{i % 9}", "", f"会{i}", "", "", f"p{i}")
        for i in range(230)
    ]
    load_county(engine, book, rows)
    admin = api("admin")
    seen, link, pages = [], "/api/events?unit=10101&limit=100", 0
    while link:
        answer = admin.get(link).json()
        seen.extend(event["id"] for event in answer["items"])
        link, pages = answer["next"], pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) == 230
    in_order = (
        select(Event.id)
        .join(Unit, Unit.id == Event.unit_id)
        .where(Unit.code == "10101")
        .order_by(Event.date, Event.id)
    )
    with transaction(engine) as session:
        assert seen == list(session.scalars(in_order))
    first = admin.get("/api/obligations?year=2021&limit=5").json()
    second = admin.get(first["next"]).json()
    assert len(first["items"]) == len(second["items"]) == 5 and first["items"] != second["items"]
    units = admin.get("/api/units?limit=2").json()
    assert [u["code"] for u in units["items"]] == ["100", "101"]
    assert [u["code"] for u in admin.get(units["next"]).json()["items"]] == ["10101", "102"]
    assert admin.get("/api/units?limit=1001").status_code == 422
    stranger = admin.get("/api/events?cursor=bm90LWEtY3Vyc29y")
    assert stranger.status_code == 404 and "cursor" in stranger.json()["detail"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "body",
    [
        {"unit": "101", "subtree": "yes"},
        {"unit": "101", "subtree": 1},
        {"unit": "101", "colour": "red"},
        {"unit": 101},
    ],
)
def test_a_feed_body_the_schema_refuses_is_refused(api: Api, body: dict[str, object]) -> None:
    assert api("clerk").post("/api/feeds", json=body).status_code == 422


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("change", "field"),
    [({"date": 1621468800}, "date"), ({"amount": "500"}, "amount"), ({"time": "9 am"}, "time"),
     ({"extra": 1}, "extra")],
)  # fmt: skip
def test_an_event_body_of_the_wrong_json_types_is_refused(
    api: Api, engine: Engine, change: dict[str, object], field: str
) -> None:
    answer = api("clerk").post("/api/events", json={**HEARING, **change})
    assert answer.status_code == 422 and field in str(answer.json()["detail"])
    assert events_in(engine) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_revoked_token_is_refused_on_its_next_request(api: Api, engine: Engine) -> None:
    clerk = api("clerk")
    assert clerk.get("/api/units").status_code == 200
    with transaction(engine) as session:
        (token,) = [t for t in accounts.list_tokens(session, "clerk") if t.revoked_at is None]
        accounts.revoke_token(session, token.id, NOW, "admin")
    assert clerk.get("/api/units").status_code == 401


def fuzz(
    operation: schemathesis.APIOperation, mode: GenerationMode, headers: dict[str, str]
) -> None:
    """Call ``operation`` with generated requests and run every schemathesis check: no 5xx,
    only documented status codes, bodies as documented, schema-valid requests accepted and
    schema-violating ones refused."""

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    # An upload's bytes are valid by their content (a PDF, an image), which a schema cannot
    # say: random bytes the schema allows are refused with a 422, as they should be.
    upload = operation.path.endswith("/attachments") and operation.method.upper() == "POST"
    excluded = [positive_data_acceptance] if upload else []

    run()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_fuzzing_the_api_from_its_schema_finds_no_error_and_no_departure_from_it(
    api: Api, web_app: FastAPI
) -> None:
    headers = {"Authorization": api("admin").headers["Authorization"]}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", web_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        fuzz(operation, GenerationMode.POSITIVE, headers)
        try:
            fuzz(operation, GenerationMode.NEGATIVE, headers)
        except Unsatisfiable:  # nothing to get wrong: an operation without parameters
            assert not list(operation.iter_parameters()) and not operation.body
