"""Who a meeting is for: the rules it serves, and its attendees.

Attendees default to the holders, on the meeting's day, of the roles the meeting's rules name
(responsible, then notify) at its unit; a list of roles and e-mail addresses replaces that. A role
holder without an e-mail address cannot be invited and is reported as skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.calendar.ics import Attendee
from scheduler.core.problems import InputError, Message, Problem
from scheduler.core.rules import Rule, RuleBook
from scheduler.store.models import Person, RoleAssignment, Unit
from scheduler.store.models_calendar import MeetingAttendee

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


# ----------------------------------------------------------------------------------------------
# Rules


def rules_served(book: RuleBook, kinds: Sequence[str], unit_kind: str, day: date) -> list[Rule]:
    """The rules in force on ``day`` at a ``unit_kind`` unit that an event of ``kinds`` serves."""
    return [
        rule
        for rule in book.rules
        if rule.requirement.kind in kinds
        and unit_kind in rule.applies_to
        and rule.effective_from <= day
        and (rule.effective_to is None or day <= rule.effective_to)
    ]


def default_roles(rules: Sequence[Rule]) -> tuple[str, ...]:
    """The responsible roles of ``rules``, then their notify roles, each once."""
    ordered = [role for rule in rules for role in rule.responsible]
    ordered += [role for rule in rules for role in rule.notify]
    return tuple(dict.fromkeys(ordered))


def attendees_for(
    session: Session,
    book: RuleBook,
    unit: Unit,
    kinds: Sequence[str],
    day: date,
    asked: Sequence[str] | None,
    where: str,
) -> tuple[list[MeetingAttendee], tuple[str, ...]]:
    """The attendees ``asked`` for (roles or addresses; None: the default roles), in order, and
    the role holders skipped for want of an e-mail address."""
    items = asked or default_roles(rules_served(book, kinds, unit.kind, day))
    found: dict[str, MeetingAttendee] = {}
    skipped: list[str] = []
    for item in items:
        if "@" in item:
            _add(found, _by_address(session, item, where))
            continue
        if item not in book.roles:
            known = sorted(book.roles)
            message = Message("unknown_choice", what=Message("role"), value=item, known=known)
            raise _problem(where, "--attendees", message)
        holders = _holders(session, unit.id, item, day)
        if asked is not None and not holders:
            raise _problem(
                where, "--attendees", Message("nobody_holds", role=item, unit=unit.code, day=day)
            )
        for person in holders:
            if person.email:
                _add(found, _holder(person, item))
            else:
                skipped.append(f"{person.name} ({item})")
    for position, attendee in enumerate(found.values()):
        attendee.position = position
    return list(found.values()), tuple(skipped)


def _holder(person: Person, role: str) -> MeetingAttendee:
    assert person.email
    return MeetingAttendee(email=person.email, name=person.name, role=role, person_id=person.id)


def _add(found: dict[str, MeetingAttendee], attendee: MeetingAttendee) -> None:
    found.setdefault(attendee.email.lower(), attendee)


def _by_address(session: Session, address: str, where: str) -> MeetingAttendee:
    if not _EMAIL.match(address):
        raise _problem(where, "--attendees", Message("bad_email", value=address))
    person = session.scalar(select(Person).where(Person.email == address))
    if person is None:
        return MeetingAttendee(email=address, name=address.split("@")[0])
    return MeetingAttendee(email=address, name=person.name, person_id=person.id)


def _holders(session: Session, unit_id: int, role: str, day: date) -> list[Person]:
    query = (
        select(Person)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(
            RoleAssignment.unit_id == unit_id,
            RoleAssignment.role == role,
            (RoleAssignment.valid_from.is_(None)) | (RoleAssignment.valid_from <= day),
            (RoleAssignment.valid_to.is_(None)) | (RoleAssignment.valid_to >= day),
        )
        .order_by(Person.name, Person.id)
    )
    return list(session.scalars(query).unique())


def attendees_of(people: Sequence[MeetingAttendee]) -> tuple[Attendee, ...]:
    """Attendee rows as calendars see them (every invitee is a required participant)."""
    return tuple(Attendee(person.email, person.name) for person in people)


def _problem(where: str, field_name: str, message: str | Message) -> InputError:
    return InputError([Problem(where, None, field_name, message)])
