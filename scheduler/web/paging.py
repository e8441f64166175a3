"""Pages of the JSON API's lists: ``limit`` (1–1000, default 100) items after an opaque
``cursor``, answered as ``{"items": [...], "next": URL or null}``. ``next`` is the same request
with the cursor of the page's last item; it is null on the last page, so no list is ever cut
without saying so.

A cursor is the sort key of the last item given, as URL-safe base64 of a JSON array; lists
ordered in SQL continue after it (keyset paging), so rows added meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import HTTPException, Query, Request
from pydantic import BaseModel, Field

T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT}).")
]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=400,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Where the page starts: the cursor of the previous page's `next` link.",
    ),
]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next: str | None = Field(description="The next page (path and query), null on the last page")


def encode(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, types: Sequence[type]) -> list[Any] | None:
    """The key a cursor carries, each part of the given type; 404 (no such page) if it is not
    one this API wrote."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        key = None
    fits = isinstance(key, list) and len(key) == len(types)
    if not fits or not all(_is(part, kind) for part, kind in zip(key, types, strict=True)):
        raise bad_cursor()
    return key


def bad_cursor() -> HTTPException:
    """404: a cursor this list did not give names no page of it."""
    return HTTPException(404, "no such page: the cursor is not one this list gave")


def _is(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def page(request: Request, rows: Sequence[tuple[Sequence[Any], T]], limit: int) -> Page[T]:
    """A page of the first ``limit`` of ``rows``, (sort key, item) pairs in order; the caller
    fetched up to ``limit + 1``, so that one more row shows there is a next page."""
    shown = [item for _, item in rows[:limit]]
    following = None
    if len(rows) > limit:
        last_key = rows[limit - 1][0]
        query = {**request.query_params, "cursor": encode(last_key), "limit": str(limit)}
        following = f"{request.url.path}?{urlencode(query)}"
    return Page[Any](items=shown, next=following)
