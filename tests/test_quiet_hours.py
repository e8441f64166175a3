"""Quiet hours: nothing goes out 20:00–08:00 or on a day off; met obligations are dropped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import Engine

from scheduler.cli.reminders import detail
from scheduler.core.reminders import QuietHours
from scheduler.core.rules import RuleBook
from scheduler.core.workdays import Workdays
from scheduler.store import evidence
from scheduler.store.database import transaction
from tests.mailsink import MailSink
from tests.remindworld import (
    DAY,
    SHANGHAI,
    load,
    rows,
    run_dispatch,
    run_sweep,
    settings_for,
    url_of,
)

EVENING = QuietHours(time(20, 0), time(8, 0))
WORKDAYS = Workdays.of()


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "release"),
    [
        (at(10, 16, 9), at(10, 16, 9)),  # Friday morning: allowed
        (at(10, 16, 19, 59), at(10, 16, 19, 59)),
        (at(10, 16, 20), at(10, 19, 8)),  # Friday evening: Monday 08:00
        (at(10, 16, 22), at(10, 19, 8)),
        (at(10, 19, 7, 30), at(10, 19, 8)),  # Monday early: the same morning
        (at(10, 17, 10), at(10, 19, 8)),  # a Saturday is off all day
        (at(10, 1, 10), at(10, 8, 8)),  # National Day (1–7 October): after the holiday
    ],
)
def test_a_moment_in_quiet_hours_waits_for_the_next_allowed_one(
    moment: datetime, release: datetime
) -> None:
    assert EVENING.release(moment, WORKDAYS) == release
    assert EVENING.is_quiet(moment, WORKDAYS) == (release != moment)


def test_a_window_within_one_day_and_an_empty_window() -> None:
    lunch = QuietHours(time(12, 0), time(14, 0))
    assert lunch.release(at(10, 16, 13), WORKDAYS) == at(10, 16, 14)
    assert lunch.release(at(10, 16, 23), WORKDAYS) == at(10, 16, 23)
    none = QuietHours(time(8, 0), time(8, 0))
    assert none.release(at(10, 16, 23), WORKDAYS) == at(10, 16, 23)
    assert none.release(at(10, 17, 23), WORKDAYS) == at(10, 19, 0)


@pytest.fixture
def county(engine: Engine, book: RuleBook) -> Engine:
    load(engine, book)
    return engine


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as server:
        yield server


def test_a_9_oclock_sweep_dispatched_at_22_is_held_until_8_the_next_workday(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port)
    run_sweep(county, book, settings)  # Friday 09:00
    night = DAY.replace(hour=22)
    held = run_dispatch(county, book, settings, night)
    assert (held.sent, held.held) == (0, 6)
    monday = at(10, 19, 8)
    assert {r.held_until.astimezone(SHANGHAI) for r in rows(county)} == {monday}  # type: ignore[union-attr]
    assert {r.status for r in rows(county)} == {"pending"}
    assert run_dispatch(county, book, settings, at(10, 17, 10)).sent == 0  # Saturday
    assert run_dispatch(county, book, settings, monday - timedelta(minutes=1)).sent == 0
    assert sink.envelopes == []
    released = run_dispatch(county, book, settings, monday)
    assert released.sent == 3  # three digests by mail (the chat rows have no robot)
    assert len(sink.envelopes) == 3


def test_the_outbox_shows_a_held_row_as_held_for_quiet_hours(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port)
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings, DAY.replace(hour=22))
    assert detail(rows(county)[0], settings) == "免打扰时段暂缓至2026-10-19 08:00"
    english = settings.model_copy(update={"language": "en"})
    assert detail(rows(county)[0], english) == "held for quiet hours until 2026-10-19 08:00"


def test_a_rule_without_quiet_hours_is_sent_at_night(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    loud = {
        rule.id: replace(rule, quiet_hours=False) if rule.id == "township-hearing" else rule
        for rule in book.rules
    }
    noisy = replace(book, rules=tuple(loud.values()))
    settings = settings_for(url_of(county), sink.port)
    run_sweep(county, noisy, settings)
    outcome = run_dispatch(county, noisy, settings, DAY.replace(hour=22))
    assert outcome.held == 3  # the research rule's rows wait
    assert outcome.sent == 3  # the hearing's rows go: one digest of one item each
    sent = [r for r in rows(county) if r.status == "sent"]
    assert {r.rule_id for r in sent} == {"township-hearing"}


def test_a_meeting_recorded_before_the_release_cancels_its_held_reminders(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port)
    run_sweep(county, book, settings)
    run_dispatch(county, book, settings, DAY.replace(hour=22))
    cells = {"unit": "101", "kinds": "hearing", "date": "2026-10-17", "title": "听取妇联汇报"}
    with transaction(county) as session:
        evidence.add_event(session, book, cells, "刘主席", at(10, 17, 9))
    released = run_dispatch(county, book, settings, at(10, 19, 8))
    assert released.cancelled == 2  # 101's hearing to 陈书记 and 刘主席
    cancelled = {(r.unit_id, r.rule_id) for r in rows(county) if r.status == "cancelled"}
    assert len(cancelled) == 1 and next(iter(cancelled))[1] == "township-hearing"
    assert released.sent == 3


def test_with_quiet_hours_off_a_night_dispatch_sends_at_once(
    county: Engine, book: RuleBook, sink: MailSink
) -> None:
    settings = settings_for(url_of(county), sink.port, quiet_hours=False)
    run_sweep(county, book, settings)
    outcome = run_dispatch(county, book, settings, at(10, 17, 23))  # Saturday night
    assert (outcome.sent, outcome.held) == (3, 0)
