"""Compliance reads: status of obligations, the matrix and the assessment, from the database.

One evaluation runs a fixed number of statements (units, events with their kinds, attendance,
waivers) whatever the size of the county, then hands plain facts to `scheduler.core.compliance`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, Protocol

from sqlalchemy.orm import Session

from scheduler.core import unittree
from scheduler.core.assessment import Scorecard, assess, scored_kinds, scoring_rules
from scheduler.core.compliance import Obligation, Status, UnitFacts, evaluate
from scheduler.core.gcpause import gc_paused
from scheduler.core.jsontext import json_number as json_number  # re-exported
from scheduler.core.ledger import obligations_on
from scheduler.core.problems import Message, single
from scheduler.core.records import unknown_unit
from scheduler.core.rules import Rule, RuleBook
from scheduler.core.summaries import Matrix, build_matrix
from scheduler.store import obligations as stored_obligations
from scheduler.store import tallies
from scheduler.store.facts import event_facts, unit_facts, waiver_facts
from scheduler.store.status_stream import StoredStatus


@dataclass(frozen=True)
class StatusRow:
    """One obligation with the unit and rule it belongs to."""

    obligation: Obligation
    unit: UnitFacts
    rule: Rule

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``huiqi status --format json`` (DESIGN.md's CLI contract)."""
        o = self.obligation
        return {
            "unit": self.unit.code,
            "unit_name": self.unit.name,
            "rule": self.rule.id,
            "period": {
                "label": o.period.label,
                "start": o.period.start.isoformat(),
                "end": o.period.end.isoformat(),
            },
            "due": o.due.isoformat(),
            "status": o.status,  # a StrEnum: written as its value (and `.value` is slow)
            "required": json_number(o.required),
            "actual": json_number(o.actual),
            "evidence": list(o.evidence),
            "days_left": o.days_left,
        }


@dataclass(frozen=True)
class Selection:
    """Which obligations a read is about."""

    as_of: date
    first: date
    last: date
    unit: str | None = None
    subtree: bool = False
    rule: str | None = None


def evaluate_selection(
    session: Session, book: RuleBook, selection: Selection
) -> tuple[list[UnitFacts], list[Rule], list[Obligation]]:
    """The units, rules and obligations of a selection, evaluated on ``selection.as_of``."""
    rules = selected_rules(book, selection.rule)
    all_units = unit_facts(session)
    units = _units(all_units, selection.unit, selection.subtree)
    kinds = {rule.requirement.kind for rule in rules}
    earliest = min((rule.effective_from for rule in rules), default=selection.first)
    unit_ids = [unit.id for unit in units] if selection.unit else None
    reviewed = book.review_mode != "off"
    events = event_facts(session, kinds, earliest, selection.as_of, unit_ids, reviewed)
    waivers = waiver_facts(session)
    obligations = evaluate(
        rules,
        units,
        events,
        waivers,
        selection.as_of,
        selection.first,
        selection.last,
        book.review_mode,
    )
    return units, rules, obligations


def stored_selection(
    session: Session, book: RuleBook, selection: Selection
) -> tuple[list[UnitFacts], list[Rule], list[Obligation]] | None:
    """What `evaluate_selection` gives, read from the stored obligations of the selection's
    units and rules with SQL (`scheduler.store.obligations`) instead of loading events and
    evaluating them; None when the stored rows are not up to date with ``book``.

    For a large selection it is no faster than evaluating (turning every stored row into an
    obligation costs about what the evaluation does, docs/scale.md): the dashboard counts with
    SQL instead, and only a unit's or a subtree's reads use the rows (`selected_obligations`)."""
    if not stored_obligations.current(session, book, selection.last):
        return None
    with gc_paused():
        return _stored_selection(session, book, selection)


def _stored_selection(
    session: Session, book: RuleBook, selection: Selection
) -> tuple[list[UnitFacts], list[Rule], list[Obligation]]:
    units = _units(unit_facts(session), selection.unit, selection.subtree)
    return _stored_of(session, book, selection, units, bool(selection.unit))


