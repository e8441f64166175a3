"""The append-only change trail: every change, who made it, when, the state before and after."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.store.models import ChangeRecord, Unit


@dataclass(frozen=True)
class Change:
    """One entry of the change trail: who changed what, when, from what to what."""

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
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one change to the trail inside the caller's transaction."""
    session.add(
        ChangeRecord(
            at=now,
            actor=actor,
            action=action,
            unit_id=unit_id,
            subject=subject,
            before=_plain(before),
            after=_plain(after),
        )
    )


def changes(
    session: Session,
    unit_ids: Collection[int] | None,
    first: date,
    last: date,
    zone: ZoneInfo,
    limit: int = 5000,
) -> list[Change]:
    """Changes dated in ``[first, last]`` (local days), of ``unit_ids`` (None: every change),
    newest first, in one statement."""
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last, time(23, 59, 59), zone)
    statement = (
        select(ChangeRecord, Unit.code)
        .outerjoin(Unit, Unit.id == ChangeRecord.unit_id)
        .where(ChangeRecord.at >= start, ChangeRecord.at <= end)
        .order_by(ChangeRecord.at.desc(), ChangeRecord.id.desc())
        .limit(limit)
    )
    if unit_ids is not None:
        statement = statement.where(ChangeRecord.unit_id.in_(sorted(unit_ids)))
    return [_change(row, code) for row, code in session.execute(statement)]


def _change(row: ChangeRecord, code: str | None) -> Change:
    return Change(
        row.at, row.actor, row.action, code, row.subject, _text(row.before), _text(row.after)
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{key}={item}" for key, item in value.items())
    return str(value)


def _plain(value: Any) -> Any:
    """A JSON-safe copy (dates and decimals become text)."""
    return None if value is None else json.loads(json.dumps(value, default=str, ensure_ascii=False))
