"""Who may read and change what. Pure: no database, no clock.

Roles: ``admin`` reads and changes everything; a ``clerk`` reads and changes the unit subtree
rooted at their unit (record, plan, import, request waivers); a ``viewer`` reads that subtree
only. A waiver is decided a level above the unit: by an admin, or by a clerk whose subtree holds
the unit's parent, so a township cannot exempt itself. A unit is given by its lineage: its id
and the ids of every unit above it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLERK = "clerk"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Principal:
    """The user a request acts as."""

    user_id: int
    username: str
    display_name: str
    role: Role
    unit_id: int | None

    @property
    def label(self) -> str:
        """How the change trail and evidence name this user."""
        return self.display_name or self.username


def lineage(unit_id: int, parents: Mapping[int, int | None]) -> tuple[int, ...]:
    """The unit and every unit above it, nearest first (stops on a cycle)."""
    chain: list[int] = []
    current: int | None = unit_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return tuple(chain)


def can_read(user: Principal, unit_lineage: Collection[int]) -> bool:
    """An admin reads every unit; others the units at or below their own."""
    return user.role is Role.ADMIN or (user.unit_id is not None and user.unit_id in unit_lineage)


def can_change(user: Principal, unit_lineage: Collection[int]) -> bool:
    """An admin changes every unit; a clerk the units at or below their own; a viewer none."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.CLERK and can_read(user, unit_lineage)


def can_approve(user: Principal, unit_lineage: tuple[int, ...]) -> bool:
    """An admin approves every unit's waivers; a clerk those of units whose parent lies in her
    subtree (a county clerk a township's, a township clerk her villages', not her own)."""
    if user.role is Role.ADMIN:
        return True
    above = unit_lineage[1:]
    return user.role is Role.CLERK and user.unit_id is not None and user.unit_id in above


def common_ancestor(unit_ids: Collection[int], parents: Mapping[int, int | None]) -> int | None:
    """The lowest unit at or above every one of ``unit_ids`` (None: none given, or none shared)."""
    shared: tuple[int, ...] | None = None
    for unit_id in unit_ids:
        chain = lineage(unit_id, parents)
        shared = chain if shared is None else tuple(u for u in shared if u in chain)
    return shared[0] if shared else None


def readable_units(user: Principal, parents: Mapping[int, int | None]) -> Iterator[int]:
    """The ids of the units ``user`` may read, out of ``parents`` (every unit's parent)."""
    return (unit for unit in parents if can_read(user, lineage(unit, parents)))
