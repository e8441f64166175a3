"""Reminders that are not about an obligation: open 整改 items before their due date, and
events the level above returned with a comment. Pure: facts in, `Notice`s out.

Semantics:

* An open item has a stage on each of ``days`` before its due date (``N days before``; 0 is
  ``on due``), moved to the previous workday as obligation stages are. On ``day`` it gets its
  most recent stage whose (moved) day is ``day`` or at most ``catch_up`` days earlier, while the
  item is open and ``day`` is not past its due date: an item answered or closed gets nothing more,
  and a sweep that did not run is made up once.
* A returned event gets one notice (stage ``returned``) on the day it was returned, or up to
  ``catch_up`` days later; a later return of the same event version is not sent again.
* Recipients are the unit's clerks: the holders on ``day`` of the unit's clerk roles (the
  caller says which roles those are, per unit), each once.

In the outbox a notice takes the place of an obligation: its rule id is `RECTIFY` or
`RETURNED` (a rule id can hold no ``@``), its period label ``#`` and the item's or event's id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.core.reminders import Holder
from scheduler.core.workdays import Workdays

RECTIFY = "@rectify"
RETURNED = "@returned"
RETURNED_STAGE = "returned"
KINDS = (RECTIFY, RETURNED)


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open 整改 item of a unit, due on ``due``."""

    id: int
    unit_id: int
    due: date


@dataclass(frozen=True, slots=True)
class ReturnedEvent:
    """An event of a unit returned on ``returned_on`` (a local day); ``day`` is the event's."""

    event_id: int
    unit_id: int
    returned_on: date
    day: date


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice to write: ``kind`` (`RECTIFY`, `RETURNED`), the item or event ``label``
    (``#ID``), the stage, the recipient (``person:ID``), the stage's day and the due date (an
    item's; a returned event's own day)."""

    unit_id: int
    kind: str
    label: str
    stage: str
    recipient: str
    person_id: int
    day: date
    due: date

    @property
    def key(self) -> tuple[int, str, str, str, str]:
        return (self.unit_id, self.kind, self.label, self.stage, self.recipient)


def label_of(number: int) -> str:
    """The period label a notice of item or event ``number`` carries."""
    return f"#{number}"


def number_of(label: str) -> int | None:
    """The item or event id of a notice's label (None: not one)."""
    digits = label.removeprefix("#")
    return int(digits) if label.startswith("#") and digits.isdigit() else None


def item_stages(due: date, days: Iterable[int], workdays: Workdays) -> list[tuple[str, date]]:
    """The stages of an item due on ``due``, each with its (moved) day, earliest first."""
    stages = []
    for before in sorted(set(days), reverse=True):
        name = "on due" if before == 0 else f"{before} day{'s' if before > 1 else ''} before"
        stages.append((name, workdays.previous_workday(due - timedelta(days=before))))
    return sorted(stages, key=lambda stage: stage[1])


def due_item_stage(
    item: OpenItem, day: date, days: Iterable[int], workdays: Workdays, catch_up: int
) -> list[tuple[str, date]]:
    """The stage of ``item`` due on ``day``: at most one."""
    if day > item.due:
        return []
    reached = [
        (name, when)
        for name, when in item_stages(item.due, days, workdays)
        if 0 <= (day - when).days <= catch_up
    ]
    return reached[-1:]


def plan_notices(
    items: Iterable[OpenItem],
    returned: Iterable[ReturnedEvent],
    clerk_roles: Mapping[int, Sequence[str]],
    holders: Iterable[Holder],
    day: date,
    workdays: Workdays,
    days: Iterable[int],
    catch_up: int = 0,
) -> list[Notice]:
    """Every notice due on ``day``: items by due date, then returned events; recipients in
    person-id order. ``clerk_roles``: each unit's clerk roles (a unit not in it has none)."""
    held = _holders(holders, day)
    stage_days = tuple(days)

    def clerks(unit_id: int) -> list[int]:
        roles = clerk_roles.get(unit_id, ())
        return sorted({p for role in roles for p in held.get((unit_id, role), ())})

    found = []
    for item in sorted(items, key=lambda i: (i.due, i.id)):
        for stage, when in due_item_stage(item, day, stage_days, workdays, catch_up):
            for person in clerks(item.unit_id):
                found.append(
                    Notice(item.unit_id, RECTIFY, label_of(item.id), stage, f"person:{person}",
                           person, when, item.due)
                )  # fmt: skip
    for event in sorted(returned, key=lambda r: (r.returned_on, r.event_id)):
        if not 0 <= (day - event.returned_on).days <= catch_up:
            continue
        for person in clerks(event.unit_id):
            found.append(
                Notice(event.unit_id, RETURNED, label_of(event.event_id), RETURNED_STAGE,
                       f"person:{person}", person, event.returned_on, event.day)
            )  # fmt: skip
    return found


def _holders(holders: Iterable[Holder], day: date) -> dict[tuple[int, str], set[int]]:
    found: dict[tuple[int, str], set[int]] = defaultdict(set)
    for holder in holders:
        if holder.holds_on(day):
            found[(holder.unit_id, holder.role)].add(holder.person_id)
    return found
