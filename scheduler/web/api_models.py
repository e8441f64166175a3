"""The JSON API's request and response bodies (pydantic): text without control characters,
bounded sizes, so that no input reaches the database in a shape it would refuse with a 500.

Request bodies are strict: no property the schema does not name, and no value of another JSON
type than the schema says (no ``"true"`` for a boolean, no number for a date), so that what
the OpenAPI schema refuses the API refuses too. Every route documents its error answers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

Text = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")]
Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]


def _iso_day(value: Any) -> Any:
    """A date as the schema says, YYYY-MM-DD (not a number, not a timestamp)."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected a date YYYY-MM-DD")
    return value


def _number_only(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    return value


Day = Annotated[dt.date, BeforeValidator(_iso_day)]
TimeOfDay = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body is not JSON"},
    401: {"model": Problem, "description": "No valid bearer token"},
    403: {"model": Problem, "description": "A unit outside the token user's scope"},
    404: {"model": Problem, "description": "No such unit, event or page"},
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    parent: str | None
    active_from: dt.date | None
    active_to: dt.date | None


class PersonOut(BaseModel):
    name: str
    email: str | None
    unit: str
    role: str
    valid_from: dt.date | None
    valid_to: dt.date | None


class EventIn(_Body):
    """An event as the events file has it; ``kinds`` and ``attended`` are lists; an amount is
    kept to the fen (0.01 yuan)."""

    unit: Code
    kinds: list[Code] = Field(min_length=1, max_length=20)
    date: Day
    time: TimeOfDay | None = None
    title: Text = ""
    attended: list[Code] = Field(default=[], max_length=20)
    amount: Annotated[float, Field(ge=0, le=1e12), BeforeValidator(_number_only)] | None = None
    ref: (
        Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] | None
    ) = None


class EventOut(BaseModel):
    id: int
    unit: str
    date: dt.date
    time: str | None
    title: str
    kinds: list[str]
    attended: list[str]
    amount: float | None
    ref: str | None
    recorded_by: str


class VoidIn(_Body):
    reason: Annotated[
        str,
        StringConstraints(
            min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
        ),
    ]


class MeetingOut(BaseModel):
    id: int
    unit: str
    title: str
    start: str
    end: str
    status: str
    kinds: list[str]


class MeetingIn(_Body):
    """A meeting to plan; ``start`` and ``end`` are local times (``2021-03-12T09:30``)."""

    unit: Code
    kinds: list[Code] = Field(min_length=1, max_length=20)
    title: Annotated[
        str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")
    ]
    start: Annotated[str, StringConstraints(max_length=40)]
    end: Annotated[str, StringConstraints(max_length=40)]
    location: Text = ""
    agenda: Text = ""
    attendees: list[Annotated[str, StringConstraints(max_length=320)]] | None = None


class FeedIn(_Body):
    unit: Code
    subtree: StrictBool = False


class PeriodOut(BaseModel):
    label: str
    start: dt.date
    end: dt.date


class ObligationOut(BaseModel):
    """One obligation, as ``huiqi status --format json`` prints it."""

    unit: str
    unit_name: str
    rule: str
    period: PeriodOut
    due: dt.date
    status: str
    required: int | float | None
    actual: int | float | None
    evidence: list[int]
    days_left: int | None


class FeedOut(BaseModel):
    url: str
    webcal: str
