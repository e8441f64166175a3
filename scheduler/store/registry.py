"""Recording the organisation and its evidence: imports, single events, voids, waivers.

Each function works inside the caller's transaction and raises `InputError` before writing
anything when the input is bad, so an import is all-or-nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from scheduler.core.periods import period_of_label
from scheduler.core.problems import single
from scheduler.core.records import (
    EVENT_COLUMNS,
    EventRow,
    Table,
    UnitSpan,
    parse_events,
    parse_people,
    parse_units,
)
from scheduler.core.rules import Rule, RuleBook
from scheduler.store.facts import CURRENT
from scheduler.store.models import (
    Event,
    EventAttendance,
    EventKind,
    Person,
    RoleAssignment,
    Unit,
    Waiver,
)


@dataclass(frozen=True)
class RowOutcome:
    """What an import does with one row: ``created``, ``updated`` or ``unchanged``."""

    row: int
    subject: str
    outcome: str


@dataclass(frozen=True)
class ImportSummary:
    """What an import changed, in total and row by row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: tuple[int, ...] = ()
    rows: tuple[RowOutcome, ...] = ()

    @classmethod
    def of(cls, outcomes: Sequence[RowOutcome], ids: tuple[int, ...] = ()) -> ImportSummary:
        counts = Counter(outcome.outcome for outcome in outcomes)
        total = (counts["created"], counts["updated"], counts["unchanged"])
        return cls(*total, ids=ids, rows=tuple(outcomes))

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


# ----------------------------------------------------------------------------------------------
# Units and people


def import_units(session: Session, book: RuleBook, table: Table) -> ImportSummary:
    """Create or update units by code; parents may come from the file or the database."""
    parent = aliased(Unit)
    existing_parents = dict(
        session.execute(select(Unit.code, parent.code).outerjoin(parent, Unit.parent)).all()
    )
    rows = parse_units(table, book.unit_kinds, existing_parents)
    units = {unit.code: unit for unit in session.scalars(select(Unit))}
    outcomes = []
    for row in rows:
        unit = units.get(row.code)
        created = unit is None
        if unit is None:
            unit = units[row.code] = Unit(code=row.code, attributes={})
            session.add(unit)
        fields = {
            "name": row.name,
            "kind": row.kind,
            "active_from": row.active_from,
            "active_to": row.active_to,
            "attributes": {**unit.attributes, **row.attributes},
        }
        same = not created and _unchanged(unit, fields, row.parent)
        outcome = "created" if created else "unchanged" if same else "updated"
        outcomes.append(RowOutcome(row.row, f"{row.code} {row.name}", outcome))
        if not same:
            for key, value in fields.items():
                setattr(unit, key, value)
    session.flush()
    for row in rows:
        units[row.code].parent_id = units[row.parent].id if row.parent else None
    return ImportSummary.of(outcomes)


def _unchanged(unit: Unit, fields: Mapping[str, object], parent: str | None) -> bool:
    same_parent = (unit.parent.code if unit.parent else None) == parent
    return same_parent and all(getattr(unit, key) == value for key, value in fields.items())


def import_people(session: Session, book: RuleBook, table: Table) -> ImportSummary:
    """Create people (matched by e-mail, else by name and phone) and their role assignments."""
    units = {code: unit_id for unit_id, code in session.execute(select(Unit.id, Unit.code))}
    rows = parse_people(table, book.roles, units)
    people = list(session.scalars(select(Person)))
    by_email = {person.email: person for person in people if person.email}
    by_name = {(person.name, person.phone): person for person in people}
    outcomes = []
    for row in rows:
        person = by_email.get(row.email) if row.email else by_name.get((row.name, row.phone))
        if person is None:
            person = Person(name=row.name, email=row.email, phone=row.phone)
            session.add(person)
            by_name[(row.name, row.phone)] = person
            if row.email:
                by_email[row.email] = person
        else:
            person.name, person.phone = row.name, row.phone or person.phone
        session.flush()
        outcome = _assign(
            session, person.id, units[row.unit], row.role, row.valid_from, row.valid_to
        )
        outcomes.append(RowOutcome(row.row, f"{row.name} {row.role} @ {row.unit}", outcome))
    return ImportSummary.of(outcomes)


