"""The dispatcher: send the outbox as one digest per recipient and day, and record the outcome.

A round claims up to ``reminders.batch_size`` digests (all pending rows of a recipient and day
whose retry time has come), in a short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL, then a conditional UPDATE that sets a lease (``claimed_until``), so two dispatchers
never take the same rows. It then sends them (one SMTP connection per round), and records each
outcome in a second transaction:

* accepted → ``sent`` with the digest's Message-ID (derived from its rows);
* a transient failure → still ``pending``, retried after ``retry_seconds`` × 2^(attempts-1),
  ``failed`` once ``max_attempts`` attempts are spent; a permanent one → ``failed`` at once;
  ``last_error`` keeps the reason;
* a person without a usable mail address, or a chat without a robot → ``undeliverable``.

A crash between sending and recording leaves the rows claimed; when the lease runs out they are
sent again with the same Message-ID, so a reader sees at most one repeat and nothing is lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from scheduler.config import Settings
from scheduler.core.clerk_notices import KINDS, RECTIFY, RETURNED, number_of
from scheduler.core.rules import RuleBook
from scheduler.reminders.digest import Digest, Line, chat_of, mail_of
from scheduler.reminders.record_links import record_urls
from scheduler.reminders.settle import settle
from scheduler.reminders.sweep import utc
from scheduler.store import links
from scheduler.store.database import transaction
from scheduler.store.models import Event, Person, Unit
from scheduler.store.models_rectifications import Rectification
from scheduler.store.models_reminders import FAILED, PENDING, SENT, UNDELIVERABLE, OutboxEntry
from scheduler.store.models_reviews import EventReview
from scheduler.transports.base import Transport, TransportError
from scheduler.transports.chats import ChatMessage
from scheduler.transports.delivery import Message
from scheduler.transports.mail import is_address


@dataclass(frozen=True)
class Outcome:
    """What became of one digest: ``error`` None when delivered."""

    digest: Digest
    attempts: int
    error: TransportError | None = None
    undeliverable: bool = False


@dataclass
class DispatchResult:
    """Digests sent, to be retried, failed and undeliverable."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    undeliverable: int = 0
    errors: list[str] = field(default_factory=list)
    cancelled: int = 0  # rows dropped: their obligation was met before they went out
    held: int = 0  # rows held for quiet hours

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.undeliverable} undeliverable, {self.held} held for quiet hours, "
            f"{self.cancelled} cancelled (met)"
        )


@dataclass(frozen=True)
class _Claimed:
    digest: Digest
    attempts: int
    person_id: int | None
    chat_unit_id: int | None


def dispatch(
    engine: Engine,
    book: RuleBook,
    settings: Settings,
    transport: Transport[Message],
    now: datetime,
) -> DispatchResult:
    """Send every digest due at ``now``, round after round, and record each outcome.

    First `settle`: rows whose obligation is met are cancelled, rows in quiet hours held."""
    token = uuid.uuid4().hex
    total = DispatchResult()
    with transaction(engine) as session:
        settled = settle(session, book, settings, now)
    total.cancelled, total.held = settled.cancelled, settled.held
    while True:
        with transaction(engine) as session:
            claimed = claim(session, now, token, settings)
        if not claimed:
            return total
        with transaction(engine) as session:
            outcomes = deliver(session, claimed, book, settings, transport, now)
        with transaction(engine) as session:
            record(session, outcomes, now, settings, total)


def claim(session: Session, now: datetime, token: str, settings: Settings) -> list[_Claimed]:
    """Lease up to ``batch_size`` whole digests that are due at ``now``."""
    moment = utc(now)
    ids = _due_groups(session, moment, settings.reminders.batch_size)
    if not ids:
        return []
    lease = moment + timedelta(seconds=settings.reminders.lease_seconds)
    session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(ids), OutboxEntry.status == PENDING, _free(moment))
        .values(claimed_until=lease, claimed_by=token)
        .execution_options(synchronize_session=False)
    )
    return _load_claimed(session, token, ids)


