"""Which reminders are due on a day: stages, workday shifting, catch-up, recipients."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from scheduler.core.compliance import EventFacts
from scheduler.core.reminders import ESCALATE, Holder, Reminder, escalation_day, plan, stage_days
from scheduler.core.rules import Rule
from scheduler.core.workdays import Workdays
from tests.facts import COUNTY, EAST, UNITS, WEST, event, obligations, rule_of

MONTHLY = rule_of("""
    every: month
    require: {count: hearing, at_least: 1}
    due: +5 days
    effective: {from: 2026-01-01}
    responsible: [chair]
    notify: [chair]
    remind: [3 days before, on due]
    escalate: {after: 5 days, to: parent.chair}
""")
OFFICIAL = Workdays()
HOLDERS = (
    Holder(10, COUNTY.id, "chair"),
    Holder(11, EAST.id, "chair", date(2026, 7, 1)),
    Holder(12, WEST.id, "chair"),
    Holder(13, EAST.id, "chair", None, date(2026, 6, 30)),  # left before
)


def due_on(
    day: str,
    events: Iterable[EventFacts] = (),
    rule: Rule = MONTHLY,
    catch_up: int = 0,
    chats: Sequence[int] = (),
) -> list[Reminder]:
    found = obligations(rule, day, events, first="2026-01-01", last=day)
    units = {unit.id: unit for unit in UNITS}
    return plan(
        {rule.id: rule}, found, units, HOLDERS, set(chats), date.fromisoformat(day),
        OFFICIAL, catch_up,
    )  # fmt: skip


def summary(found: Iterable[Reminder]) -> list[tuple[str, str, str, str]]:
    return [(r.obligation.period.label, r.stage, r.recipient, r.day.isoformat()) for r in found]


def test_stages_in_the_national_day_holiday_move_to_the_last_workday_before_it() -> None:
    due = date(2026, 10, 5)  # September's obligation, due 5 days after the month
    assert stage_days(MONTHLY, due, OFFICIAL) == [
        ("3 days before", date(2026, 9, 30)),
        ("on due", date(2026, 9, 30)),
    ]


def test_an_escalation_on_the_adjusted_working_saturday_stays_there() -> None:
    assert escalation_day(MONTHLY, date(2026, 10, 5), OFFICIAL) == date(2026, 10, 10)


def test_an_escalation_in_a_holiday_moves_after_it_not_before_the_deadline() -> None:
    quick = rule_of("""
        every: month
        require: {count: hearing, at_least: 1}
        due: +5 days
        effective: {from: 2026-01-01}
        responsible: [chair]
        escalate: {after: 1 day, to: parent.chair}
    """)
    assert escalation_day(quick, date(2026, 10, 5), OFFICIAL) == date(2026, 10, 8)


def test_on_the_moved_day_each_current_holder_gets_the_latest_stage_once() -> None:
    assert summary(due_on("2026-09-30")) == [
        ("2026-09", "on due", "person:11", "2026-09-30"),
        ("2026-09", "on due", "person:12", "2026-09-30"),
    ]


def test_an_obligation_met_before_the_stage_gets_nothing() -> None:
    held = [event(EAST, "2026-09-20", "hearing")]
    assert summary(due_on("2026-09-30", held)) == [
        ("2026-09", "on due", "person:12", "2026-09-30"),
    ]


def test_a_day_without_a_stage_has_no_reminder() -> None:
    assert due_on("2026-09-29") == []
    assert due_on("2026-10-01") == []


def test_a_stage_a_sweep_missed_is_made_up_within_the_catch_up_days() -> None:
    # August's obligation is due Saturday 5 September: 3 days before = Wednesday 2 September.
    assert due_on("2026-09-03") == []
    late = summary(due_on("2026-09-03", catch_up=1))
    assert late == [
        ("2026-08", "3 days before", "person:11", "2026-09-02"),
        ("2026-08", "3 days before", "person:12", "2026-09-02"),
    ]


def test_the_escalation_goes_to_the_parent_units_role_once_the_deadline_passed() -> None:
    held = [event(WEST, "2026-09-11", "hearing")]
    assert summary(due_on("2026-10-10", held)) == [
        ("2026-09", ESCALATE, "person:10", "2026-10-10"),
    ]


def test_a_unit_with_a_group_chat_gets_the_digest_there_too() -> None:
    found = due_on("2026-09-30", chats=[EAST.id])
    assert [r.recipient for r in found] == ["person:11", "chat:2", "person:12"]
    assert found[1].chat_unit_id == EAST.id
    assert found[1].person_id is None


def test_reminders_are_keyed_by_obligation_stage_and_recipient() -> None:
    first = due_on("2026-09-30")[0]
    assert first.key == (EAST.id, MONTHLY.id, "2026-09", "on due", "person:11")
