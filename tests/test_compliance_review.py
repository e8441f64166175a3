"""Review by the level above as one more fact for the pure engine: how each ``review_mode``
changes statuses (off and advisory: every event counts; required: only accepted ones)."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.core.compliance import EventFacts, Obligation, Status, evaluate
from scheduler.core.rules import RuleBook
from tests.facts import COUNTY, EAST, UNITS, event

AS_OF = date(2021, 5, 10)


def reviewed(fact: EventFacts, state: str | None) -> EventFacts:
    return fact._replace(review=state)


def hearing(state: str | None, day: str = "2021-02-10") -> EventFacts:
    return reviewed(event(EAST, day, "hearing"), state)


def b1(book: RuleBook, events: list[EventFacts], mode: str) -> Obligation:
    found = evaluate(
        [book.rule("township-hearing")], UNITS, events, {}, AS_OF, date(2021, 1, 1),
        date(2021, 2, 28), mode,
    )  # fmt: skip
    (obligation,) = [o for o in found if o.unit_id == EAST.id and o.period.label == "2021-B1"]
    return obligation


@pytest.mark.parametrize("mode", ["off", "advisory"])
@pytest.mark.parametrize("state", [None, "pending", "accepted", "returned"])
def test_off_and_advisory_count_every_event_whatever_its_review(
    book: RuleBook, mode: str, state: str | None
) -> None:
    found = b1(book, [hearing(state)], mode)
    assert (found.status, found.awaiting_review) == (Status.MET, False)


def test_required_counts_an_accepted_event(book: RuleBook) -> None:
    found = b1(book, [hearing("accepted")], "required")
    assert (found.status, found.awaiting_review) == (Status.MET, False)


@pytest.mark.parametrize("state", [None, "pending"])
def test_required_counts_a_pending_event_only_once_accepted_and_says_it_awaits_review(
    book: RuleBook, state: str | None
) -> None:
    found = b1(book, [hearing(state)], "required")
    assert (found.status, found.awaiting_review, found.evidence) == (Status.MISSED, True, ())


def test_required_never_counts_a_returned_event(book: RuleBook) -> None:
    found = b1(book, [hearing("returned")], "required")
    assert (found.status, found.awaiting_review) == (Status.MISSED, False)


def test_required_takes_the_accepted_event_when_a_returned_one_came_first(
    book: RuleBook,
) -> None:
    first, second = hearing("returned", "2021-01-10"), hearing("accepted", "2021-02-20")
    found = b1(book, [first, second], "required")
    assert (found.status, found.evidence) == (Status.MET, (second.id,))


def test_required_leaves_the_events_of_a_unit_without_parent_unreviewed(
    book: RuleBook,
) -> None:
    held = reviewed(event(COUNTY, "2023-05-10", "conference"), None)
    found = evaluate(
        [book.rule("county-conference")], UNITS, [held], {}, date(2024, 1, 1),
        date(2021, 10, 1), date(2026, 9, 30), "required",
    )  # fmt: skip
    assert [o.status for o in found] == [Status.MET]