def _due_groups(session: Session, moment: datetime, batch: int) -> list[int]:
    """Ids of the rows of the first ``batch`` due digests, locked (SKIP LOCKED on PostgreSQL).

    Reads at most ``_ROWS_PER_DIGEST`` rows a digest; a last group the limit may have cut short
    is left for the next round, unless it is the only one.
    """
    limit = batch * _ROWS_PER_DIGEST
    due = session.execute(
        select(OutboxEntry.id, OutboxEntry.recipient, OutboxEntry.day)
        .where(OutboxEntry.status == PENDING, OutboxEntry.next_attempt_at <= moment, _free(moment))
        .order_by(OutboxEntry.recipient, OutboxEntry.day, OutboxEntry.id)
        .limit(limit + 1)
        .with_for_update(skip_locked=True)
    ).all()
    groups: dict[tuple[str, date], list[int]] = {}
    for row_id, recipient, day in due[:limit]:
        groups.setdefault((recipient, day), []).append(row_id)
    chosen = list(groups.values())
    if len(due) > limit and len(chosen) > 1:
        chosen.pop()
    return [row_id for members in chosen[:batch] for row_id in members]


_ROWS_PER_DIGEST = 50


def _free(moment: datetime) -> Any:
    return or_(OutboxEntry.claimed_until.is_(None), OutboxEntry.claimed_until < moment)


def _load_claimed(session: Session, token: str, ids: Sequence[int]) -> list[_Claimed]:
    e = OutboxEntry
    rows = session.execute(
        select(
            e.recipient, e.day, e.attempts, e.person_id, e.chat_unit_id,
            e.id, Unit.code, Unit.name, e.rule_id, e.period_label, e.period_start, e.period_end,
            e.stage, e.due, e.required, e.actual,
        )
        .join(Unit, Unit.id == e.unit_id)
        .where(e.id.in_(ids), e.claimed_by == token)
        .order_by(e.recipient, e.day, e.id)
    ).all()  # fmt: skip
    grouped: dict[tuple[str, date], list[Any]] = {}
    for row in rows:
        grouped.setdefault((row[0], row[1]), []).append(row)
    return [_claimed(recipient, day, members) for (recipient, day), members in grouped.items()]


def _claimed(recipient: str, day: date, members: list[Any]) -> _Claimed:
    lines = tuple(Line(*row[5:]) for row in members)
    attempts = max(row[2] for row in members)
    first = members[0]
    return _Claimed(Digest(recipient, day, lines), attempts, first[3], first[4])


def deliver(
    session: Session,
    claimed: Sequence[_Claimed],
    book: RuleBook,
    settings: Settings,
    transport: Transport[Message],
    now: datetime,
) -> list[Outcome]:
    """Compose each claimed digest for its channel and send them all in one batch; with
    ``reminders.links`` each carries a record link per unit, issued at ``now``."""
    people = _people(session, [c.person_id for c in claimed if c.person_id is not None])
    key = links.secret_key() if settings.reminders.links else None
    outcomes: list[Outcome] = []
    messages: list[Message] = []
    waiting = []
    for item in _with_notes(session, claimed):
        urls = {}
        if key is not None:
            urls = record_urls(session, item.digest, item.person_id, book, settings, key, now)
        message = _compose(session, item, people, book, settings, urls)
        if isinstance(message, TransportError):
            outcomes.append(Outcome(item.digest, item.attempts, message, True))
            continue
        messages.append(message)
        waiting.append(item)
    results = transport.send_batch(messages) if messages else []
    outcomes.extend(
        Outcome(item.digest, item.attempts, error)
        for item, error in zip(waiting, results, strict=True)
    )
    return outcomes


