"""Commands of review by the level above: ``huiqi review list|accept|return``.

``--by NAME`` names who reviews; when NAME is a user's login, that user's scope applies (she
reviews the events of units whose parent lies in her subtree), otherwise the operator acts as
an admin. Reviews count for statuses only with ``review.mode: required``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from scheduler.cli.kit import App, by_option, command, main, say
from scheduler.cli.textout import render_table
from scheduler.core.words import word
from scheduler.store import reviews, waivers

STATES = (*reviews.STATES, "all")


@main.group("review")
def review_group() -> None:
    """Review of events by the level above: list, accept, return with a comment."""


@command(review_group, "list")
@click.option("--status", type=click.Choice(STATES), default="pending", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@by_option("Whose queue: a user's login lists the events she may review.")
def review_list(app: App, status: str, fmt: str, by: str) -> None:
    """Current events to review (or reviewed), oldest first."""
    with app.session() as session:
        actor = waivers.command_line_actor(session, by)
        rows = [_row(item, app) for item in reviews.queue(session, actor.user, status)]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    keys = ("event", "unit", "date", "title", "status", "reviewer", "comment")
    body = [[str(row[key] or "") for key in keys] for row in rows]
    if not body:
        say(app, "nothing_to_review")
        return
    click.echo(render_table(list(keys), body, right=(0,)))


def _row(item: reviews.QueueItem, app: App) -> dict[str, Any]:
    review = item.review
    return {
        "event": item.event.id,
        "unit": item.unit.code,
        "unit_name": item.unit.name,
        "date": item.event.date.isoformat(),
        "title": item.event.title,
        "recorded_by": item.event.recorded_by,
        "status": item.state,
        "reviewer": review.reviewer if review else None,
        "reviewed_at": _moment(review.reviewed_at, app) if review else None,
        "comment": review.comment if review else None,
    }


def _moment(moment: datetime, app: App) -> str:
    zone = app.settings.zone
    local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    return local.isoformat(timespec="seconds")


@command(review_group, "accept")
@click.argument("event_id", type=int)
@click.option("--comment", default="", help="An optional comment.")
@by_option("Who accepts it (a user a level above the event's unit).")
def review_accept(app: App, event_id: int, comment: str, by: str) -> None:
    """Accept an event: with review.mode required it counts from now on."""
    _decide(app, event_id, True, comment, by)


@command(review_group, "return")
@click.argument("event_id", type=int)
@click.option("--comment", required=True, help="What the unit should correct.")
@by_option("Who returns it (a user a level above the event's unit).")
def review_return(app: App, event_id: int, comment: str, by: str) -> None:
    """Return an event to its unit with a comment: with review.mode required it does not count."""
    _decide(app, event_id, False, comment, by)


def _decide(app: App, event_id: int, accept: bool, comment: str, by: str) -> None:
    with app.session() as session:
        actor = waivers.command_line_actor(session, by)
        review = reviews.decide(
            session,
            event_id,
            accept,
            comment,
            actor.name,
            app.now(),
            actor.user,
            "review",
            app.book,
        )
        state = review.status
    say(app, "reviewed", id=event_id, state=word(f"page.review_{state}", app.settings.language))
