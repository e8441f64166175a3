"""The annual assessment (考核): each rule weighed once per unit and year, explained. Pure.

Per unit and rule, over the obligations of the year (their status on the as-of day):

* ``due`` counts the obligations whose due date has passed or that are already met; open and
  upcoming ones do not count yet, and exempt ones (listed as ``exempt``) leave the count.
  ``missed`` is ``due − met − met_late``: obligations past due and not met, including overdue
  ones that may still be met late within their grace.
* By default a rule earns a share of its points:
  ``points × (met + late_credit × met_late) ÷ due``, so twelve meetings attended out of twelve
  earn what one out of one earns, and 5 of 6 hearings on time earn 5/6 of the points.
* A rule with ``score: {deduct: N, floor: F}`` earns
  ``max(F, points − N × (missed + (1 − late_credit) × met_late))``.
* A rule with nothing due earns nothing and adds nothing to ``possible``.

Earned points are kept to two decimals (half up) per rule; a unit's ``total`` is their sum and
``possible`` the points of its rules with something due. Units are ranked only among units of
one kind, by ``total ÷ possible`` then ``total``; equal units share a rank; a unit with nothing
due has none.

The scorecard is internal (national rules against formalism caution against published point
rankings): admins see it; clerks see their own subtree's scores, without ranks, only when the
deployment sets ``assessment.visible_to: clerks``; viewers never.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from scheduler.core.access import Principal, Role
from scheduler.core.compliance import Obligation, Status, UnitFacts
from scheduler.core.rules import Rule

CENT = Decimal("0.01")


@dataclass(frozen=True)
class RuleScore:
    """One rule's line of a unit's assessment."""

    rule: Rule
    due: int
    met: int
    met_late: int
    missed: int
    exempt: int
    earned: Decimal

    @property
    def points(self) -> Decimal:
        return self.rule.points

    @property
    def counted(self) -> bool:
        """Something of this rule is due: its points are part of ``possible``."""
        return self.due > 0


@dataclass(frozen=True)
class UnitScore:
    """One unit's assessment: a line per rule, the total and the rank among its kind."""

    unit: UnitFacts
    rules: tuple[RuleScore, ...]
    rank: int | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.earned for line in self.rules), Decimal(0))

    @property
    def possible(self) -> Decimal:
        return sum((line.points for line in self.rules if line.counted), Decimal(0))

    @property
    def share(self) -> Decimal | None:
        """``total ÷ possible``; None while nothing is due."""
        return self.total / self.possible if self.possible else None


@dataclass(frozen=True)
class Scorecard:
    """The assessment of the units of one kind under the rules that score them."""

    kind: str
    rules: tuple[Rule, ...]
    lines: tuple[UnitScore, ...]
    ranked: bool = True


def score_rule(rule: Rule, obligations: Iterable[Obligation]) -> RuleScore:
    """The line of ``rule`` for one unit, from that unit's obligations under it."""
    counts = Counter(o.status for o in obligations)
    met, late = counts[Status.MET], counts[Status.MET_LATE]
    due = sum(counts[status] for status in Status if status.due_passed)
    missed = due - met - late
    return RuleScore(
        rule, due, met, late, missed, counts[Status.EXEMPT], _earned(rule, due, met, late)
    )


def _earned(rule: Rule, due: int, met: int, late: int) -> Decimal:
    if not due:
        return Decimal(0)
    scoring = rule.score
    if scoring.deduct is None:
        earned = rule.points * (met + scoring.late_credit * late) / due
    else:
        lost = (due - met - late) + (1 - scoring.late_credit) * late
        earned = max(scoring.floor, rule.points - scoring.deduct * lost)
    return earned.quantize(CENT, rounding=ROUND_HALF_UP)


def scoring_rules(rules: Iterable[Rule], kind: str) -> tuple[Rule, ...]:
    """The rules that score units of ``kind``: they apply to it and are worth points."""
    return tuple(rule for rule in rules if kind in rule.applies_to and rule.points > 0)


def assess(
    rules: Sequence[Rule], units: Iterable[UnitFacts], obligations: Iterable[Obligation], kind: str
) -> Scorecard:
    """The ranked scorecard of the units of ``kind`` (obligations: those of the year)."""
    mine = scoring_rules(rules, kind)
    grouped: dict[tuple[int, str], list[Obligation]] = defaultdict(list)
    for o in obligations:
        grouped[(o.unit_id, o.rule_id)].append(o)
    lines = [
        UnitScore(unit, tuple(score_rule(rule, grouped[(unit.id, rule.id)]) for rule in mine))
        for unit in units
        if unit.kind == kind
    ]
    return Scorecard(kind, mine, ranked(lines))


def ranked(lines: Sequence[UnitScore]) -> tuple[UnitScore, ...]:
    """Lines by merit (share, then total), equal merit sharing a rank; unranked ones last."""
    scored = sorted(
        (line for line in lines if line.share is not None),
        key=lambda line: (-_merit(line)[0], -_merit(line)[1], line.unit.code),
    )
    result: list[UnitScore] = []
    for position, line in enumerate(scored, start=1):
        tied = result and _merit(result[-1]) == _merit(line)
        result.append(replace(line, rank=result[-1].rank if tied else position))
    rest = sorted((line for line in lines if line.share is None), key=lambda line: line.unit.code)
    return (*result, *(replace(line, rank=None) for line in rest))


def _merit(line: UnitScore) -> tuple[Decimal, Decimal]:
    return line.share or Decimal(0), line.total


def without_ranks(card: Scorecard) -> Scorecard:
    """The same scores by unit code, with no ranks (what a clerk sees)."""
    lines = sorted(card.lines, key=lambda line: line.unit.code)
    return replace(card, lines=tuple(replace(line, rank=None) for line in lines), ranked=False)


def scored_kinds(
    rules: Sequence[Rule], units: Iterable[UnitFacts], order: Sequence[str]
) -> list[str]:
    """The unit kinds among ``units`` that some rule scores, most numerous first (ties in
    ``order``, the ruleset's order of kinds)."""
    counts = Counter(unit.kind for unit in units)
    kinds = [kind for kind in order if counts[kind] and scoring_rules(rules, kind)]
    return sorted(kinds, key=lambda kind: -counts[kind])


def may_read_scores(user: Principal, visible_to: str) -> bool:
    """Admins read the assessment; clerks only when ``visible_to`` is ``clerks``."""
    if user.role is Role.ADMIN:
        return True
    return visible_to == "clerks" and user.role is Role.CLERK and user.unit_id is not None


def sees_ranks(user: Principal) -> bool:
    """Only admins see ranks: a clerk never sees how other units stand."""
    return user.role is Role.ADMIN
