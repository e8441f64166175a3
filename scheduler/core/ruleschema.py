"""The schema of ruleset files (rules/*.yaml): what each key may hold.

Pydantic models with unknown keys forbidden; values that need parsing (durations, ``due``,
reminder stages) are checked here so that errors point at their key. Cross-references (kinds,
roles, terms) are checked by `scheduler.core.ruleparse`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from scheduler.core.periods import Duration
from scheduler.core.problems import Message, Refused
from scheduler.core.rules import RemindStage

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_REMIND = re.compile(r"^\s*(?:(\d+\s*\w+)\s+before|on due)\s*$")


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
        duration(value)
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
            raise Refused(Message("at_least_positive"))
        return value


class AttendSpec(_Strict):
    attend: str
    role: str


REQUIREMENT_KEYS = ("count", "sum", "attend")


def _requirement_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((key for key in REQUIREMENT_KEYS if key in value), None)
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


class ScoreSpec(_Strict):
    """``score: {deduct: N, floor: M}``: a deduction-style indicator."""

    deduct: Decimal = Field(gt=0)
    floor: Decimal = Field(default=Decimal(0), ge=0)


class AssessmentSpec(_Strict):
    """``assessment: {late_credit: X}``: how the ruleset's rules are scored."""

    late_credit: Decimal = Field(default=Decimal("0.5"), ge=0, le=1)


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
    quiet_hours: bool = True
    points: Decimal = Field(default=Decimal(0), ge=0)
    score: ScoreSpec | None = None
    separate: bool = False

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise Refused(Message("rule_id_format"))
        return value

    @field_validator("within", "grace")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            duration(value)
        return value

    @field_validator("due")
    @classmethod
    def _due(cls, value: str) -> str:
        parse_due(value)
        return value

    @field_validator("remind")
    @classmethod
    def _remind(cls, values: list[str]) -> list[str]:
        for value in values:
            parse_remind(value)
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
    assessment: AssessmentSpec = AssessmentSpec()
    rules: list[dict[str, Any]]


def parse_due(value: str) -> Duration | None:
    text = str(value).strip()
    if text == "period end":
        return None
    if not text.startswith("+"):
        raise Refused(Message("bad_due", value=value, shown=repr(value)))
    return duration(text[1:])


def parse_remind(value: str) -> RemindStage:
    match = _REMIND.match(str(value))
    if not match:
        raise Refused(Message("bad_reminder", value=value, shown=repr(value)))
    return RemindStage(duration(match.group(1)) if match.group(1) else None)


def duration(text: str) -> Duration:
    """`Duration.parse`, refused in the catalogue's words."""
    try:
        return Duration.parse(text)
    except ValueError:
        raise Refused(Message("bad_duration", value=text, shown=repr(text))) from None