def _assign(
    session: Session,
    person_id: int,
    unit_id: int,
    role: str,
    valid_from: date | None,
    valid_to: date | None,
) -> str:
    assignment = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.person_id == person_id,
            RoleAssignment.unit_id == unit_id,
            RoleAssignment.role == role,
            RoleAssignment.valid_from == valid_from,
        )
    )
    if assignment is None:
        session.add(
            RoleAssignment(
                person_id=person_id,
                unit_id=unit_id,
                role=role,
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )
        return "created"
    if assignment.valid_to == valid_to:
        return "unchanged"
    assignment.valid_to = valid_to
    return "updated"


# ----------------------------------------------------------------------------------------------
# Events


def import_events(
    session: Session, book: RuleBook, table: Table, recorded_by: str, now: datetime
) -> ImportSummary:
    """Record events; a row whose (unit, ref) exists replaces that event, keeping history."""
    units = {
        code: (unit_id, UnitSpan(start, end))
        for unit_id, code, start, end in session.execute(
            select(Unit.id, Unit.code, Unit.active_from, Unit.active_to)
        )
    }
    rows = parse_events(
        table, book.event_kinds, book.roles, {code: span for code, (_, span) in units.items()}
    )
    unit_ids = {code: unit_id for code, (unit_id, _) in units.items()}
    current = _current_by_ref(session, [row for row in rows if row.ref], unit_ids)
    outcomes = []
    recorded: list[tuple[Event | None, Event]] = []  # (replaced version, current version)
    for row in rows:
        subject = f"{row.unit} {row.day.isoformat()} {row.title}".rstrip()
        old = current.get((unit_ids[row.unit], row.ref)) if row.ref else None
        if old is not None and _same_event(old, row):
            outcomes.append(RowOutcome(row.row, subject, "unchanged"))
            recorded.append((None, old))
            continue
        new = _new_event(unit_ids[row.unit], row, table.filename, recorded_by, now)
        session.add(new)
        recorded.append((old, new))
        outcomes.append(RowOutcome(row.row, subject, "created" if old is None else "updated"))
    session.flush()
    for old, new in recorded:
        if old is not None:
            old.superseded_by = new.id
    return ImportSummary.of(outcomes, tuple(new.id for _, new in recorded))


def add_event(
    session: Session, book: RuleBook, cells: dict[str, str], recorded_by: str, now: datetime
) -> int:
    """Record one event given as cells of an events row; return its id."""
    table = Table(
        "huiqi events add",
        EVENT_COLUMNS,
        ((1, {column: cells.get(column, "") for column in EVENT_COLUMNS}),),
    )
    return import_events(session, book, table, recorded_by, now).ids[0]


def void_event(session: Session, event_id: int, reason: str, by: str, now: datetime) -> None:
    """Void the current event ``event_id``; it stays in the history."""
    event = session.get(Event, event_id)
    if event is None:
        raise single(f"no event with id {event_id}", "events void")
    if event.superseded_by is not None:
        raise single(f"event {event_id} was replaced by event {event.superseded_by}", "events void")
    if event.voided_at is not None:
        raise single(f"event {event_id} is already void", "events void")
    if not reason.strip():
        raise single("a reason is required", "events void", field="reason")
    event.voided_at, event.voided_by, event.void_reason = now, by, reason


def _current_by_ref(
    session: Session, rows: Sequence[EventRow], unit_ids: dict[str, int]
) -> dict[tuple[int, str | None], Event]:
    refs = sorted({row.ref for row in rows if row.ref})
    if not refs:
        return {}
    wanted = {(unit_ids[row.unit], row.ref) for row in rows}
    events = session.scalars(select(Event).where(CURRENT, Event.ref.in_(refs)))
    return {(e.unit_id, e.ref): e for e in events if (e.unit_id, e.ref) in wanted}


def _same_event(event: Event, row: EventRow) -> bool:
    amount = None if event.amount is None else Decimal(event.amount)
    return (
        event.date == row.day
        and event.time == row.time
        and event.title == row.title
        and amount == row.amount
        and {kind.kind for kind in event.kinds} == set(row.kinds)
        and {a.role for a in event.attendance} == set(row.attended)
    )


def _new_event(unit_id: int, row: EventRow, source: str, recorded_by: str, now: datetime) -> Event:
    return Event(
        unit_id=unit_id,
        date=row.day,
        time=row.time,
        title=row.title,
        amount=row.amount,
        ref=row.ref,
        source=source,
        recorded_by=recorded_by,
        recorded_at=now,
        kinds=[EventKind(kind=kind) for kind in row.kinds],
        attendance=[EventAttendance(role=role) for role in row.attended],
    )


# ----------------------------------------------------------------------------------------------
# Waivers


def waive(
    session: Session,
    book: RuleBook,
    unit_code: str,
    rule_id: str,
    label: str,
    reason: str,
    by: str,
    now: datetime,
) -> None:
    """Exempt one obligation, naming why and who approved it."""
    where = "waive"
    if not book.has_rule(rule_id):
        raise single(f"unknown rule {rule_id!r}", where, field="rule")
    rule = book.rule(rule_id)
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise single(f"unknown unit {unit_code!r}", where, field="unit")
    if unit.kind not in rule.applies_to:
        raise single(f"rule {rule_id} does not apply to a {unit.kind}", where, field="unit")
    if not reason.strip() or not by.strip():
        raise single("a reason and the approver (--by) are required", where, field="reason")
    problem = _period_problem(session, rule, unit, label)
    if problem:
        raise single(problem, where, field="period")
    exists = session.scalar(
        select(Waiver.id).where(
            Waiver.unit_id == unit.id, Waiver.rule_id == rule_id, Waiver.period_label == label
        )
    )
    if exists:
        raise single(f"{unit_code} {rule_id} {label} is already waived", where, field="period")
    session.add(
        Waiver(
            unit_id=unit.id,
            rule_id=rule_id,
            period_label=label,
            reason=reason,
            approved_by=by,
            created_at=now,
        )
    )


def _period_problem(session: Session, rule: Rule, unit: Unit, label: str) -> str | None:
    """Why ``label`` is not a period of ``rule`` at ``unit``, or None when it is."""
    try:
        start, end = period_of_label(label)
    except ValueError as error:
        return str(error)
    not_a_period = f"rule {rule.id} has no period {label!r} at unit {unit.code}"
    if rule.is_attend:
        kind = rule.requirement.kind
        held = session.scalar(
            select(Event.id)
            .join(EventKind)
            .where(
                CURRENT,
                Event.unit_id == unit.id,
                Event.date == start,
                EventKind.kind == kind,
            )
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