def _stored_of(
    session: Session,
    book: RuleBook,
    selection: Selection,
    units: list[UnitFacts],
    only_these: bool,
) -> tuple[list[UnitFacts], list[Rule], list[Obligation]]:
    """The selection's obligations of ``units`` from their stored rows (``only_these``: read
    the rows of these units only, else of every unit), in the evaluation's order."""
    rules = selected_rules(book, selection.rule)
    ids = [unit.id for unit in units] if only_these else None
    entries = stored_obligations.entries(session, rules, ids, selection.first, selection.last)
    place = {unit.id: number for number, unit in enumerate(units)}
    order = {rule.id: number for number, rule in enumerate(rules)}
    entries.sort(key=lambda e: (order[e.rule_id], place[e.unit_id], e.position))
    found = obligations_on(
        entries, selection.as_of, selection.first, selection.last, book.review_mode
    )
    return units, rules, list(found)


def status_rows(session: Session, book: RuleBook, selection: Selection) -> list[StatusRow]:
    """Obligations whose period overlaps ``[first, last]``, by unit code, rule and period."""
    with gc_paused():
        return _status_rows(*selected_obligations(session, book, selection))


class StatusObjects(Protocol):
    """The JSON objects of a status, made as they are iterated; afterwards ``unmeasured``
    holds the (unit code, rule id) of the obligations whose quantity needed is unknown."""

    unmeasured: set[tuple[str, str]]

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


