"""What the pages show, built from the engine's results: the dashboard matrix with its
open/close tree, the cells of one obligation, requirement texts and the scorecard chart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.core.compliance import Obligation, Status, UnitFacts
from scheduler.core.rules import AttendRequirement, CountRequirement, Rule, RuleBook
from scheduler.core.summaries import Matrix, build_matrix, on_time_rate
from scheduler.core.words import words
from scheduler.store import obligations as stored_obligations
from scheduler.store import reports, tallies
from scheduler.store.models import Person, Unit
from scheduler.store.reports import Selection


@dataclass(frozen=True)
class DashRow:
    """A unit's line: its depth in the tree, whether it has children and is opened."""

    unit: UnitFacts
    depth: int
    cells: tuple[Status | None, ...]
    rate: float | None
    has_children: bool
    opened: bool


@dataclass(frozen=True)
class DashBlock:
    """One rule's matrix as the dashboard shows it, with totals over every unit in scope."""

    rule: Rule
    columns: tuple[str, ...]
    rows: tuple[DashRow, ...]
    totals: Mapping[Status, int]
    rate: float | None
    hidden: int


def dashboard(
    session: Session,
    book: RuleBook,
    scope: str | None,
    year: int,
    rule_id: str | None,
    opened: str | None,
    as_of: date,
) -> list[DashBlock]:
    """The blocks of the dashboard: the scope's root and its children, and the children of
    the ``opened`` unit (a township opens onto its villages). Read from the stored obligations
    when they are up to date (`stored_dashboard`), else evaluated."""
    selection = reports.year_selection(year, as_of, scope, rule_id)
    if stored_obligations.current(session, book, selection.last):
        return stored_dashboard(session, book, selection, opened)
    return evaluated_dashboard(session, book, selection, opened)


def evaluated_dashboard(
    session: Session, book: RuleBook, selection: Selection, opened: str | None
) -> list[DashBlock]:
    """The dashboard's blocks from the evaluation of every unit of the selection."""
    units, rules, obligations = reports.evaluate_selection(session, book, selection)
    tree = _Tree(units)
    shown = tree.visible(opened)
    by_rule: dict[str, list[Obligation]] = {rule.id: [] for rule in rules}
    for obligation in obligations:
        by_rule[obligation.rule_id].append(obligation)
    blocks = []
    for rule in rules:
        matrix = build_matrix(rule, units, by_rule[rule.id])
        blocks.append(_block(matrix, tree, shown, opened, by_rule[rule.id]))
    return blocks


def _block(
    matrix: Matrix, tree: _Tree, shown: list[UnitFacts], opened: str | None, mine: list[Obligation]
) -> DashBlock:
    """The rows shown: units the rule applies to, and, above units it applies to, a summary
    row (no cells; the on-time rate of everything below) to open them from."""
    by_unit = {row.unit.id: row for row in matrix.rows}
    below = tree.obligations_below(mine)
    empty: tuple[Status | None, ...] = (None,) * len(matrix.columns)
    rows = []
    for unit in shown:
        row = by_unit.get(unit.id)
        if row is None and unit.id not in below:
            continue
        cells, rate = (row.cells, row.rate) if row else (empty, on_time_rate(below[unit.id]))
        rows.append(
            DashRow(unit, tree.depth[unit.id], cells, rate, tree.opens(unit), unit.code == opened)
        )
    hidden = len(matrix.rows) - sum(1 for row in rows if row.unit.id in by_unit)
    return DashBlock(
        matrix.rule, matrix.columns, tuple(rows), matrix.totals(), on_time_rate(mine), hidden
    )


