"""The sweep: evaluate obligations on a day and write the reminders due into the outbox.

The outbox's unique key (obligation = unit, rule, period label; stage; recipient) makes the sweep
idempotent: running it again the same day, after a restart or in a second process writes nothing
twice (``INSERT … ON CONFLICT DO NOTHING`` on both SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheduler.config import Settings
from scheduler.core.clerk_notices import Notice, OpenItem, ReturnedEvent, plan_notices
from scheduler.core.compliance import UnitFacts
from scheduler.core.reminders import Holder, Reminder, plan
from scheduler.core.rules import Rule, RuleBook
from scheduler.core.workdays import Workdays
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, RoleAssignment, Unit
from scheduler.store.models_rectifications import OPEN, Rectification
from scheduler.store.models_reminders import PENDING, OutboxEntry
from scheduler.store.models_reviews import RETURNED, EventReview
from scheduler.store.reports import Selection, evaluate_selection
from scheduler.store.workdays import load_workdays

KEY = ("unit_id", "rule_id", "period_label", "stage", "recipient")
Keyed = TypeVar("Keyed", Reminder, Notice)
_SHIFT_SLACK = 31  # days a stage can move to a workday, with room to spare


@dataclass(frozen=True)
class SweepResult:
    """What a sweep for ``day`` found due (``reminders``) and how many rows were new."""

    day: date
    reminders: list[Reminder]
    units: dict[int, UnitFacts]
    rules: dict[str, Rule]
    written: int
    notices: list[Notice] = field(default_factory=list)  # 整改 items and returned events


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
    everyone = holders(session)
    due = plan(rule_map, obligations, by_id, everyone, chats, day, workdays, catch_up)
    since = day - timedelta(days=catch_up + _SHIFT_SLACK)
    fresh = _new(session, due, since)
    notices = _new(session, clerk_notices(session, book, settings, day, everyone, workdays), since)
    rows = [_row(r, day, utc(now)) for r in fresh] + [
        _notice_row(n, day, utc(now)) for n in notices
    ]
    if rows and not dry_run:
        insert_ignoring_duplicates(session, rows)
    written = 0 if dry_run else len(rows)
    return SweepResult(day, fresh, by_id, rule_map, written, notices)


def clerk_notices(
    session: Session,
    book: RuleBook,
    settings: Settings,
    day: date,
    everyone: Sequence[Holder],
    workdays: Workdays,
) -> list[Notice]:
    """The notices due on ``day`` to units' clerks: open 整改 items before their due date and
    events returned with a comment (`scheduler.core.clerk_notices`)."""
    catch_up, days = settings.reminders.catch_up_days, settings.reminders.rectify_days
    longest = max(days, default=0) + _SHIFT_SLACK
    items = [
        OpenItem(*row)
        for row in session.execute(
            select(Rectification.id, Rectification.unit_id, Rectification.due).where(
                Rectification.status == OPEN,
                Rectification.due >= day,
                Rectification.due <= day + timedelta(days=longest),
            )
        )
    ]
    returned = _returned(session, settings, day - timedelta(days=catch_up + 2))
    units = {item.unit_id for item in items} | {event.unit_id for event in returned}
    roles = clerk_roles(session, book, settings, units)
    return plan_notices(items, returned, roles, everyone, day, workdays, days, catch_up)


def _returned(session: Session, settings: Settings, since: date) -> list[ReturnedEvent]:
    """Current events returned on ``since`` or later (local days; a day's margin: SQLite keeps
    the wall time as written)."""
    start = datetime.combine(since, time(0), settings.zone)
    rows = session.execute(
        select(EventReview.event_id, Event.unit_id, EventReview.reviewed_at, Event.date)
        .join(Event, Event.id == EventReview.event_id)
        .where(CURRENT, EventReview.status == RETURNED, EventReview.reviewed_at >= start)
    )
    zone = settings.zone
    return [
        ReturnedEvent(event_id, unit_id, _local_day(moment, zone), day)
        for event_id, unit_id, moment, day in rows
    ]


def _local_day(moment: datetime, zone: Any) -> date:
    return (moment if moment.tzinfo is None else moment.astimezone(zone)).date()


def clerk_roles(
    session: Session, book: RuleBook, settings: Settings, unit_ids: Collection[int]
) -> dict[int, tuple[str, ...]]:
    """The clerk roles of each unit: ``reminders.clerk_roles``, or else the roles the rules
    that apply to its kind remind (responsible, then notify)."""
    kinds = dict(
        session.execute(select(Unit.id, Unit.kind).where(Unit.id.in_(sorted(unit_ids)))).all()
    )
    if settings.reminders.clerk_roles:
        return {unit: tuple(settings.reminders.clerk_roles) for unit in kinds}
    by_kind: dict[str, dict[str, None]] = {}
    for rule in book.rules:
        for kind in rule.applies_to:
            by_kind.setdefault(kind, {}).update(dict.fromkeys(rule.responsible + rule.notify))
    return {unit: tuple(by_kind.get(kind, {})) for unit, kind in kinds.items()}


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


def _new(session: Session, due: Sequence[Keyed], since: date) -> list[Keyed]:
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


def _notice_row(notice: Notice, day: date, now: datetime) -> dict[str, Any]:
    return {
        **dict(zip(KEY, notice.key, strict=True)),
        "person_id": notice.person_id,
        "chat_unit_id": None,
        "day": day,
        "due": notice.due,
        "period_start": notice.due,
        "period_end": notice.due,
        "required": None,
        "actual": 0,
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
