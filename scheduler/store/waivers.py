"""Waivers: requested by a clerk, approved or refused a level above the unit; or granted
directly by an admin.

Who may do what (`scheduler.core.access`): a request comes from somebody who may change the
unit (a clerk of its subtree, an admin); a decision from an admin or a clerk whose subtree holds
the unit's parent (`can_approve`), so a township cannot exempt itself. Nobody decides her own
request. The command line is the operator's: an `Actor` without a user acts as an admin, one
whose name is a user's login acts with that user's scope. A pending request leaves the
obligation's status as it is; approval writes the `Waiver` that makes it exempt. Each step is
checked before anything is written and goes to the change trail in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.core.access import Principal, Role, can_approve, can_change, lineage
from scheduler.core.periods import BadLabel, period_of_label
from scheduler.core.problems import Message, single
from scheduler.core.rules import Rule, RuleBook
from scheduler.store import obligations, trail
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, EventKind, Unit, Waiver
from scheduler.store.models_accounts import User
from scheduler.store.models_waivers import APPROVED, PENDING, REFUSED, WaiverRequest


@dataclass(frozen=True)
class Actor:
    """Who acts: the name the trail shows and, for a logged-in user or token, the user (None:
    the command line, with an admin's rights)."""

    name: str
    user: Principal | None = None


def command_line_actor(session: Session, name: str) -> Actor:
    """The command line's ``--by NAME``: that user when NAME is a login, else the operator."""
    user = session.scalar(select(User).where(User.username == name, User.active.is_(True)))
    if user is None:
        return Actor(name)
    principal = Principal(user.id, user.username, user.display_name, Role(user.role), user.unit_id)
    return Actor(principal.label, principal)


# ----------------------------------------------------------------------------------------------
# Granting, requesting, deciding


def waive(
    session: Session,
    book: RuleBook,
    unit_code: str,
    rule_id: str,
    label: str,
    reason: str,
    by: str,
    now: datetime,
) -> Waiver:
    """An admin's direct waiver of one obligation, naming why and who approved it."""
    where = "waive"
    unit, _ = _target(session, book, unit_code, rule_id, label, where)
    if not reason.strip() or not by.strip():
        raise single(Message("reason_and_approver"), where, field="reason")
    waiver = Waiver(unit_id=unit.id, rule_id=rule_id, period_label=label, reason=reason,
                    approved_by=by, created_at=now)  # fmt: skip
    session.add(waiver)
    _flush(session, f"{unit_code} {rule_id} {label} is already waived", where)
    after = {"reason": reason}
    trail.record(session, by, "waiver.grant", f"{rule_id} {label}", now, unit.id, None, after)
    obligations.touch(session, book, [unit.id])
    return waiver


def request(
    session: Session,
    book: RuleBook,
    unit_code: str,
    rule_id: str,
    label: str,
    reason: str,
    actor: Actor,
    now: datetime,
) -> WaiverRequest:
    """Ask for a waiver of one obligation at a unit the actor may change; it stays pending."""
    where = "waivers request"
    unit, _ = _target(session, book, unit_code, rule_id, label, where)
    if actor.user is not None and not can_change(actor.user, _lineage(session, unit.id)):
        raise single(Message("unit_outside", code=unit_code), where, field="unit")
    if not reason.strip():
        raise single(Message("reason_required"), where, field="reason")
    already = Message("waiver_requested", unit=unit_code, rule=rule_id, period=label)
    if _pending(session, unit.id, rule_id, label) is not None:
        raise single(already, where, field="period")
    asked = WaiverRequest(
        unit_id=unit.id, rule_id=rule_id, period_label=label, reason=reason.strip(),
        status=PENDING, requested_by=actor.name,
        requested_by_user=actor.user.user_id if actor.user else None, requested_at=now,
    )  # fmt: skip
    session.add(asked)
    _flush(session, already, where)
    subject, after = f"{rule_id} {label}", {"reason": asked.reason}
    trail.record(session, actor.name, "waiver.request", subject, now, unit.id, None, after)
    return asked


def decide(
    session: Session, request_id: int, approve: bool, comment: str, actor: Actor, now: datetime,
    book: RuleBook | None = None,
) -> WaiverRequest:  # fmt: skip
    """Approve (the obligation becomes exempt) or refuse a pending request, with a comment
    (required to refuse). The unit's stored obligations follow (with ``book``; without it they
    are marked for the next refresh)."""
    where = f"waivers {'approve' if approve else 'refuse'}"
    asked = session.get(WaiverRequest, request_id)
    if asked is None:
        raise single(Message("no_waiver_request", id=request_id), where, field="ID")
    problem = decision_problem(session, asked, actor)
    if problem:
        raise single(problem, where, field="ID")
    if not approve and not comment.strip():
        raise single(Message("say_why_refused"), where, field="comment")
    asked.status = APPROVED if approve else REFUSED
    asked.decided_by, asked.decided_at, asked.comment = actor.name, now, comment.strip() or None
    asked.decided_by_user = actor.user.user_id if actor.user else None
    if approve:
        session.add(Waiver(unit_id=asked.unit_id, rule_id=asked.rule_id,
                           period_label=asked.period_label, reason=asked.reason,
                           approved_by=actor.name, created_at=now))  # fmt: skip
        _flush(session, f"{asked.rule_id} {asked.period_label} is waived already", where)
    action = "waiver.approve" if approve else "waiver.refuse"
    subject = f"{asked.rule_id} {asked.period_label}"
    after = {"reason": asked.reason, "requested_by": asked.requested_by, "comment": comment}
    trail.record(session, actor.name, action, subject, now, asked.unit_id, None, after)
    if approve:
        obligations.touch(session, book, [asked.unit_id])
    return asked


def decision_problem(
    session: Session,
    asked: WaiverRequest,
    actor: Actor,
    parents: Mapping[int, int | None] | None = None,
) -> Message | None:
    """Why ``actor`` may not decide ``asked`` now, or None when she may (``parents``: every
    unit's parent, when the caller has them)."""
    if asked.status != PENDING:
        return Message(f"waiver_is_{asked.status}", id=asked.id)
    if _own(asked, actor):
        return Message("own_waiver_request")
    chain = lineage(asked.unit_id, parents) if parents is not None else None
    chain = chain or _lineage(session, asked.unit_id)
    if actor.user is not None and not can_approve(actor.user, chain):
        code = session.get_one(Unit, asked.unit_id).code
        return Message("waiver_decided_above", code=code)
    if _waived(session, asked.unit_id, asked.rule_id, asked.period_label):
        return Message("waived_already", rule=asked.rule_id, period=asked.period_label)
    return None


def _flush(session: Session, message: str | Message, where: str) -> None:
    """Write now; a row another transaction saved meanwhile trips a unique index: one line."""
    try:
        session.flush()
    except IntegrityError:
        raise single(message, where, field="period") from None


def _own(asked: WaiverRequest, actor: Actor) -> bool:
    if actor.user is not None and asked.requested_by_user is not None:
        return actor.user.user_id == asked.requested_by_user
    return actor.name.strip().casefold() == asked.requested_by.strip().casefold()


# ----------------------------------------------------------------------------------------------
# Reading


def requests(
    session: Session,
    unit_ids: Collection[int] | None,
    status: str | None = None,
    limit: int = 500,
) -> list[tuple[WaiverRequest, Unit]]:
    """Requests at ``unit_ids`` (None: everywhere), pending ones first, newest first."""
    statement = (
        select(WaiverRequest, Unit)
        .join(Unit, Unit.id == WaiverRequest.unit_id)
        .order_by((WaiverRequest.status != PENDING), WaiverRequest.requested_at.desc())
        .limit(limit)
    )
    if unit_ids is not None:
        statement = statement.where(WaiverRequest.unit_id.in_(sorted(unit_ids)))
    if status:
        statement = statement.where(WaiverRequest.status == status)
    return [(asked, unit) for asked, unit in session.execute(statement)]


def pending_at(session: Session, unit_id: int) -> Mapping[tuple[str, str], WaiverRequest]:
    """The unit's pending requests by (rule id, period label)."""
    statement = select(WaiverRequest).where(
        WaiverRequest.unit_id == unit_id, WaiverRequest.status == PENDING
    )
    return {(r.rule_id, r.period_label): r for r in session.scalars(statement)}


# ----------------------------------------------------------------------------------------------
# Checks


def _target(
    session: Session, book: RuleBook, unit_code: str, rule_id: str, label: str, where: str
) -> tuple[Unit, Rule]:
    """The unit and rule of an obligation that exists and is not waived yet."""
    if not book.has_rule(rule_id):
        raise single(Message("unknown_rule", value=rule_id), where, field="rule")
    rule = book.rule(rule_id)
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise single(
            Message("unknown_code", what=Message("unit"), value=unit_code), where, field="unit"
        )
    if unit.kind not in rule.applies_to:
        raise single(
            Message("rule_not_for_kind", rule=rule_id, kind=unit.kind), where, field="unit"
        )
    problem = _period_problem(session, rule, unit, label)
    if problem:
        raise single(problem, where, field="period")
    if _waived(session, unit.id, rule_id, label):
        raise single(
            Message("already_waived", unit=unit_code, rule=rule_id, period=label),
            where,
            field="period",
        )
    return unit, rule


def _waived(session: Session, unit_id: int, rule_id: str, label: str) -> bool:
    found = session.scalar(
        select(Waiver.id).where(
            Waiver.unit_id == unit_id, Waiver.rule_id == rule_id, Waiver.period_label == label
        )
    )
    return found is not None


def _pending(session: Session, unit_id: int, rule_id: str, label: str) -> int | None:
    return session.scalar(
        select(WaiverRequest.id).where(
            WaiverRequest.unit_id == unit_id,
            WaiverRequest.rule_id == rule_id,
            WaiverRequest.period_label == label,
            WaiverRequest.status == PENDING,
        )
    )


def _lineage(session: Session, unit_id: int) -> tuple[int, ...]:
    return lineage(unit_id, dict(session.execute(select(Unit.id, Unit.parent_id)).all()))


def _period_problem(session: Session, rule: Rule, unit: Unit, label: str) -> Message | None:
    """Why ``label`` is not a period of ``rule`` at ``unit``, or None when it is."""
    try:
        start, end = period_of_label(label)
    except BadLabel as error:
        return Message("bad_period", value=error.label, error=error.reason)
    not_a_period = Message("no_such_period", rule=rule.id, value=label, code=unit.code)
    if rule.is_attend:
        kind = rule.requirement.kind
        held = session.scalar(
            select(Event.id)
            .join(EventKind)
            .where(CURRENT, Event.unit_id == unit.id, Event.date == start, EventKind.kind == kind)
        )
        is_day = start == end and start >= rule.effective_from
        return None if held is not None and is_day else not_a_period
    if rule.rolling:
        fits = end == rule.rolling.after(start) and start >= rule.effective_from
        return None if fits else not_a_period
    return None if _calendar_period_exists(rule, unit, label, start) else not_a_period


def _calendar_period_exists(rule: Rule, unit: Unit, label: str, start: date) -> bool:
    assert rule.cadence is not None
    if unit.active_from and start < unit.active_from:
        return False
    for period in rule.cadence.periods_from(rule.effective_from, rule.effective_from.year):
        if period.start > start:
            return False
        if period.label == label:
            ends_in_life = unit.active_to is None or period.end <= unit.active_to
            return ends_in_life and (rule.effective_to is None or period.end <= rule.effective_to)
    return False