class _Tree:
    """The units of a selection as a tree under its root(s); ``parents``: which units have
    units under them, when ``units`` are not all of the selection's."""

    def __init__(self, units: Sequence[UnitFacts], parents: set[int] | None = None) -> None:
        ids = {unit.id for unit in units}
        self.parents = parents
        self.children: dict[int | None, list[UnitFacts]] = {}
        for unit in units:
            parent = unit.parent_id if unit.parent_id in ids else None
            self.children.setdefault(parent, []).append(unit)
        self.depth: dict[int, int] = {}
        self.order: list[UnitFacts] = []
        self._walk(None, 0)

    def _walk(self, parent: int | None, depth: int) -> None:
        for unit in sorted(self.children.get(parent, ()), key=lambda u: u.code):
            self.depth[unit.id] = depth
            self.order.append(unit)
            self._walk(unit.id, depth + 1)

    def visible(self, opened: str | None) -> list[UnitFacts]:
        """The roots (a single root's children too: a county's townships), the opened unit's
        children and those of every unit above it, in tree order."""
        by_code = {unit.code: unit for unit in self.order}
        by_id = {unit.id: unit for unit in self.order}
        expanded = set(self.always_open)
        unit = by_code.get(opened or "")
        while unit is not None:
            expanded.add(unit.id)
            unit = by_id.get(unit.parent_id) if unit.parent_id is not None else None
        return [u for u in self.order if self.depth[u.id] == 0 or u.parent_id in expanded]

    @property
    def always_open(self) -> set[int]:
        """A single root (the county) always shows its children (the townships)."""
        roots = self.children.get(None, [])
        return {roots[0].id} if len(roots) == 1 else set()

    def obligations_below(self, obligations: Sequence[Obligation]) -> dict[int, list[Obligation]]:
        """Each unit's obligations of the units under it (not its own)."""
        parent = {unit.id: unit.parent_id for unit in self.order}
        found: dict[int, list[Obligation]] = {}
        for o in obligations:
            above = parent.get(o.unit_id)
            while above is not None:
                found.setdefault(above, []).append(o)
                above = parent.get(above)
        return found

    def opens(self, unit: UnitFacts) -> bool:
        """Whether the unit has children to show on demand."""
        if unit.id in self.always_open:
            return False
        return unit.id in self.parents if self.parents is not None else unit.id in self.children


def stored_dashboard(
    session: Session, book: RuleBook, selection: Selection, opened: str | None
) -> list[DashBlock]:
    """The dashboard's blocks counted by SQL over the stored obligations
    (`scheduler.store.tallies`): the same blocks as `evaluated_dashboard`, with only the shown
    units loaded."""
    shown, expanded = _shown_units(session, selection.unit, opened)
    ids = [unit.id for unit in shown]
    tree = _Tree(shown, tallies.with_children(session, ids))
    rules = reports.selected_rules(book, selection.rule)
    counted = tallies.rule_tallies(
        session, [rule.id for rule in rules], ids, expanded, *_days(selection)
    )
    kinds = tallies.kind_counts(session, ids, expanded)
    return [_stored_block(rule, counted[rule.id], tree, expanded, opened, kinds) for rule in rules]


def _days(selection: Selection) -> tuple[date, date, date]:
    return selection.as_of, selection.first, selection.last


def _shown_units(
    session: Session, scope: str | None, opened: str | None
) -> tuple[list[UnitFacts], set[int]]:
    """The units `_Tree.visible` shows (the scope's root or the units without a parent, a
    single root's children, the opened unit's and its ancestors' children) and which of them
    are opened (their children shown)."""
    if scope is not None:
        root = tallies.unit_by_code(session, scope)
        roots = [] if root is None else [root]
    else:
        roots = tallies.units_where(session, roots=True)
    expanded = {roots[0].id} if len(roots) == 1 else set()
    expanded |= _chain(session, opened, {root.id for root in roots})
    # no root is below an opened unit: the opened ones are roots or under one
    below = tallies.units_where(session, parents=expanded) if expanded else []
    return roots + below, expanded


def _chain(session: Session, opened: str | None, roots: set[int]) -> set[int]:
    """The opened unit and the units above it up to a root (none: it is not under one)."""
    unit = tallies.unit_by_code(session, opened) if opened else None
    chain: set[int] = set()
    while unit is not None and unit.id not in chain:
        chain.add(unit.id)
        if unit.id in roots:
            return chain
        above = tallies.units_where(session, ids=[unit.parent_id]) if unit.parent_id else []
        unit = above[0] if above else None
    return set()


def _stored_block(
    rule: Rule,
    tally: tallies.RuleTally,
    tree: _Tree,
    expanded: set[int],
    opened: str | None,
    kinds: Mapping[str, int],
) -> DashBlock:
    """`_block` of one rule from its tally."""
    columns = tally.columns
    below = _counts_below(tree, tally, expanded)
    empty: tuple[Status | None, ...] = (None,) * len(columns)
    rows = []
    for unit in tree.order:
        applies = unit.kind in rule.applies_to
        if not applies and not below[unit.id].obligations:
            continue
        if applies:
            own = tally.cells.get(unit.id, {})
            cells = tuple(own.get(column) for column in columns)
            rate = tally.own[unit.id].rate if unit.id in tally.own else None
        else:
            cells, rate = empty, below[unit.id].rate
        rows.append(
            DashRow(unit, tree.depth[unit.id], cells, rate, tree.opens(unit), unit.code == opened)
        )
    in_matrix = sum(kinds.get(kind, 0) for kind in rule.applies_to)
    hidden = in_matrix - sum(1 for row in rows if row.unit.kind in rule.applies_to)
    totals = {status: number for status, number in tally.totals.items() if number}
    return DashBlock(rule, columns, tuple(rows), totals, tally.overall.rate, hidden)


