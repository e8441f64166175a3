"""The rule language: schema, parsing and validation of rulesets (rules/*.yaml).

`parse_rulebook(sources, term_starts)` turns the text of one or more ruleset files into a
`RuleBook`, or raises `RulesError` listing every problem as ``FILE:LINE: rule ID: what``.
Validation is strict and all-or-nothing: unknown keys, unknown event kinds, roles or unit kinds,
bad durations, duplicate rule ids, ``every`` together with ``within``, undeclared terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from scheduler.periods import (
    ZERO_DAYS,
    CalendarCadence,
    Duration,
    TermCadence,
    parse_calendar_cadence,
)
from scheduler.yamlsource import LineIndex, Path, YamlSourceError, item_key_at, parse_yaml

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_REMIND = re.compile(r"^\s*(?:(\d+\s*\w+)\s+before|on due)\s*$")


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

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def has_rule(self, rule_id: str) -> bool:
        return any(rule.id == rule_id for rule in self.rules)


@dataclass(frozen=True)
class RuleProblem:
    """One validation problem, located."""

    filename: str
    line: int
    rule_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"rule {self.rule_id}: " if self.rule_id else ""
        return f"{self.filename}:{self.line}: {where}{self.message}"


class RulesError(ValueError):
    """The rulesets do not validate; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = tuple(problems)


