"""The audit listing (台账): one row per obligation with its evidence and waiver.

`audit_listing(session, book, query)` takes the selection's obligations from
`scheduler.store.reports.selected_obligations` (a unit's or a subtree's stored ones while they
are current, else evaluated) and loads the evidence of every row with one more statement, so a
listing costs a fixed number of statements whatever the size of the county.
Renderers (CSV, XLSX, HTML) live in `scheduler.audit.export`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.core.compliance import Obligation, Status, UnitFacts
from scheduler.core.periods import period_of_label
from scheduler.core.problems import Message, single
from scheduler.core.rules import Rule, RuleBook
from scheduler.core.summaries import on_time_rate
from scheduler.store import reviews
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, EventKind
from scheduler.store.reports import Selection, selected_obligations


@dataclass(frozen=True)
class Evidence:
    """An event that served an obligation, as the listing shows it."""

    event_id: int
    day: date
    title: str
    recorded_by: str
    recorded_at: datetime
    amount: Decimal | None = None
    review: str | None = None  # with review.mode on: pending, accepted or returned
    reviewer: str | None = None
    reviewed_at: datetime | None = None
    review_comment: str | None = None


@dataclass(frozen=True)
class AuditRow:
    """One obligation of the listing."""

    unit: UnitFacts
    rule: Rule
    obligation: Obligation
    evidence: tuple[Evidence, ...]

    @property
    def status(self) -> Status:
        return self.obligation.status


@dataclass(frozen=True)
class AuditQuery:
    """Which obligations a listing holds: a year or a period label, a unit subtree, a rule,
    a status. Obligations whose period overlaps ``[first, last]`` are listed."""

    as_of: date
    first: date
    last: date
    scope: str
    unit: str | None = None
    rule: str | None = None
    status: Status | None = None

    @classmethod
    def for_year(cls, year: int, as_of: date, **filters: str | Status | None) -> AuditQuery:
        return cls(as_of, date(year, 1, 1), date(year, 12, 31), str(year), **filters)  # type: ignore[arg-type]

    @classmethod
    def for_period(cls, label: str, as_of: date, **filters: str | Status | None) -> AuditQuery:
        """The obligations overlapping the dates a period label names (``2021-Q1``, …)."""
        try:
            first, last = period_of_label(label)
        except ValueError as error:
            raise single(str(error), "--period", field="period") from None
        return cls(as_of, first, last, label, **filters)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RuleSummary:
    """How the obligations of one rule stand in a listing."""

    rule: Rule
    counts: Counter[Status]
    rate: float | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class AuditListing:
    """A listing: the query, its rows in (unit code, rule, period) order, the units selected."""

    query: AuditQuery
    rules: tuple[Rule, ...]
    rows: tuple[AuditRow, ...]
    units: tuple[UnitFacts, ...] = ()
    reviewed: bool = False  # review.mode is on: the evidence carries its review

    def rows_of(self, rule: Rule) -> list[AuditRow]:
        return [row for row in self.rows if row.rule.id == rule.id]

    def summaries(self) -> list[RuleSummary]:
        result = []
        for rule in self.rules:
            mine = [row.obligation for row in self.rows_of(rule)]
            result.append(RuleSummary(rule, Counter(o.status for o in mine), on_time_rate(mine)))
        return result


def parse_status(text: str | None) -> Status | None:
    """A status filter given as its value (``met``, ``missed``, …), or None."""
    if not text:
        return None
    try:
        return Status(text)
    except ValueError:
        names = [status.value for status in Status]
        unknown = Message("unknown_status", value=text, shown=repr(text), choices=names)
        raise single(unknown, "--status") from None


def audit_listing(session: Session, book: RuleBook, query: AuditQuery) -> AuditListing:
    """Evaluate the query on ``query.as_of`` and gather each obligation's evidence."""
    selection = Selection(
        query.as_of, query.first, query.last, query.unit, query.unit is not None, query.rule
    )
    units, rules, obligations = selected_obligations(session, book, selection)
    if query.status is not None:
        obligations = [o for o in obligations if o.status is query.status]
    wanted = {event_id for o in obligations for event_id in o.evidence}
    evidence = _evidence(session, rules, [unit.id for unit in units], query.as_of, wanted)
    reviewed = book.review_mode != "off"
    if reviewed:
        evidence = _with_reviews(session, evidence)
    rows = _rows(units, rules, obligations, evidence)
    return AuditListing(query, tuple(rules), rows, tuple(units), reviewed)


def _with_reviews(session: Session, evidence: dict[int, Evidence]) -> dict[int, Evidence]:
    """The evidence with its review state (one statement per 500 events)."""
    found = reviews.states(session, evidence)
    result = {}
    for event_id, item in evidence.items():
        review = found.get(event_id)
        if review is None:
            result[event_id] = replace(item, review=reviews.PENDING)
            continue
        result[event_id] = replace(
            item,
            review=review.status,
            reviewer=review.reviewer,
            reviewed_at=review.reviewed_at,
            review_comment=review.comment,
        )
    return result


def _rows(
    units: Sequence[UnitFacts],
    rules: Sequence[Rule],
    obligations: Sequence[Obligation],
    evidence: dict[int, Evidence],
) -> tuple[AuditRow, ...]:
    by_unit = {unit.id: unit for unit in units}
    by_rule = {rule.id: rule for rule in rules}
    order = {rule.id: position for position, rule in enumerate(rules)}
    rows = [
        AuditRow(
            by_unit[o.unit_id],
            by_rule[o.rule_id],
            o,
            tuple(evidence[i] for i in o.evidence if i in evidence),
        )
        for o in obligations
    ]
    rows.sort(key=lambda r: (r.unit.code, order[r.rule.id], r.obligation.period.start))
    return tuple(rows)


def _evidence(
    session: Session,
    rules: Sequence[Rule],
    unit_ids: Collection[int],
    as_of: date,
    wanted: set[int],
) -> dict[int, Evidence]:
    """The evidence events, read in one statement over the same window the evaluation read
    (current events of the rules' kinds up to ``as_of``), kept when an obligation names them."""
    if not wanted:
        return {}
    kinds = sorted({rule.requirement.kind for rule in rules})
    earliest = min(rule.effective_from for rule in rules)
    statement = (
        select(
            Event.id, Event.date, Event.title, Event.recorded_by, Event.recorded_at, Event.amount
        )
        .where(CURRENT, Event.date >= earliest, Event.date <= as_of)
        .where(Event.id.in_(select(EventKind.event_id).where(EventKind.kind.in_(kinds))))
    )
    if len(unit_ids) < 1000:
        statement = statement.where(Event.unit_id.in_(sorted(unit_ids)))
    return {
        event_id: Evidence(event_id, day, title, by, at, amount)
        for event_id, day, title, by, at, amount in session.execute(statement)
        if event_id in wanted
    }
