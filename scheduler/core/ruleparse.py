"""Parsing and validation of rulesets: YAML text in, a `RuleBook` or a `RulesError` out.

`parse_rulebook(sources, term_starts)` turns the text of one or more ruleset files into a
`RuleBook`, or raises `RulesError` listing every problem as ``FILE:LINE: rule ID: what``.
Validation is strict and all-or-nothing: unknown keys, unknown event kinds, roles or unit kinds,
bad durations, duplicate rule ids, ``every`` together with ``within``, undeclared terms, a
deduction-style ``score`` without points or with a floor above them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from scheduler.core.periods import (
    ZERO_DAYS,
    CalendarCadence,
    Duration,
    TermCadence,
    parse_calendar_cadence,
)
from scheduler.core.problems import Message
from scheduler.core.rules import (
    AttendRequirement,
    CountRequirement,
    Escalation,
    Requirement,
    Rule,
    RuleBook,
    RuleProblem,
    RulesError,
    Scoring,
    SumRequirement,
    Text,
)
from scheduler.core.ruleschema import (
    REQUIREMENT_KEYS,
    AttendSpec,
    CountSpec,
    PerSpec,
    RulesetSpec,
    RuleSpec,
    SumSpec,
    TextSpec,
    parse_due,
    parse_remind,
)
from scheduler.core.validation import validation_message
from scheduler.core.yamlsource import LineIndex, Path, YamlSourceError, item_key_at, parse_yaml


@dataclass
class _Context:
    filename: str
    index: LineIndex
    problems: list[RuleProblem]

    def report(self, path: Path, message: str | Message, rule_id: str | None = None) -> None:
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
        context.report((), Message("ruleset_not_mapping"))
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
            context.report(("rules", position, "id"), Message("duplicate_rule_id"), rule.id)
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
        context.report(path, Message("rule_not_mapping"), rule_id)
        return None
    try:
        spec = RuleSpec.model_validate(raw)
    except ValidationError as error:
        _report_validation(context, path, error, rule_id)
        return None
    before = len(context.problems)
    _check_vocabulary(context, ruleset, spec, path)
    _check_score(context, spec, path)
    cadence = _cadence(context, ruleset, spec, path, term_starts)
    if len(context.problems) > before:
        return None
    return _build_rule(ruleset, spec, cadence)


def _check_vocabulary(context: _Context, ruleset: RulesetSpec, spec: RuleSpec, path: Path) -> None:
    def check(value: str, known: Iterable[str], what: str, where: Path) -> None:
        if value not in known:
            unknown = Message(
                "unknown_vocabulary",
                what=Message(f"vocabulary.{what}"),
                value=value,
                choices=sorted(known),
            )
            context.report((*path, *where), unknown, spec.id)

    for position, kind in enumerate(spec.applies_to):
        check(kind, ruleset.unit_kinds, "unit_kind", ("applies_to", position))
    requirement = spec.require
    kind = (
        requirement.count
        if isinstance(requirement, CountSpec)
        else requirement.of
        if isinstance(requirement, SumSpec)
        else requirement.attend
    )
    check(kind, ruleset.event_kinds, "event_kind", ("require",))
    if isinstance(requirement, AttendSpec):
        check(requirement.role, ruleset.roles, "role", ("require", "role"))
    for key in ("responsible", "notify"):
        for position, role in enumerate(getattr(spec, key)):
            check(role, ruleset.roles, "role", (key, position))
    if spec.escalate:
        role = spec.escalate.to.removeprefix("parent.")
        check(role, ruleset.roles, "role", ("escalate", "to"))


def _check_score(context: _Context, spec: RuleSpec, path: Path) -> None:
    """A deduction-style rule deducts from its points: it needs some, and a floor below them."""
    if spec.score is None:
        return
    if spec.points <= 0:
        context.report((*path, "score"), Message("deduction_needs_points"), spec.id)
    elif spec.score.floor > spec.points:
        above = Message("floor_above_points", floor=spec.score.floor, points=spec.points)
        context.report((*path, "score", "floor"), above, spec.id)


def _cadence(
    context: _Context,
    ruleset: RulesetSpec,
    spec: RuleSpec,
    path: Path,
    term_starts: Mapping[str, date],
) -> CalendarCadence | TermCadence | None:
    attend = isinstance(spec.require, AttendSpec)
    if spec.every and spec.within:
        context.report((*path, "within"), Message("every_and_within"), spec.id)
    elif attend and (spec.every or spec.within):
        key = "every" if spec.every else "within"
        context.report((*path, key), Message("attend_no_cadence", name=key), spec.id)
    elif not attend and not (spec.every or spec.within):
        context.report(path, Message("needs_cadence"), spec.id)
    if not spec.every or attend:
        return None
    words = spec.every.split()
    if words[0] == "term":
        name = " ".join(words[1:])
        term = ruleset.terms.get(name)
        if term is None:
            context.report((*path, "every"), Message("term_not_declared", name=name), spec.id)
            return None
        return TermCadence(name, term_starts.get(name, term.start), term.years)
    try:
        return parse_calendar_cadence(spec.every)
    except ValueError:
        bad = Message("bad_cadence", value=spec.every, shown=repr(spec.every))
        context.report((*path, "every"), bad, spec.id)
        return None


def _build_rule(
    ruleset: RulesetSpec, spec: RuleSpec, cadence: CalendarCadence | TermCadence | None
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
        ruleset=ruleset.ruleset,
        title=Text(spec.title.zh, spec.title.en),
        cite=spec.cite,
        applies_to=frozenset(spec.applies_to),
        cadence=cadence,
        rolling=Duration.parse(spec.within) if spec.within else None,
        requirement=_requirement(spec.require),
        due_offset=parse_due(spec.due),
        grace=Duration.parse(spec.grace) if spec.grace else ZERO_DAYS,
        effective_from=spec.effective.from_,
        effective_to=spec.effective.to,
        responsible=tuple(spec.responsible),
        notify=tuple(spec.notify),
        remind=tuple(parse_remind(value) for value in spec.remind),
        escalate=escalate,
        quiet_hours=spec.quiet_hours,
        points=spec.points,
        score=Scoring(
            late_credit=ruleset.assessment.late_credit,
            deduct=spec.score.deduct if spec.score else None,
            floor=spec.score.floor if spec.score else Decimal(0),
        ),
        separate=spec.separate,
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
        message: Message
        if item["type"] == "extra_forbidden":
            message = Message("unknown_key", value=key)
        elif item["type"] == "missing":
            message = Message("missing_key", value=key)
            path = path[:-1]
        else:
            field = ".".join(str(part) for part in location)
            message = Message("key_said", name=field, message=validation_message(item))
        context.report(path, message, rule_id)


def _clean_location(location: tuple[Any, ...]) -> Path:
    """Drop pydantic's union-member names (``CountSpec``) and the alias suffix from a loc."""
    parts = [
        part
        for part in location
        if not (isinstance(part, str) and (part[:1].isupper() or "[" in part))
    ]
    if len(parts) > 1 and parts[0] == "require" and parts[1] in REQUIREMENT_KEYS:
        del parts[1]
    if parts and parts[-1] in ("decimal", "int", "str", "float"):
        parts.pop()
    return tuple("from" if part == "from_" else part for part in parts)