# ----------------------------------------------------------------------------------------------
# The schema: what a ruleset file may say.


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextSpec(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class TermSpec(_Strict):
    start: date
    years: int = Field(ge=1)


class EffectiveSpec(_Strict):
    from_: date = Field(alias="from")
    to: date | None = None


class EscalateSpec(_Strict):
    after: str
    to: str

    @field_validator("after")
    @classmethod
    def _duration(cls, value: str) -> str:
        Duration.parse(value)
        return value


class PerSpec(_Strict):
    per: str
    times: Decimal = Field(gt=0)


class CountSpec(_Strict):
    count: str
    at_least: int = Field(ge=1)


class SumSpec(_Strict):
    sum: Literal["amount"]
    of: str
    at_least: Decimal | PerSpec

    @field_validator("at_least")
    @classmethod
    def _positive(cls, value: Decimal | PerSpec) -> Decimal | PerSpec:
        if isinstance(value, Decimal) and value <= 0:
            raise ValueError("at_least must be greater than 0")
        return value


class AttendSpec(_Strict):
    attend: str
    role: str


_REQUIREMENT_KEYS = ("count", "sum", "attend")


def _requirement_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((key for key in _REQUIREMENT_KEYS if key in value), None)
    return None


RequireSpec = Annotated[
    Annotated[CountSpec, Tag("count")]
    | Annotated[SumSpec, Tag("sum")]
    | Annotated[AttendSpec, Tag("attend")],
    Discriminator(
        _requirement_tag,
        custom_error_type="requirement",
        custom_error_message="expected {count: KIND, at_least: N}, "
        "{sum: amount, of: KIND, at_least: X} or {attend: KIND, role: ROLE}",
    ),
]


class RuleSpec(_Strict):
    id: str
    title: TextSpec
    cite: str = Field(min_length=1)
    applies_to: list[str] = Field(min_length=1)
    every: str | None = None
    within: str | None = None
    require: RequireSpec
    due: str = "period end"
    grace: str = "0 days"
    effective: EffectiveSpec
    responsible: list[str] = []
    notify: list[str] = []
    remind: list[str] = []
    escalate: EscalateSpec | None = None
    points: Decimal = Field(default=Decimal(0), ge=0)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("rule id must be lower-case letters, digits, '-' or '_'")
        return value

    @field_validator("within", "grace")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            Duration.parse(value)
        return value

    @field_validator("due")
    @classmethod
    def _due(cls, value: str) -> str:
        _parse_due(value)
        return value

    @field_validator("remind")
    @classmethod
    def _remind(cls, values: list[str]) -> list[str]:
        for value in values:
            _parse_remind(value)
        return values


class RulesetSpec(_Strict):
    ruleset: str
    title: TextSpec
    source: str = ""
    timezone: str = "Asia/Shanghai"
    unit_kinds: list[str] = Field(min_length=1)
    roles: dict[str, TextSpec]
    event_kinds: dict[str, TextSpec]
    terms: dict[str, TermSpec] = {}
    rules: list[dict[str, Any]]


def _parse_due(value: str) -> Duration | None:
    text = str(value).strip()
    if text == "period end":
        return None
    if not text.startswith("+"):
        raise ValueError(f"bad due {value!r}: expected 'period end' or '+N days' after it")
    return Duration.parse(text[1:])


def _parse_remind(value: str) -> RemindStage:
    match = _REMIND.match(str(value))
    if not match:
        raise ValueError(f"bad reminder {value!r}: expected 'N days before' or 'on due'")
    return RemindStage(Duration.parse(match.group(1)) if match.group(1) else None)


# ----------------------------------------------------------------------------------------------
# Parsing.


@dataclass
class _Context:
    filename: str
    index: LineIndex
    problems: list[RuleProblem]

    def report(self, path: Path, message: str, rule_id: str | None = None) -> None:
        line = self.index.line_of(path)
        self.problems.append(RuleProblem(self.filename, line, rule_id, message))


def parse_rulebook(
    sources: Iterable[tuple[str, str]], term_starts: Mapping[str, date] | None = None
) -> RuleBook:
    """Parse ``(filename, text)`` ruleset sources into one RuleBook, or raise RulesError.

    ``term_starts`` overrides the ``start`` of declared terms (the deployment's setting).
    """
    problems: list[RuleProblem] = []
    parsed: list[tuple[RulesetSpec, list[Rule]]] = []
    seen_ids: set[str] = set()
    for filename, text in sources:
        result = _parse_source(filename, text, term_starts or {}, problems, seen_ids)
        if result:
            parsed.append(result)
    if problems:
        raise RulesError(problems)
    return _merge(parsed)


def _parse_source(
    filename: str,
    text: str,
    term_starts: Mapping[str, date],
    problems: list[RuleProblem],
    seen_ids: set[str],
) -> tuple[RulesetSpec, list[Rule]] | None:
    try:
        data, index = parse_yaml(text, filename)
    except YamlSourceError as error:
        rule_id = item_key_at(text, error.line, "rules", "id")
        problems.append(RuleProblem(filename, error.line, rule_id, error.message))
        return None
    context = _Context(filename, index, problems)
    if not isinstance(data, dict):
        context.report((), "a ruleset must be a mapping with 'ruleset' and 'rules'")
        return None
    try:
        spec = RulesetSpec.model_validate(data)
    except ValidationError as error:
        _report_validation(context, (), error, None)
        return None
    rules = []
    for position, raw in enumerate(spec.rules):
        rule = _parse_rule(context, spec, position, raw, term_starts)
        if rule and rule.id in seen_ids:
            context.report(("rules", position, "id"), "duplicate rule id", rule.id)
        elif rule:
            rules.append(rule)
            seen_ids.add(rule.id)
    return spec, rules


def _parse_rule(
    context: _Context,
    ruleset: RulesetSpec,
    position: int,
    raw: Any,
    term_starts: Mapping[str, date],
) -> Rule | None:
    path: Path = ("rules", position)
    rule_id = raw.get("id") if isinstance(raw, dict) else None
    rule_id = str(rule_id) if rule_id is not None else f"#{position + 1}"
    if not isinstance(raw, dict):
        context.report(path, "a rule must be a mapping", rule_id)
        return None
    try:
        spec = RuleSpec.model_validate(raw)
    except ValidationError as error:
        _report_validation(context, path, error, rule_id)
        return None
    before = len(context.problems)
    _check_vocabulary(context, ruleset, spec, path)
    cadence = _cadence(context, ruleset, spec, path, term_starts)
    if len(context.problems) > before:
        return None
    return _build_rule(ruleset.ruleset, spec, cadence)


def _check_vocabulary(context: _Context, ruleset: RulesetSpec, spec: RuleSpec, path: Path) -> None:
    def check(value: str, known: Iterable[str], what: str, where: Path) -> None:
        if value not in known:
            choices = ", ".join(sorted(known))
            context.report((*path, *where), f"unknown {what} {value!r} (known: {choices})", spec.id)

    for position, kind in enumerate(spec.applies_to):
        check(kind, ruleset.unit_kinds, "unit kind", ("applies_to", position))
    requirement = spec.require
    kind = (
        requirement.count
        if isinstance(requirement, CountSpec)
        else requirement.of
        if isinstance(requirement, SumSpec)
        else requirement.attend
    )
    check(kind, ruleset.event_kinds, "event kind", ("require",))
    if isinstance(requirement, AttendSpec):
        check(requirement.role, ruleset.roles, "role", ("require", "role"))
    for key in ("responsible", "notify"):
        for position, role in enumerate(getattr(spec, key)):
            check(role, ruleset.roles, "role", (key, position))
    if spec.escalate:
        role = spec.escalate.to.removeprefix("parent.")
        check(role, ruleset.roles, "role", ("escalate", "to"))


def _cadence(
    context: _Context,
    ruleset: RulesetSpec,
    spec: RuleSpec,
    path: Path,
    term_starts: Mapping[str, date],
) -> CalendarCadence | TermCadence | None:
    attend = isinstance(spec.require, AttendSpec)
    if spec.every and spec.within:
        context.report((*path, "within"), "'every' and 'within' exclude each other", spec.id)
    elif attend and (spec.every or spec.within):
        key = "every" if spec.every else "within"
        context.report(
            (*path, key), "an attend rule has one obligation per event: no " + key, spec.id
        )
    elif not attend and not (spec.every or spec.within):
        context.report(
            path, "a rule needs 'every' (calendar periods) or 'within' (rolling)", spec.id
        )
    if not spec.every or attend:
        return None
    words = spec.every.split()
    if words[0] == "term":
        name = " ".join(words[1:])
        term = ruleset.terms.get(name)
        if term is None:
            context.report((*path, "every"), f"term {name!r} is not declared in 'terms'", spec.id)
            return None
        return TermCadence(name, term_starts.get(name, term.start), term.years)
    try:
        return parse_calendar_cadence(spec.every)
    except ValueError as error:
        context.report((*path, "every"), str(error), spec.id)
        return None


def _build_rule(
    ruleset: str, spec: RuleSpec, cadence: CalendarCadence | TermCadence | None
) -> Rule:
    escalate = None
    if spec.escalate:
        to = spec.escalate.to
        escalate = Escalation(
            Duration.parse(spec.escalate.after),
            to.removeprefix("parent."),
            to.startswith("parent."),
        )
    return Rule(
        id=spec.id,
        ruleset=ruleset,
        title=Text(spec.title.zh, spec.title.en),
        cite=spec.cite,
        applies_to=frozenset(spec.applies_to),
        cadence=cadence,
        rolling=Duration.parse(spec.within) if spec.within else None,
        requirement=_requirement(spec.require),
        due_offset=_parse_due(spec.due),
        grace=Duration.parse(spec.grace) if spec.grace else ZERO_DAYS,
        effective_from=spec.effective.from_,
        effective_to=spec.effective.to,
        responsible=tuple(spec.responsible),
        notify=tuple(spec.notify),
        remind=tuple(_parse_remind(value) for value in spec.remind),
        escalate=escalate,
        points=spec.points,
    )


def _requirement(spec: CountSpec | SumSpec | AttendSpec) -> Requirement:
    if isinstance(spec, CountSpec):
        return CountRequirement(spec.count, spec.at_least)
    if isinstance(spec, AttendSpec):
        return AttendRequirement(spec.attend, spec.role)
    if isinstance(spec.at_least, PerSpec):
        return SumRequirement(spec.of, per=spec.at_least.per, times=spec.at_least.times)
    return SumRequirement(spec.of, at_least=spec.at_least)


def _merge(parsed: list[tuple[RulesetSpec, list[Rule]]]) -> RuleBook:
    def texts(mapping: Mapping[str, TextSpec]) -> dict[str, Text]:
        return {key: Text(value.zh, value.en) for key, value in mapping.items()}

    unit_kinds: dict[str, None] = {}
    roles: dict[str, Text] = {}
    event_kinds: dict[str, Text] = {}
    for spec, _ in parsed:
        unit_kinds.update(dict.fromkeys(spec.unit_kinds))
        roles.update(texts(spec.roles))
        event_kinds.update(texts(spec.event_kinds))
    return RuleBook(
        names=tuple(spec.ruleset for spec, _ in parsed),
        titles={spec.ruleset: Text(spec.title.zh, spec.title.en) for spec, _ in parsed},
        timezone=parsed[0][0].timezone if parsed else "Asia/Shanghai",
        unit_kinds=tuple(unit_kinds),
        roles=roles,
        event_kinds=event_kinds,
        rules=tuple(rule for _, rules in parsed for rule in rules),
    )


def _report_validation(
    context: _Context, base: Path, error: ValidationError, rule_id: str | None
) -> None:
    reported: set[Path] = set()
    for item in error.errors():
        location = _clean_location(item["loc"])
        if location in reported or (
            item["type"] == "decimal_type" and isinstance(item.get("input"), dict)
        ):
            continue
        reported.add(location)
        path: Path = (*base, *location)
        key = location[-1] if location else None
        if item["type"] == "extra_forbidden":
            message = f"unknown key {key!r}"
        elif item["type"] == "missing":
            message = f"missing key {key!r}"
            path = path[:-1]
        else:
            field = ".".join(str(part) for part in location)
            message = f"{field}: {_clean_message(item['msg'])}"
        context.report(path, message, rule_id)


def _clean_location(location: tuple[Any, ...]) -> Path:
    """Drop pydantic's union-member names (``CountSpec``) and the alias suffix from a loc."""
    parts = [
        part
        for part in location
        if not (isinstance(part, str) and (part[:1].isupper() or "[" in part))
    ]
    if len(parts) > 1 and parts[0] == "require" and parts[1] in _REQUIREMENT_KEYS:
        del parts[1]
    if parts and parts[-1] in ("decimal", "int", "str", "float"):
        parts.pop()
    return tuple("from" if part == "from_" else part for part in parts)


def _clean_message(message: str) -> str:
    return message.removeprefix("Value error, ")
