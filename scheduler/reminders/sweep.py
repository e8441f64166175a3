"""The sweep: evaluate obligations on a day and write the reminders due into the outbox.

The outbox's unique key (obligation = unit, rule, period label; stage; recipient) makes the sweep
idempotent: running it again the same day, after a restart or in a second process writes nothing
twice (``INSERT … ON CONFLICT DO NOTHING`` on both SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheduler.config import Settings
from scheduler.core.compliance import UnitFacts
from scheduler.core.reminders import Holder, Reminder, plan
from scheduler.core.rules import Rule, RuleBook
from scheduler.store.models import RoleAssignment
from scheduler.store.models_reminders import PENDING, OutboxEntry
from scheduler.store.reports import Selection, evaluate_selection
from scheduler.store.workdays import load_workdays

KEY = ("unit_id", "rule_id", "period_label", "stage", "recipient")
_SHIFT_SLACK = 31  # days a stage can move to a workday, with room to spare


@dataclass(frozen=True)
class SweepResult:
    """What a sweep for ``day`` found due (``reminders``) and how many rows were new."""

    day: date
    reminders: list[Reminder]
    units: dict[int, UnitFacts]
    rules: dict[str, Rule]
    written: int


def utc(moment: datetime) -> datetime:
    """An aware datetime in UTC (the outbox stores UTC)."""
    return moment.astimezone(UTC)


def sweep(
    session: Session,
    book: RuleBook,
    settings: Settings,
    day: date,
    now: datetime,
    dry_run: bool = False,
) -> SweepResult:
    """Write the reminders due on ``day`` (``now`` stamps the rows); ``dry_run`` writes nothing."""
    catch_up = settings.reminders.catch_up_days
    first = day - timedelta(days=lookback_days(book.rules, day, catch_up))
    units, rules, obligations = evaluate_selection(session, book, Selection(day, first, day))
    by_id = {unit.id: unit for unit in units}
    chats = chat_unit_ids(settings, units)
    rule_map = {rule.id: rule for rule in rules}
    workdays = load_workdays(session, settings)
    due = plan(rule_map, obligations, by_id, holders(session), chats, day, workdays, catch_up)
    fresh = _new(session, due, day - timedelta(days=catch_up + _SHIFT_SLACK))
    if fresh and not dry_run:
        insert_ignoring_duplicates(session, [_row(r, day, utc(now)) for r in fresh])
    return SweepResult(day, fresh, by_id, rule_map, 0 if dry_run else len(fresh))


def lookback_days(rules: Iterable[Rule], day: date, catch_up: int) -> int:
    """How far back a period may end and still owe a reminder on ``day``."""
    longest = 0
    for rule in rules:
        after = (rule.escalate.after.after(day) - day).days if rule.escalate else 0
        offset = (rule.due_offset.after(day) - day).days if rule.due_offset else 0
        longest = max(longest, after + offset)
    return longest + catch_up + _SHIFT_SLACK


def chat_unit_ids(settings: Settings, units: Iterable[UnitFacts]) -> set[int]:
    """Ids of the units that have a group-chat robot configured."""
    codes = {chat.unit for chat in settings.reminders.chats}
    return {unit.id for unit in units if unit.code in codes}


def holders(session: Session) -> list[Holder]:
    """Every role assignment (one statement)."""
    rows = session.execute(
        select(
            RoleAssignment.person_id,
            RoleAssignment.unit_id,
            RoleAssignment.role,
            RoleAssignment.valid_from,
            RoleAssignment.valid_to,
        )
    )
    return [Holder(*row) for row in rows]


def _new(session: Session, due: Sequence[Reminder], since: date) -> list[Reminder]:
    """The reminders not yet in the outbox (rows of a stage are at most ``since`` old)."""
    if not due:
        return []
    columns = [getattr(OutboxEntry, name) for name in KEY]
    found = session.execute(select(*columns).where(OutboxEntry.day >= since))
    existing = {tuple(row) for row in found}
    return [reminder for reminder in due if reminder.key not in existing]


def _row(reminder: Reminder, day: date, now: datetime) -> dict[str, Any]:
    o = reminder.obligation
    return {
        **dict(zip(KEY, reminder.key, strict=True)),
        "person_id": reminder.person_id,
        "chat_unit_id": reminder.chat_unit_id,
        "day": day,
        "due": o.due,
        "period_start": o.period.start,
        "period_end": o.period.end,
        "required": o.required,
        "actual": o.actual,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def insert_ignoring_duplicates(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert outbox rows; a row whose key exists already (another sweep won) is skipped."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(OutboxEntry).on_conflict_do_nothing(index_elements=list(KEY))
    session.execute(statement, list(rows))
