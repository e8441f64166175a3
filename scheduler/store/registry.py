"""Recording the organisation and its evidence: unit and people imports here; events (imports,
single events, replacements, voids) in `scheduler.store.evidence`, whose services this module
also offers, so that a face records through one module.

Each function works inside the caller's transaction, raises `InputError` before writing
anything when the input is bad, so an import is all-or-nothing, and writes the change trail
in the same transaction: one entry per import with its counts, one per record it created or
changed (`scheduler.store.trail`). ``actor`` names who made the change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from scheduler.core.importtemplates import ExampleUnit
from scheduler.core.problems import InputError, Problem
from scheduler.core.records import (
    ImportSummary,
    PersonRow,
    RowOutcome,
    Table,
    parse_people,
    parse_units,
)
from scheduler.core.rules import RuleBook
from scheduler.core.words import LANGUAGES, words
from scheduler.store import obligations, trail
from scheduler.store.evidence import add_event, import_events, replace_event, void_event
from scheduler.store.models import Person, RoleAssignment, Unit

__all__ = [
    "ImportSummary",
    "RowOutcome",
    "add_event",
    "import_events",
    "import_people",
    "import_units",
    "replace_event",
    "void_event",
]


# ----------------------------------------------------------------------------------------------
# Units and people


def import_units(
    session: Session, book: RuleBook, table: Table, actor: str, now: datetime
) -> ImportSummary:
    """Create or update units by code; parents may come from the file or the database."""
    parent = aliased(Unit)
    existing_parents = dict(
        session.execute(select(Unit.code, parent.code).outerjoin(parent, Unit.parent)).all()
    )
    rows = parse_units(table, book.unit_kinds, existing_parents, unit_kind_names(book))
    units = {unit.code: unit for unit in session.scalars(select(Unit))}
    changed: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = []
    outcomes = []
    for row in rows:
        unit = units.get(row.code)
        old = None if unit is None else _unit_state(unit, existing_parents.get(row.code))
        if unit is None:
            unit = units[row.code] = Unit(code=row.code, attributes={})
            session.add(unit)
        unit.name, unit.kind = row.name, row.kind
        unit.active_from, unit.active_to = row.active_from, row.active_to
        unit.attributes = {**unit.attributes, **row.attributes}
        new = _unit_state(unit, row.parent)
        if new != old:
            changed.append((row.code, old, new))
        outcome = "created" if old is None else "unchanged" if new == old else "updated"
        outcomes.append(RowOutcome(row.row, f"{row.code} {row.name}", outcome))
    session.flush()
    for row in rows:
        units[row.code].parent_id = units[row.parent].id if row.parent else None
    for code, old, new in changed:
        subject = f"{code} {new['name']}"
        trail.record_change(session, actor, now, "unit", units[code].id, subject, old, new)
    summary = ImportSummary.of(outcomes)
    ids = [units[row.code].id for row in rows]
    trail.record_import(session, actor, now, "units", table.filename, summary, ids)
    obligations.touch(session, book, [units[code].id for code, _, _ in changed])
    return summary


def example_units(session: Session) -> list[ExampleUnit]:
    """The units, by code, as an import template's example row may name them."""
    parent = aliased(Unit)
    query = (
        select(Unit.code, Unit.name, Unit.kind, parent.code)
        .outerjoin(parent, Unit.parent)
        .order_by(Unit.code)
    )
    return [ExampleUnit(*row) for row in session.execute(query)]


def unit_kind_names(book: RuleBook) -> dict[str, str]:
    """The names a units file may give a unit kind (乡镇, Township), mapped to the kind."""
    names: dict[str, str] = {}
    for language in LANGUAGES:
        titles = words(language, "demo.kind.")
        names |= {titles[kind]: kind for kind in book.unit_kinds if kind in titles}
    return names