class _RowObjects:
    """`StatusObjects` of rows already made."""

    def __init__(self, rows: list[StatusRow]) -> None:
        self._rows = rows
        self.unmeasured = unmeasured(rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (row.to_json() for row in self._rows)


def status_objects(session: Session, book: RuleBook, selection: Selection) -> StatusObjects:
    """The objects of `status_rows`' rows (`StatusRow.to_json`) in their order, for writing as
    they come: those of every unit by one statement over the stored obligations while they are
    current (`scheduler.store.status_stream`), holding no row after it is written; else
    the rows of `status_rows`."""
    if selection.unit is None and stored_obligations.current(session, book, selection.last):
        rules = selected_rules(book, selection.rule)
        return StoredStatus(session, rules, selection.as_of, selection.first, selection.last)
    return _RowObjects(status_rows(session, book, selection))


def status_page(
    session: Session,
    book: RuleBook,
    selection: Selection,
    status: Status | None,
    offset: int,
    count: int,
) -> list[dict[str, Any]]:
    """``count`` objects of `status_objects` (those of ``status`` only, unless None) from the
    ``offset``-th: a page read by SQL from the stored obligations while they are current (the
    statement picks the page's obligations and their allocation only), else cut from the
    `status_rows`."""
    root = tallies.unit_by_code(session, selection.unit) if selection.unit else None
    known = selection.unit is None or root is not None
    if known and stored_obligations.current(session, book, selection.last):
        scope = None if root is None else (root.id, selection.subtree)
        rules = selected_rules(book, selection.rule)
        window = (offset, count)
        dates = (selection.as_of, selection.first, selection.last)
        return list(StoredStatus(session, rules, *dates, scope, status, window))
    rows = status_rows(session, book, selection)
    found = (row.to_json() for row in rows if status is None or row.obligation.status == status)
    return list(islice(found, offset, offset + count))


def unmeasured(rows: Sequence[StatusRow]) -> set[tuple[str, str]]:
    """The (unit code, rule id) of the rows whose quantity needed is unknown."""
    return {(row.unit.code, row.rule.id) for row in rows if row.obligation.required is None}


def selected_obligations(
    session: Session, book: RuleBook, selection: Selection
) -> tuple[list[UnitFacts], list[Rule], list[Obligation]]:
    """What `evaluate_selection` gives; a selection of one unit or of a unit's subtree is read
    from the stored obligations of those units while they are current, loading those units
    only."""
    return _scoped_stored(session, book, selection) or evaluate_selection(session, book, selection)


def _scoped_stored(
    session: Session, book: RuleBook, selection: Selection
) -> tuple[list[UnitFacts], list[Rule], list[Obligation]] | None:
    """`stored_selection` of a selection of one unit or subtree; None when it is not such a
    selection, the unit is unknown (the evaluation says so) or the rows are not current."""
    if selection.unit is None:
        return None
    root = tallies.unit_by_code(session, selection.unit)
    if root is None or not stored_obligations.current(session, book, selection.last):
        return None
    units = tallies.subtree_units(session, root.id) if selection.subtree else [root]
    return _stored_of(session, book, selection, units, True)


def _status_rows(
    units: list[UnitFacts], rules: list[Rule], obligations: list[Obligation]
) -> list[StatusRow]:
    by_id = {unit.id: unit for unit in units}
    by_rule = {rule.id: rule for rule in rules}
    order = {rule.id: position for position, rule in enumerate(rules)}
    rows = [StatusRow(o, by_id[o.unit_id], by_rule[o.rule_id]) for o in obligations]
    rows.sort(
        key=lambda row: (
            row.unit.code,
            order[row.rule.id],
            row.obligation.period.start,
            row.obligation.evidence,
        )
    )
    return rows


def year_selection(
    year: int,
    as_of: date,
    unit: str | None = None,
    rule: str | None = None,
) -> Selection:
    return Selection(as_of, date(year, 1, 1), date(year, 12, 31), unit, unit is not None, rule)


def matrices(session: Session, book: RuleBook, selection: Selection) -> list[Matrix]:
    """One matrix per selected rule."""
    units, rules, obligations = evaluate_selection(session, book, selection)
    return [build_matrix(rule, units, obligations) for rule in rules]


@dataclass(frozen=True)
class YearAssessment:
    """Scorecards of a selection, the kind shown by default, and the year's obligations."""

    cards: list[Scorecard]
    default_kind: str | None
    obligations: list[Obligation]


def scorecards(
    session: Session,
    book: RuleBook,
    selection: Selection,
    kind: str | None = None,
    every_kind: bool = False,
) -> YearAssessment:
    """The year's assessment (`scheduler.core.assessment`) of the selection's units active
    during ``[first, last]``, over the obligations whose period ends inside it: one scorecard
    for ``kind``, for every kind the rules score (``every_kind``, in the ruleset's order), or
    for the default kind, the most numerous of them."""
    units, rules, obligations = evaluate_selection(session, book, selection)
    units = [unit for unit in units if _active_within(unit, selection.first, selection.last)]
    inside = [o for o in obligations if selection.first <= o.period.end <= selection.last]
    kinds = scored_kinds(rules, units, book.unit_kinds)
    default = kinds[0] if kinds else None
    if kind is not None:
        kinds = [_scored_kind(book, rules, kind)]
    elif every_kind:
        kinds.sort(key=book.unit_kinds.index)
    else:
        kinds = kinds[:1]
    cards = [assess(rules, units, inside, each) for each in kinds]
    return YearAssessment(cards, default, inside)


def _active_within(unit: UnitFacts, first: date, last: date) -> bool:
    """The unit existed on some day of ``[first, last]`` (a unit merged away earlier is not
    assessed)."""
    started = unit.active_from is None or unit.active_from <= last
    return started and (unit.active_to is None or unit.active_to >= first)


def _scored_kind(book: RuleBook, rules: Sequence[Rule], kind: str) -> str:
    if kind not in book.unit_kinds:
        what = Message("unit_kind")
        raise single(
            Message("unknown_choice", what=what, value=kind, known=list(book.unit_kinds)), "--kind"
        )
    if not scoring_rules(rules, kind):
        raise single(Message("no_scoring_rule", kind=kind), "--kind")
    return kind


def selected_rules(book: RuleBook, rule_id: str | None) -> list[Rule]:
    """The rules of a read: all of them, or the one called ``rule_id``."""
    if rule_id is None:
        return list(book.rules)
    if not book.has_rule(rule_id):
        raise single(Message("unknown_rule", value=rule_id), "--rule")
    return [book.rule(rule_id)]


def _units(units: Sequence[UnitFacts], code: str | None, subtree: bool) -> list[UnitFacts]:
    if code is None:
        return list(units)
    root = next((unit for unit in units if unit.code == code), None)
    if root is None:
        raise single(unknown_unit(code, [unit.code for unit in units]), "--unit")
    return unittree.subtree(units, root) if subtree else [root]
