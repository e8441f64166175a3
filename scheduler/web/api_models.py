"""The JSON API's request and response bodies (pydantic): text without control characters,
bounded sizes, so that no input reaches the database in a shape it would refuse with a 500."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field, StringConstraints

Text = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")]
Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


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


class EventIn(BaseModel):
    """An event as the events file has it; ``kinds`` and ``attended`` are lists."""

    unit: Code
    kinds: list[Code] = Field(min_length=1, max_length=20)
    date: dt.date
    time: dt.time | None = None
    title: Text = ""
    attended: list[Code] = Field(default=[], max_length=20)
    amount: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"), decimal_places=2)
    ref: Text | None = None


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


class VoidIn(BaseModel):
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


class MeetingIn(BaseModel):
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


class FeedIn(BaseModel):
    unit: Code
    subtree: bool = False


class FeedOut(BaseModel):
    url: str
    webcal: str
