"""The append-only change trail: every change, who made it, when, the state before and after.

The store's services write it (`record`) inside the transaction that changes the data, so an
entry exists exactly when its change was committed, whichever face (web page, API, command
line) asked for it; the face only names the actor. An entry keeps a stable action key and the
fields that changed as plain values (`snapshot`, `diff`); `changes` renders them in words in a
reader's language (`scheduler.core.changes`). Rows are never updated or deleted (the models
refuse both).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.core.access import common_ancestor
from scheduler.core.changes import action_text, subject_text, values_text
from scheduler.core.records import ImportSummary
from scheduler.core.rules import RuleBook
from scheduler.store.models import ChangeRecord, Unit


@dataclass(frozen=True)
class Entry:
    """One stored entry: ``action`` is its key, ``before`` and ``after`` its values by field."""

    at: datetime
    actor: str
    action: str
    unit_code: str | None
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class Change:
    """One entry as a reader sees it: every field in words."""

    at: datetime
    actor: str
    action: str
    unit_code: str | None
    subject: str
    before: str
    after: str


def record(
    session: Session,
    actor: str,
    action: str,
    subject: str,
    now: datetime,
    unit_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append one change to the trail inside the caller's transaction."""
    session.add(
        ChangeRecord(
            at=now,
            actor=actor,
            action=action,
            unit_id=unit_id,
            subject=subject,
            before=snapshot(before) or None,
            after=snapshot(after) or None,
        )
    )


def record_change(
    session: Session, actor: str, now: datetime, noun: str, unit_id: int | None, subject: str,
    old: Mapping[str, Any] | None, new: Mapping[str, Any],
) -> None:  # fmt: skip
    """``NOUN.add`` with the new state, or ``NOUN.change`` with only the fields that changed."""
    if old is None:
        record(session, actor, f"{noun}.add", subject, now, unit_id, None, new)
        return
    before, after = diff(old, new)
    record(session, actor, f"{noun}.change", subject, now, unit_id, before, after)


def record_import(
    session: Session, actor: str, now: datetime, kind: str, filename: str,
    summary: ImportSummary, unit_ids: Collection[int],
) -> None:  # fmt: skip
    """An import's own entry, with its counts, at the lowest unit holding all its rows."""
    parents = dict(session.execute(select(Unit.id, Unit.parent_id)).all())
    counts = {"created": summary.created, "updated": summary.updated}
    counts["unchanged"] = summary.unchanged
    unit_id = common_ancestor(unit_ids, parents)
    record(session, actor, f"import.{kind}", filename, now, unit_id, None, counts)


def snapshot(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Plain JSON values by field, without the empty ones (no ``agenda=None``)."""
    plain = {key: _plain(value) for key, value in (values or {}).items()}
    return {key: value for key, value in plain.items() if value not in (None, "", [])}


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields whose values differ, before and after."""
    old, new = snapshot(before), snapshot(after)
    keys = [key for key in {**old, **new} if old.get(key) != new.get(key)]
    return {k: old[k] for k in keys if k in old}, {k: new[k] for k in keys if k in new}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(item) for item in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


def entries(
    session: Session,
    unit_ids: Collection[int] | None,
    first: date | None,
    last: date | None,
    zone: ZoneInfo,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[Entry]:
    """Entries dated in ``[first, last]`` (local days; None: unbounded), of ``unit_ids`` (None:
    every entry), in one statement."""
    order = (ChangeRecord.at.desc(), ChangeRecord.id.desc()) if newest_first else (
        ChangeRecord.at, ChangeRecord.id)  # fmt: skip
    columns = (ChangeRecord.at, ChangeRecord.actor, ChangeRecord.action, Unit.code,
               ChangeRecord.subject, ChangeRecord.before, ChangeRecord.after)  # fmt: skip
    statement = (
        select(*columns)  # rows, not objects: a year's trail is thousands of entries
        .outerjoin(Unit, Unit.id == ChangeRecord.unit_id)
        .order_by(*order)
        .limit(limit)
    )
    if first is not None:
        statement = statement.where(ChangeRecord.at >= datetime.combine(first, time(0), zone))
    if last is not None:
        end = datetime.combine(last + timedelta(days=1), time(0), zone)
        statement = statement.where(ChangeRecord.at < end)
    if unit_ids is not None:
        statement = statement.where(ChangeRecord.unit_id.in_(sorted(unit_ids)))
    return [_entry(*row, zone=zone) for row in session.execute(statement)]


def _entry(at: datetime, *fields: Any, zone: ZoneInfo) -> Entry:
    """SQLite hands times back naive, as the local time they were written in."""
    return Entry(at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone), *fields)


def changes(
    session: Session,
    unit_ids: Collection[int] | None,
    first: date | None,
    last: date | None,
    zone: ZoneInfo,
    limit: int | None = None,
    *,
    lang: str = "zh",
    book: RuleBook | None = None,
) -> list[Change]:
    """The entries of `entries`, newest first, in words of ``lang`` (kinds, roles and rules by
    their titles in ``book``)."""
    found = entries(session, unit_ids, first, last, zone, limit)
    return [readable(entry, lang, book) for entry in found]


def readable(entry: Entry, lang: str, book: RuleBook | None) -> Change:
    """One entry in words of ``lang``."""
    return Change(
        entry.at,
        entry.actor,
        action_text(entry.action, lang),
        entry.unit_code,
        subject_text(entry.action, entry.subject, lang, book),
        values_text(entry.before, lang, book),
        values_text(entry.after, lang, book),
    )
