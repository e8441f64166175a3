"""The unit tree as plain data. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.core.compliance import UnitFacts


def subtree(units: Sequence[UnitFacts], root: UnitFacts) -> list[UnitFacts]:
    """``root`` and every unit under it, ordered by code."""
    children: dict[int | None, list[UnitFacts]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    found, stack = [], [root]
    while stack:
        unit = stack.pop()
        found.append(unit)
        stack.extend(children.get(unit.id, ()))
    return sorted(found, key=lambda unit: unit.code)
