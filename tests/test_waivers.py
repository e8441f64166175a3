"""Waivers: a clerk requests, a user a level above the unit decides; an admin waives directly.
On real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from scheduler.core.access import Principal
from scheduler.core.problems import InputError, Message
from scheduler.core.rules import RuleBook
from scheduler.store import accounts, trail, waivers
from scheduler.store.database import transaction
from scheduler.store.models import Waiver
from scheduler.store.models_waivers import WaiverRequest
from scheduler.store.reports import Selection, status_rows
from tests.countyfacts import load_county

pytest_plugins = ["tests.webfixtures"]

NOW = datetime(2021, 5, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TARGET = ("101", "township-hearing", "2021-B1")  # a township's missed hearing
USERS = {"county": "100", "liu": "101", "zhou": "102", "village": "10101"}


@pytest.fixture
def people(engine: Engine, book: RuleBook, cheap_hashes: None) -> dict[str, waivers.Actor]:
    """The small county with a clerk at the county, each township and the village, and an
    admin; each as the actor of a web page."""
    load_county(engine, book)
    found: dict[str, Principal] = {}
    with transaction(engine) as session:
        for name, unit in USERS.items():
            found[name] = accounts.add_user(session, name, "clerk", unit, "pw-123456", NOW, "t")
        found["admin"] = accounts.add_user(session, "admin", "admin", None, "pw-123456", NOW, "t")
    return {name: waivers.Actor(user.label, user) for name, user in found.items()}


def status(engine: Engine, book: RuleBook, unit: str = "101") -> str:
    selection = Selection(
        date(2021, 5, 10), date(2021, 1, 1), date(2021, 2, 28), unit, False, "township-hearing"
    )
    with transaction(engine) as session:
        [row] = status_rows(session, book, selection)
    return row.obligation.status.value


def ask(engine: Engine, book: RuleBook, actor: waivers.Actor, unit: str = "101") -> int:
    with transaction(engine) as session:
        asked = waivers.request(session, book, unit, *TARGET[1:], "防汛值班", actor, NOW)
        return asked.id


def decide(engine: Engine, request_id: int, actor: waivers.Actor, approve: bool = True) -> None:
    with transaction(engine) as session:
        waivers.decide(session, request_id, approve, "同意" if approve else "不符合", actor, NOW)


def test_a_request_keeps_the_status_until_the_county_approves_it(
    engine: Engine, book: RuleBook, people: dict[str, waivers.Actor]
) -> None:
    request_id = ask(engine, book, people["liu"])
    assert status(engine, book) == "missed"
    decide(engine, request_id, people["county"])
    assert status(engine, book) == "exempt"
    with transaction(engine) as session:
        waiver = session.scalar(select(Waiver))
        asked = session.get_one(WaiverRequest, request_id)
        entries = trail.entries(session, None, None, None, NOW.tzinfo, newest_first=False)  # type: ignore[arg-type]
    assert waiver is not None and (waiver.approved_by, waiver.reason) == ("county", "防汛值班")
    assert (asked.status, asked.requested_by, asked.decided_by) == ("approved", "liu", "county")
    steps = [(e.action, e.actor) for e in entries if e.action.startswith("waiver.")]
    assert steps == [("waiver.request", "liu"), ("waiver.approve", "county")]


@pytest.mark.parametrize(
    ("requester", "decider", "message"),
    [
        ("liu", "liu", "her own waiver request"),
        ("admin", "admin", "her own waiver request"),
        ("liu", "zhou", "its parent is outside your units"),
        ("liu", "village", "its parent is outside your units"),
    ],
)
def test_nobody_decides_her_own_request_or_one_whose_parent_is_not_hers(
    engine: Engine,
    book: RuleBook,
    people: dict[str, waivers.Actor],
    requester: str,
    decider: str,
    message: str,
) -> None:
    request_id = ask(engine, book, people[requester])
    with pytest.raises(InputError, match=message):
        decide(engine, request_id, people[decider])
    assert status(engine, book) == "missed"
    with transaction(engine) as session:
        assert session.get_one(WaiverRequest, request_id).status == "pending"
        assert session.scalar(select(func.count(Waiver.id))) == 0


def test_a_township_clerk_decides_her_villages_waivers_but_not_her_own_townships(
    engine: Engine, book: RuleBook, people: dict[str, waivers.Actor]
) -> None:
    with transaction(engine) as session:
        village = waivers.request(
            session, book, "10101", "village-funding", "2021", "并村", people["village"], NOW
        )
    with transaction(engine) as session:
        actor = people["liu"]
        assert waivers.decision_problem(session, village, actor) is None
        township = waivers.request(session, book, *TARGET, "防汛", people["admin"], NOW)
        problem = waivers.decision_problem(session, township, actor)
        assert "outside your units" in str(problem)
        assert problem is not None and "不在您负责的范围内" in problem.said("zh")


def test_a_refusal_needs_a_comment_and_leaves_the_status(
    engine: Engine, book: RuleBook, people: dict[str, waivers.Actor]
) -> None:
    request_id = ask(engine, book, people["liu"])
    with pytest.raises(InputError, match="say why it is refused"), transaction(engine) as session:
        waivers.decide(session, request_id, False, " ", people["county"], NOW)
    decide(engine, request_id, people["county"], approve=False)
    assert status(engine, book) == "missed"
    with pytest.raises(InputError, match="is refused already"):
        decide(engine, request_id, people["admin"])


def test_a_clerk_requests_only_in_her_subtree_and_once_per_obligation(
    engine: Engine, book: RuleBook, people: dict[str, waivers.Actor]
) -> None:
    with pytest.raises(InputError, match="outside your units"):
        ask(engine, book, people["zhou"])
    ask(engine, book, people["liu"])
    with pytest.raises(InputError, match="requested already"):
        ask(engine, book, people["admin"])


def test_the_command_line_acts_as_the_user_it_names_or_as_the_operator(
    engine: Engine, book: RuleBook, people: dict[str, waivers.Actor]
) -> None:
    request_id = ask(engine, book, people["liu"])
    with transaction(engine) as session:
        as_liu = waivers.command_line_actor(session, "liu")
        assert as_liu.user is not None and as_liu.user.unit_id == people["liu"].user.unit_id  # type: ignore[union-attr]
        asked = session.get_one(WaiverRequest, request_id)
        assert waivers.decision_problem(session, asked, as_liu) == Message("own_waiver_request")
        operator = waivers.command_line_actor(session, "县妇联")
        assert operator.user is None
    decide(engine, request_id, operator)
    assert status(engine, book) == "exempt"


# --- the admin's direct waiver ----------------------------------------------------------------


def test_a_direct_waiver_makes_the_obligation_exempt_and_is_in_the_trail(
    engine: Engine, book: RuleBook
) -> None:
    load_county(engine, book)
    with transaction(engine) as session:
        waivers.waive(session, book, "102", "township-hearing", "2021-B1", "合并", "县妇联", NOW)
    assert status(engine, book, "102") == "exempt"
    with transaction(engine) as session:
        [entry] = [
            e
            for e in trail.entries(session, None, None, None, NOW.tzinfo)
            if e.action == "waiver.grant"
        ]  # type: ignore[arg-type]
    assert (entry.actor, entry.unit_code, entry.subject) == (
        "县妇联",
        "102",
        "township-hearing 2021-B1",
    )
    assert entry.after == {"reason": "合并"}


@pytest.mark.parametrize(
    ("unit", "rule", "label", "message"),
    [
        ("102", "township-hearing", "2021-Q1", "has no period '2021-Q1'"),
        ("102", "township-hearing", "2019-B1", "has no period"),
        ("102", "township-hearing", "2021-B9", "bucket index out of range"),
        ("102", "no-such-rule", "2021-B1", "unknown rule"),
        ("999", "township-hearing", "2021-B1", "unknown unit"),
        ("10101", "township-hearing", "2021-B1", "does not apply to a village"),
        ("101", "township-chair-attendance", "2021-02-02", "has no period"),
    ],
)
def test_a_waiver_for_a_period_the_rule_does_not_have_is_refused(
    engine: Engine, book: RuleBook, unit: str, rule: str, label: str, message: str
) -> None:
    load_county(engine, book)
    with pytest.raises(InputError, match=message), transaction(engine) as session:
        waivers.waive(session, book, unit, rule, label, "reason", "admin", NOW)
    with transaction(engine) as session:
        assert session.scalar(select(func.count(Waiver.id))) == 0


def test_a_second_waiver_or_request_for_the_same_obligation_is_refused(
    engine: Engine, book: RuleBook
) -> None:
    load_county(engine, book)
    with transaction(engine) as session:
        waivers.waive(session, book, "102", "township-hearing", "2021-B1", "r", "a", NOW)
    with pytest.raises(InputError, match="already waived"), transaction(engine) as session:
        waivers.waive(session, book, "102", "township-hearing", "2021-B1", "r", "a", NOW)
    with pytest.raises(InputError, match="already waived"), transaction(engine) as session:
        waivers.request(
            session, book, "102", "township-hearing", "2021-B1", "r", waivers.Actor("x"), NOW
        )
