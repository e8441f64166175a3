"""Before a dispatch round: drop what is no longer owed and hold what falls in quiet hours.

* A due ``pending`` row whose obligation is met (or met late, or exempt) by now becomes
  ``cancelled``: reminders stop as soon as the obligation is met, however long a row waited.
* In quiet hours (``reminders.quiet_from``–``quiet_to``, local time, and all of a day that is not
  an official workday) a due row of a rule that keeps quiet hours (the default) stays ``pending``
  with ``next_attempt_at`` and ``held_until`` set to the next allowed moment; ``huiqi outbox``
  shows it as held for quiet hours. Rows of a rule with ``quiet_hours: false`` go out at once;
  with ``reminders.quiet_hours: false`` nothing is ever held.
* A due row of a 整改 item no longer open (answered or closed), or of a returned event that is
  no longer returned (accepted since, replaced or voided), is ``cancelled`` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.config import Settings
from scheduler.core.clerk_notices import KINDS, RECTIFY, RETURNED, number_of
from scheduler.core.compliance import Status
from scheduler.core.reminders import QuietHours
from scheduler.core.rules import RuleBook
from scheduler.reminders.sweep import utc
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, Unit
from scheduler.store.models_rectifications import OPEN, Rectification
from scheduler.store.models_reminders import CANCELLED, PENDING, OutboxEntry
from scheduler.store.models_reviews import RETURNED as RETURNED_REVIEW
from scheduler.store.models_reviews import EventReview
from scheduler.store.reports import Selection, evaluate_selection
from scheduler.store.workdays import load_workdays

_DONE = frozenset({Status.MET, Status.MET_LATE, Status.EXEMPT})


@dataclass(frozen=True)
class Settled:
    """How many due rows were cancelled (obligation met) and held (quiet hours)."""

    cancelled: int = 0
    held: int = 0
    released_at: datetime | None = None


def quiet_hours(settings: Settings) -> QuietHours:
    """The configured quiet hours."""
    return QuietHours(settings.reminders.quiet_from, settings.reminders.quiet_to)


def settle(session: Session, book: RuleBook, settings: Settings, now: datetime) -> Settled:
    """Cancel the due rows whose obligation is met at ``now``; hold the rest in quiet hours."""
    moment = utc(now)
    due = _due(session, moment)
    if not due:
        return Settled()
    owed = [row for row in due if row.rule_id not in KINDS]
    met = _met(session, book, settings, now, owed) if owed else []
    met += _settled_notices(session, [row for row in due if row.rule_id in KINDS])
    if met:
        _set(session, met, {"status": CANCELLED, "last_error": None})
    left = [row for row in due if row.id not in set(met)]
    if not settings.reminders.quiet_hours:
        return Settled(len(met))
    local = now.astimezone(settings.zone)
    release = quiet_hours(settings).release(local, load_workdays(session, settings))
    if release == local:
        return Settled(len(met))
    held = [row.id for row in left if _keeps_quiet(book, row.rule_id)]
    until = utc(release)
    if held:
        _set(session, held, {"next_attempt_at": until, "held_until": until})
    return Settled(len(met), len(held), until)


def _due(session: Session, moment: datetime) -> list[Any]:
    e = OutboxEntry
    return list(
        session.execute(
            select(e.id, e.unit_id, e.rule_id, e.period_label, e.period_start, e.period_end)
            .where(e.status == PENDING, e.next_attempt_at <= moment)
            .where((e.claimed_until.is_(None)) | (e.claimed_until < moment))
        )
    )


def _met(
    session: Session, book: RuleBook, settings: Settings, now: datetime, due: Sequence[Any]
) -> list[int]:
    """Ids of the ``due`` rows whose obligation is met, met late or exempt at ``now``."""
    today = now.astimezone(settings.zone).date()
    first = min(row.period_start for row in due)
    last = max(row.period_end for row in due)
    unit_ids = {row.unit_id for row in due}
    codes = dict(session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids))).all())
    unit = codes[next(iter(unit_ids))] if len(unit_ids) == 1 else None
    _, _, obligations = evaluate_selection(session, book, Selection(today, first, last, unit))
    done = {(o.unit_id, o.rule_id, o.period.label) for o in obligations if o.status in _DONE}
    return [row.id for row in due if (row.unit_id, row.rule_id, row.period_label) in done]


def _settled_notices(session: Session, rows: Sequence[Any]) -> list[int]:
    """Ids of the notice rows whose item is no longer open or event no longer returned."""
    wanted = {
        kind: {number_of(r.period_label) for r in rows if r.rule_id == kind} for kind in KINDS
    }
    still = {
        RECTIFY: set(
            session.scalars(
                select(Rectification.id).where(
                    Rectification.id.in_(sorted(i for i in wanted[RECTIFY] if i is not None)),
                    Rectification.status == OPEN,
                )
            )
        ),
        RETURNED: set(
            session.scalars(
                select(EventReview.event_id)
                .join(Event, Event.id == EventReview.event_id)
                .where(
                    EventReview.event_id.in_(sorted(i for i in wanted[RETURNED] if i is not None)),
                    EventReview.status == RETURNED_REVIEW,
                    CURRENT,
                )
            )
        ),
    }
    return [r.id for r in rows if number_of(r.period_label) not in still[r.rule_id]]


def _keeps_quiet(book: RuleBook, rule_id: str) -> bool:
    return not book.has_rule(rule_id) or book.rule(rule_id).quiet_hours


def _set(session: Session, ids: Sequence[int], values: dict[str, Any]) -> None:
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(list(ids)), OutboxEntry.status == PENDING)
        .values(values)
        .execution_options(synchronize_session=False)
    )
