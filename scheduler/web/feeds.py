"""``GET /cal/{token}.ics``: calendar feeds with ETag and Last-Modified, so that clients polling
every hour cost a 304.

An unknown, malformed or revoked token gets the same plain ``404 Not Found`` (nothing tells them
apart). ``If-None-Match`` is answered 304 when it names the current ETag (or ``*``); otherwise
``If-Modified-Since`` is answered 304 only when the content has not changed since that date
(Last-Modified only moves when the content does). A rendered feed is reused while the facts'
fingerprint (`scheduler.calendar.feeds.data_version`) and the local day stay the same, for at most
``calendar.feed_cache_seconds``; revocation is checked on every request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from threading import Lock

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from scheduler.calendar import feeds
from scheduler.calendar.feeds import Published
from scheduler.store.database import transaction
from scheduler.store.models_calendar import CalendarFeed
from scheduler.web.context import WebContext, web_context
from scheduler.web.metrics import count_feed

CALENDAR_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class _Entry:
    published: Published
    version: tuple[object, ...]
    day: date
    made: float


class FeedCache:
    """Rendered feeds of one web process, by feed id."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._entries: dict[int, _Entry] = {}
        self._lock = Lock()

    def get(self, feed_id: int, version: tuple[object, ...], day: date) -> Published | None:
        with self._lock:
            entry = self._entries.get(feed_id)
        fresh = entry is not None and time.monotonic() - entry.made < self.seconds
        if entry is None or not fresh or entry.version != version or entry.day != day:
            return None
        return entry.published

    def put(self, feed_id: int, version: tuple[object, ...], day: date, item: Published) -> None:
        with self._lock:
            self._entries[feed_id] = _Entry(item, version, day, time.monotonic())


def make_router(cache_seconds: int) -> APIRouter:
    """The feed routes, with a cache of their own."""
    router = APIRouter()
    cache = FeedCache(cache_seconds)

    @router.api_route("/cal/{token}.ics", methods=["GET", "HEAD"], include_in_schema=False)
    def calendar_feed(
        token: str,
        request: Request,
        context: WebContext = Depends(web_context),  # noqa: B008
    ) -> Response:
        now = context.now()
        with transaction(context.engine) as session:
            found = feeds.lookup(session, token)
            if found is None:
                count_feed(request, 404)
                return PlainTextResponse("Not Found", status_code=404)
            published = _published(session, context, cache, found, now)
        response = respond(request, published)
        count_feed(request, response.status_code)
        return response

    return router


def _published(
    session: Session,
    context: WebContext,
    cache: FeedCache,
    found: tuple[int, tuple[object, ...]],
    now: datetime,
) -> Published:
    """The cached feed while its facts and day are the same, else a fresh rendering."""
    feed_id, version = found
    published = cache.get(feed_id, version, now.date())
    if published is None:
        feed = session.get_one(CalendarFeed, feed_id)
        published = feeds.publish(session, context.book, context.settings, feed, now)
        cache.put(feed_id, version, now.date(), published)
    return published


def respond(request: Request, published: Published) -> Response:
    """200 with the feed, or 304 when the client's copy is current."""
    headers = {
        "ETag": f'"{published.etag}"',
        "Last-Modified": format_datetime(published.modified.astimezone(UTC), usegmt=True),
        "Cache-Control": "private, no-cache",
    }
    match, since = request.headers.get("if-none-match"), request.headers.get("if-modified-since")
    if not_modified(match, since, published):
        return Response(status_code=304, headers=headers)
    return Response(published.body, media_type=CALENDAR_TYPE, headers=headers)


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, published: Published
) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present; else If-Modified-Since's date."""
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or f'"{published.etag}"' in tags
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return published.modified <= since
