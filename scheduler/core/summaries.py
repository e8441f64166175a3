"""Views over obligations: the compliance matrix and on-time rates. Pure.

The annual scorecard is `scheduler.core.assessment`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from scheduler.core.compliance import Obligation, Status, UnitFacts
from scheduler.core.rules import Rule

SYMBOLS = {
    Status.MET: "✔",
    Status.MET_LATE: "◐",
    Status.OPEN: "○",
    Status.OVERDUE: "!",
    Status.MISSED: "✗",
    Status.EXEMPT: "–",
    Status.UPCOMING: "·",
}
# From most to least alarming: a matrix cell holding several obligations shows the first.
SEVERITY = (
    Status.MISSED,
    Status.OVERDUE,
    Status.MET_LATE,
    Status.OPEN,
    Status.MET,
    Status.EXEMPT,
    Status.UPCOMING,
)


def on_time_rate(obligations: Iterable[Obligation]) -> float | None:
    """Share of the obligations whose due date has passed (or that are met) met on time.

    Exempt, open and upcoming obligations do not count; None when nothing counts yet.
    """
    counted = [o for o in obligations if o.status.due_passed]
    if not counted:
        return None
    return sum(o.status is Status.MET for o in counted) / len(counted)


def worst(statuses: Iterable[Status]) -> Status | None:
    """The most alarming of several statuses."""
    present = set(statuses)
    return next((status for status in SEVERITY if status in present), None)


@dataclass(frozen=True)
class MatrixRow:
    unit: UnitFacts
    cells: tuple[Status | None, ...]
    rate: float | None


@dataclass(frozen=True)
class Matrix:
    """Units × periods of one rule: one status per cell (None: no obligation there)."""

    rule: Rule
    columns: tuple[str, ...]
    rows: tuple[MatrixRow, ...]

    def totals(self) -> dict[Status, int]:
        counts: dict[Status, int] = defaultdict(int)
        for row in self.rows:
            for cell in row.cells:
                if cell is not None:
                    counts[cell] += 1
        return dict(counts)


def build_matrix(
    rule: Rule, units: Sequence[UnitFacts], obligations: Sequence[Obligation]
) -> Matrix:
    """The matrix of ``rule`` over ``units``. Calendar and rolling rules get one column per
    period label; attend rules one column per month (``MM``), showing the worst status."""
    mine = [o for o in obligations if o.rule_id == rule.id]

    def column_of(obligation: Obligation) -> str:
        if rule.is_attend:
            return f"{obligation.period.start.month:02d}"
        return obligation.period.label

    starts: dict[str, date] = {}
    for obligation in mine:
        starts.setdefault(column_of(obligation), obligation.period.start)
    columns = sorted(starts, key=lambda column: (starts[column], column))
    by_unit: dict[int, dict[str, list[Obligation]]] = defaultdict(lambda: defaultdict(list))
    for obligation in mine:
        by_unit[obligation.unit_id][column_of(obligation)].append(obligation)
    rows = []
    for unit in units:
        if unit.kind not in rule.applies_to:
            continue
        cells = by_unit.get(unit.id, {})
        statuses = tuple(worst(o.status for o in cells.get(column, ())) for column in columns)
        rate = on_time_rate(o for group in cells.values() for o in group)
        rows.append(MatrixRow(unit, statuses, rate))
    return Matrix(rule, tuple(columns), tuple(rows))
