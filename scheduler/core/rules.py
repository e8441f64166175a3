"""The rule language's domain: rules, requirements, reminder stages and the merged RuleBook.

What the engine reads. `scheduler.core.ruleschema` says what a ruleset file may contain and
`scheduler.core.ruleparse.parse_rulebook` turns files into a `RuleBook` (or a `RulesError` listing
every problem as ``FILE:LINE: rule ID: what``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from scheduler.core.periods import CalendarCadence, Duration, TermCadence
from scheduler.core.problems import Message, located, said

# ----------------------------------------------------------------------------------------------
# The domain: what the engine reads.


@dataclass(frozen=True)
class Text:
    """A text in Chinese and English."""

    zh: str
    en: str

    def __call__(self, language: str = "zh") -> str:
        return self.en if language == "en" else self.zh


@dataclass(frozen=True)
class CountRequirement:
    """At least ``at_least`` events of ``kind`` in the window."""

    kind: str
    at_least: int

    def required_for(self, attributes: Mapping[str, Any]) -> Decimal | None:
        return Decimal(self.at_least)


@dataclass(frozen=True)
class SumRequirement:
    """Amounts of ``kind`` events add up to ``at_least``, or to ``times`` × a unit attribute."""

    kind: str
    at_least: Decimal | None = None
    per: str | None = None
    times: Decimal | None = None

    def required_for(self, attributes: Mapping[str, Any]) -> Decimal | None:
        """The amount owed by a unit; None when its attribute ``per`` is missing or not a number."""
        if self.per is None:
            return self.at_least
        try:
            return Decimal(str(attributes[self.per])) * (self.times or Decimal(1))
        except (KeyError, ArithmeticError, ValueError):
            return None


@dataclass(frozen=True)
class AttendRequirement:
    """The holder of ``role`` attended the ``kind`` event."""

    kind: str
    role: str

    def required_for(self, attributes: Mapping[str, Any]) -> Decimal | None:
        return Decimal(1)


Requirement = CountRequirement | SumRequirement | AttendRequirement


@dataclass(frozen=True)
class RemindStage:
    """A reminder ``before`` the due date (``Duration``) or, when ``before`` is None, on it."""

    before: Duration | None

    def __str__(self) -> str:
        return f"{self.before} before" if self.before else "on due"


@dataclass(frozen=True)
class Escalation:
    """After due + ``after`` without the obligation met, tell ``role`` (at the parent unit)."""

    after: Duration
    role: str
    at_parent: bool


@dataclass(frozen=True)
class Scoring:
    """How a rule earns its ``points`` in the annual assessment (`scheduler.core.assessment`).

    By default a share: points × (met on time + ``late_credit`` × met late) ÷ obligations due.
    With ``deduct``: points minus ``deduct`` for each missed obligation (``deduct`` ×
    (1 − ``late_credit``) for each late one), never below ``floor``. ``late_credit`` is the
    ruleset's ``assessment.late_credit``.
    """

    late_credit: Decimal = Decimal("0.5")
    deduct: Decimal | None = None
    floor: Decimal = Decimal(0)


@dataclass(frozen=True)
class Rule:
    """One obligation-generating rule of a ruleset."""

    id: str
    ruleset: str
    title: Text
    cite: str
    applies_to: frozenset[str]
    cadence: CalendarCadence | TermCadence | None
    rolling: Duration | None
    requirement: Requirement
    due_offset: Duration | None
    grace: Duration
    effective_from: date
    effective_to: date | None
    responsible: tuple[str, ...]
    notify: tuple[str, ...]
    remind: tuple[RemindStage, ...]
    escalate: Escalation | None
    points: Decimal
    score: Scoring = Scoring()
    separate: bool = False  # the planner gives its obligations an event of their own
    quiet_hours: bool = True  # False: its reminders go out in quiet hours and on days off too

    @property
    def is_attend(self) -> bool:
        return isinstance(self.requirement, AttendRequirement)

    def due_of(self, period_end: date) -> date:
        """The due date of a period that ends on ``period_end``."""
        return self.due_offset.after(period_end) if self.due_offset else period_end


@dataclass(frozen=True)
class RuleBook:
    """All loaded rulesets: the merged vocabulary and the rules in file order."""

    names: tuple[str, ...]
    titles: Mapping[str, Text]
    timezone: str
    unit_kinds: tuple[str, ...]
    roles: Mapping[str, Text]
    event_kinds: Mapping[str, Text]
    rules: tuple[Rule, ...]
    review_mode: str = "off"  # off | advisory | required: how review by the level above counts

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def has_rule(self, rule_id: str) -> bool:
        return any(rule.id == rule_id for rule in self.rules)


@dataclass(frozen=True)
class RuleProblem:
    """One validation problem, located: ``FILE:LINE: rule ID: what`` in English (``str``),
    ``FILE 第N行，规则 ID：what`` in Chinese (`said`)."""

    filename: str
    line: int
    rule_id: str | None
    message: str | Message

    def __str__(self) -> str:
        return self.said("en")

    def said(self, language: str) -> str:
        rule = Message("rule_named", id=self.rule_id).said(language) if self.rule_id else None
        what = said(self.message, language)
        return located(language, self.filename, self.line, rule, what)


class RulesError(ValueError):
    """The rulesets do not validate; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = tuple(problems)

    def said(self, language: str) -> str:
        """Every problem, one per line, in ``language``."""
        return "\n".join(problem.said(language) for problem in self.problems)