def _unit_state(unit: Unit, parent: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": unit.name, "kind": unit.kind, "parent": parent}
    fields |= {"active_from": unit.active_from, "active_to": unit.active_to}
    return {**fields, **(unit.attributes or {})}


def import_people(
    session: Session,
    book: RuleBook,
    table: Table,
    actor: str,
    now: datetime,
    scope: Collection[int] | None = None,
) -> ImportSummary:
    """Create people (matched by e-mail, else by name and phone) and their role assignments.

    ``scope`` holds the units the importer may change (None: all). A person who holds a role
    outside it is neither renamed nor re-phoned: such a row refuses the whole file."""
    units = {code: unit_id for unit_id, code in session.execute(select(Unit.id, Unit.code))}
    rows = parse_people(table, book.roles, units)
    people = list(session.scalars(select(Person)))
    by_email = {person.email: person for person in people if person.email}
    by_name = {(person.name, person.phone): person for person in people}
    if scope is not None:
        _check_people_scope(session, table, rows, by_email, by_name, scope)
    outcomes = []
    for row in rows:
        found = by_email.get(row.email) if row.email else by_name.get((row.name, row.phone))
        person, changed = _person(session, actor, now, row, units[row.unit], found)
        by_name[(person.name, person.phone)] = person
        if person.email:
            by_email[person.email] = person
        outcome = _assign(session, actor, now, person, units[row.unit], row)
        outcome = "updated" if changed and outcome == "unchanged" else outcome
        outcomes.append(RowOutcome(row.row, f"{row.name} {row.role} @ {row.unit}", outcome))
    summary = ImportSummary.of(outcomes)
    ids = [units[row.unit] for row in rows]
    trail.record_import(session, actor, now, "people", table.filename, summary, ids)
    return summary


def _check_people_scope(
    session: Session, table: Table, rows: Sequence[PersonRow], by_email: dict[str, Person],
    by_name: dict[tuple[str, str | None], Person], scope: Collection[int],
) -> None:  # fmt: skip
    """Refuse rows that would rename or re-phone a person holding a role outside ``scope``."""
    outside = set(
        session.scalars(
            select(RoleAssignment.person_id).where(RoleAssignment.unit_id.not_in(sorted(scope)))
        )
    )
    problems = []
    for row in rows:
        person = by_email.get(row.email) if row.email else by_name.get((row.name, row.phone))
        if person is None or person.id not in outside:
            continue
        field = "name" if row.name != person.name else "phone"
        if field == "name" or (row.phone and row.phone != person.phone):
            message = f"{person.name} holds roles outside your units: ask the county to change it"
            problems.append(Problem(table.filename, row.row, field, message))
    if problems:
        raise InputError(problems)


def _person(
    session: Session, actor: str, now: datetime, row: PersonRow, unit_id: int,
    person: Person | None,
) -> tuple[Person, bool]:  # fmt: skip
    """The row's person, created or with her name and phone updated, and whether either was."""
    old = None if person is None else _person_state(person)
    if person is None:
        person = Person(name=row.name, email=row.email, phone=row.phone)
        session.add(person)
    else:
        person.name, person.phone = row.name, row.phone or person.phone
    new = _person_state(person)
    if new == old:
        return person, False
    session.flush()
    trail.record_change(session, actor, now, "person", unit_id, person.name, old, new)
    return person, True


def _person_state(person: Person) -> dict[str, Any]:
    return {"name": person.name, "email": person.email, "phone": person.phone}


def _assign(
    session: Session, actor: str, now: datetime, person: Person, unit_id: int, row: PersonRow
) -> str:
    """Create or update the row's role assignment: created, updated or unchanged."""
    assignment = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.unit_id == unit_id,
            RoleAssignment.role == row.role,
            RoleAssignment.valid_from == row.valid_from,
        )
    )
    new = {"role": row.role, "from": row.valid_from, "to": row.valid_to}
    if assignment is None:
        session.add(
            RoleAssignment(person_id=person.id, unit_id=unit_id, role=row.role,
                           valid_from=row.valid_from, valid_to=row.valid_to)
        )  # fmt: skip
        trail.record_change(session, actor, now, "role", unit_id, person.name, None, new)
        return "created"
    if assignment.valid_to == row.valid_to:
        return "unchanged"
    old = {**new, "to": assignment.valid_to}
    assignment.valid_to = row.valid_to
    trail.record_change(session, actor, now, "role", unit_id, person.name, old, new)
    return "updated"