def _with_notes(session: Session, claimed: Sequence[_Claimed]) -> list[_Claimed]:
    """The claimed digests with each notice line's text: a 整改 item's issue, a returned
    event's day, title and comment."""
    wanted = {
        kind: sorted({n for c in claimed for line in c.digest.lines if line.rule_id == kind
                      for n in [number_of(line.period_label)] if n is not None})
        for kind in KINDS
    }  # fmt: skip
    if not wanted[RECTIFY] and not wanted[RETURNED]:
        return list(claimed)
    issues = dict(
        session.execute(
            select(Rectification.id, Rectification.issue).where(
                Rectification.id.in_(wanted[RECTIFY])
            )
        ).all()
    )
    comments = {
        event_id: (f"{day.isoformat()} {title}".strip(), comment or "")
        for event_id, day, title, comment in session.execute(
            select(Event.id, Event.date, Event.title, EventReview.comment)
            .join(EventReview, EventReview.event_id == Event.id)
            .where(Event.id.in_(wanted[RETURNED]))
        )
    }

    def noted(line: Line) -> Line:
        number = number_of(line.period_label) or 0
        if line.rule_id == RECTIFY:
            return replace(line, note=issues.get(number, ""))
        if line.rule_id == RETURNED:
            subject, comment = comments.get(number, ("", ""))
            return replace(line, note=comment, subject=subject)
        return line

    return [
        replace(c, digest=replace(c.digest, lines=tuple(noted(line) for line in c.digest.lines)))
        for c in claimed
    ]


def _compose(
    session: Session,
    item: _Claimed,
    people: dict[int, tuple[str, str | None]],
    book: RuleBook,
    settings: Settings,
    urls: dict[str, str],
) -> Message | TransportError:
    """The digest as a mail or a chat message, or why it cannot be delivered at all."""
    if item.chat_unit_id is not None:
        unit = session.get(Unit, item.chat_unit_id)
        robot = next((c for c in settings.reminders.chats if unit and c.unit == unit.code), None)
        if unit is None or robot is None:
            return TransportError("no group-chat robot configured for this unit", True)
        title, text = chat_of(item.digest, unit.name, book, settings, urls)
        return ChatMessage(robot, title, text)
    name, email = people.get(item.person_id or 0, ("", None))
    if not email or not is_address(email):
        return _no_address(email)
    return mail_of(item.digest, email, name, book, settings, urls)


def _no_address(email: str | None) -> TransportError:
    return TransportError(
        f"no usable mail address ({email!r})" if email else "no mail address", True
    )


def _people(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    if not ids:
        return {}
    rows = session.execute(
        select(Person.id, Person.name, Person.email).where(Person.id.in_(sorted(set(ids))))
    )
    return {person_id: (name, email) for person_id, name, email in rows}


def record(
    session: Session,
    outcomes: Sequence[Outcome],
    now: datetime,
    settings: Settings,
    total: DispatchResult,
) -> None:
    """Write each outcome onto its rows (an executemany per kind) and count it into ``total``."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for outcome in outcomes:
        values = _result(outcome, utc(now), settings, total)
        rows = by_columns.setdefault(tuple(sorted(values)), [])
        rows.extend({"row_id": row_id, **values} for row_id in outcome.digest.ids)
    table = cast(Table, OutboxEntry.__table__)
    for columns, params in by_columns.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({column: bindparam(column) for column in columns})
        )
        session.execute(statement, params)


def _result(
    outcome: Outcome, now: datetime, settings: Settings, total: DispatchResult
) -> dict[str, Any]:
    attempts = outcome.attempts + (0 if outcome.undeliverable else 1)
    done = {"attempts": attempts, "claimed_until": None, "claimed_by": None}
    error = outcome.error
    if error is None:
        total.sent += 1
        message_id = outcome.digest.message_id
        return {**done, "status": SENT, "sent_at": now, "message_id": message_id}
    total.errors.append(f"{outcome.digest.recipient}: {error.reason}")
    if outcome.undeliverable:
        total.undeliverable += 1
        return {**done, "status": UNDELIVERABLE, "last_error": error.reason}
    if error.permanent or attempts >= settings.reminders.max_attempts:
        total.failed += 1
        return {**done, "status": FAILED, "last_error": error.reason}
    total.retrying += 1
    delay = settings.reminders.retry_seconds * 2 ** (attempts - 1)
    retry = now + timedelta(seconds=delay)
    return {**done, "status": PENDING, "last_error": error.reason, "next_attempt_at": retry}
