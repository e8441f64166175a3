"""Commands of waivers: ``huiqi waive`` (an admin's direct waiver) and ``huiqi waivers
list|request|approve|refuse``.

The command line is the operator's: ``--by NAME`` names who acts; when NAME is a user's login,
that user's scope applies (a clerk approves only waivers of units whose parent is hers),
otherwise the operator acts as an admin. Nobody approves or refuses her own request.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from scheduler.cli.kit import App, by_option, command, main, say, unit_ids
from scheduler.cli.textout import render_table
from scheduler.core.words import word
from scheduler.store import waivers
from scheduler.store.models import Unit
from scheduler.store.models_waivers import WaiverRequest

STATUSES = ("pending", "approved", "refused", "all")


def _target_options(function: Any) -> Any:
    options = [
        click.option("--unit", required=True, help="Unit code."),
        click.option("--rule", required=True, help="Rule id."),
        click.option("--period", required=True, help="Period label, e.g. 2021-B1."),
        click.option("--reason", required=True, help="Why the obligation should be exempt."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@command(main, "waive")
@_target_options
@by_option("Who approves the waiver (the county's admin).")
def waive(app: App, unit: str, rule: str, period: str, reason: str, by: str) -> None:
    """An admin's direct waiver of one obligation (unit, rule, period): it becomes exempt."""
    with app.session() as session:
        waivers.waive(session, app.book, unit, rule, period, reason, by, app.now())
    say(app, "waived", unit=unit, rule=rule, period=period)


@main.group("waivers")
def waivers_group() -> None:
    """Waiver requests: a clerk asks; a user a level above the unit approves or refuses."""


@command(waivers_group, "list")
@click.option("--status", type=click.Choice(STATUSES), default="pending", show_default=True)
@click.option("--unit", default=None, help="Only this unit.")
@click.option("--subtree", is_flag=True, help="With --unit: and every unit under it.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def waivers_list(app: App, status: str, unit: str | None, subtree: bool, fmt: str) -> None:
    """Waiver requests, pending ones first, newest first."""
    with app.session() as session:
        ids = unit_ids(session, unit, subtree, "waivers list")
        found = waivers.requests(session, ids, None if status == "all" else status)
        rows = [_row(asked, where, app) for asked, where in found]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    keys = ("id", "unit", "rule", "period", "status", "requested_by", "reason", "decided_by")
    body = [[str(row[key] or "") for key in keys] for row in rows]
    click.echo(render_table(list(keys), body, right=(0,)) if body else "(no waiver requests)")


def _row(asked: WaiverRequest, unit: Unit, app: App) -> dict[str, Any]:
    return {
        "id": asked.id,
        "unit": unit.code,
        "rule": asked.rule_id,
        "period": asked.period_label,
        "status": asked.status,
        "reason": asked.reason,
        "requested_by": asked.requested_by,
        "requested_at": _moment(asked.requested_at, app),
        "decided_by": asked.decided_by,
        "decided_at": _moment(asked.decided_at, app) if asked.decided_at else None,
        "comment": asked.comment,
    }


def _moment(moment: datetime, app: App) -> str:
    """A stored time, local (SQLite hands it back naive, as written)."""
    zone = app.settings.zone
    local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    return local.isoformat(timespec="seconds")


@command(waivers_group, "request")
@_target_options
@by_option("Who asks for the waiver.")
def waivers_request(app: App, unit: str, rule: str, period: str, reason: str, by: str) -> None:
    """Ask for a waiver of one obligation; it stays pending until approved or refused."""
    with app.session() as session:
        actor = waivers.command_line_actor(session, by)
        asked = waivers.request(session, app.book, unit, rule, period, reason, actor, app.now())
    state = word("page.waiver_pending", app.settings.language)
    say(app, "waiver_requested", id=asked.id, unit=unit, rule=rule, period=period, state=state)


@command(waivers_group, "approve")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--comment", default="", help="A comment for the requester and the trail.")
@by_option("Who approves it.")
def waivers_approve(app: App, request_id: int, comment: str, by: str) -> None:
    """Approve a pending request: the obligation becomes exempt."""
    _decide(app, request_id, True, comment, by)


@command(waivers_group, "refuse")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--comment", required=True, help="Why it is refused.")
@by_option("Who refuses it.")
def waivers_refuse(app: App, request_id: int, comment: str, by: str) -> None:
    """Refuse a pending request: the obligation keeps its status."""
    _decide(app, request_id, False, comment, by)


def _decide(app: App, request_id: int, approve: bool, comment: str, by: str) -> None:
    with app.session() as session:
        actor = waivers.command_line_actor(session, by)
        asked = waivers.decide(session, request_id, approve, comment, actor, app.now(), app.book)
        what = f"{asked.rule_id} {asked.period_label}"
    state = word(f"page.waiver_{asked.status}", app.settings.language)
    say(app, "waiver_decided", id=request_id, what=what, state=state)