def _counts_below(
    tree: _Tree, tally: tallies.RuleTally, expanded: set[int]
) -> dict[int, tallies.Counts]:
    """Each shown unit's counts of the units under it: summed from its shown children when it
    is opened, else the tally's."""
    found: dict[int, tallies.Counts] = {}
    for unit in reversed(tree.order):
        if unit.id not in expanded:
            found[unit.id] = tally.under.get(unit.id, tallies.Counts())
            continue
        total = tallies.Counts()
        for child in tree.children.get(unit.id, ()):
            total.add(tally.own.get(child.id, tallies.Counts()))
            total.add(found[child.id])
        found[unit.id] = total
    return found


def cell_obligations(
    session: Session, book: RuleBook, unit: str, rule: Rule, column: str, year: int, as_of: date
) -> list[reports.StatusRow]:
    """The obligations behind one dashboard cell (an attend rule's cell is a month)."""
    selection = Selection(as_of, date(year, 1, 1), date(year, 12, 31), unit, False, rule.id)
    rows = reports.status_rows(session, book, selection)
    if rule.is_attend:
        return [r for r in rows if f"{r.obligation.period.start.month:02d}" == column]
    return [r for r in rows if r.obligation.period.label == column]


def still_open_first(rows: Sequence[reports.StatusRow]) -> list[reports.StatusRow]:
    """A unit's obligations as its clerk works them: those not closed yet (overdue, open,
    upcoming) by nearest due date, then the closed ones, latest first."""
    pending = [r for r in rows if not r.obligation.status.closed]
    closed = [r for r in rows if r.obligation.status.closed]
    pending.sort(key=lambda r: (r.obligation.due, r.rule.id))
    closed.sort(key=lambda r: (r.obligation.due, r.rule.id), reverse=True)
    return pending + closed


def recipient_names(session: Session, recipients: Iterable[str], lang: str) -> dict[str, str]:
    """Outbox recipients (``person:811``, ``chat:12``) by name: 蔡斌, 群：东山镇."""
    wanted: dict[str, set[int]] = {}
    for recipient in recipients:
        kind, _, number = recipient.partition(":")
        if number.isdigit():
            wanted.setdefault(kind, set()).add(int(number))
    names: dict[str, str] = {}
    people = wanted.get("person", set())
    for pid, name in session.execute(select(Person.id, Person.name).where(Person.id.in_(people))):
        names[f"person:{pid}"] = name
    chats = wanted.get("chat", set())
    chat = words(lang, "page.")["chat_of"]
    for uid, name in session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(chats))):
        names[f"chat:{uid}"] = chat.format(unit=name)
    return names


def requirement_text(rule: Rule, book: RuleBook, lang: str) -> str:
    """What a rule asks for, in words."""
    req = rule.requirement
    kind = book.event_kinds[req.kind](lang) if req.kind in book.event_kinds else req.kind
    if isinstance(req, CountRequirement):
        return (
            f"至少{req.at_least}次：{kind}" if lang != "en" else f"at least {req.at_least}× {kind}"
        )
    if isinstance(req, AttendRequirement):
        role = book.roles[req.role](lang) if req.role in book.roles else req.role
        return f"{role}出席每次{kind}" if lang != "en" else f"{role} attends every {kind}"
    if req.per:
        per = f"{req.per} × {req.times}"
        return f"{kind}金额合计不少于 {per}" if lang != "en" else f"{kind}: total ≥ {per}"
    return (
        f"{kind}金额合计不少于 {req.at_least}"
        if lang != "en"
        else f"{kind}: total ≥ {req.at_least}"
    )


# ----------------------------------------------------------------------------------------------
# Scorecard chart


@dataclass(frozen=True)
class ChartLine:
    """One township's on-time rate in each quarter (None: nothing due yet)."""

    unit: UnitFacts
    rates: tuple[float | None, ...]


def quarter_rates(
    units: Sequence[UnitFacts], obligations: Sequence[Obligation], year: int
) -> list[ChartLine]:
    """Each unit's on-time rate over the obligations due in each quarter of ``year``."""
    groups: dict[tuple[int, int], list[Obligation]] = {}
    for o in obligations:
        if o.due.year == year:
            groups.setdefault((o.unit_id, (o.due.month - 1) // 3), []).append(o)
    return [
        ChartLine(unit, tuple(on_time_rate(groups.get((unit.id, q), ())) for q in range(4)))
        for unit in units
    ]
