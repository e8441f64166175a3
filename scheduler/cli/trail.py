"""``huiqi trail``: the append-only change trail, as a table, JSON or CSV."""

from __future__ import annotations

from datetime import date
from itertools import chain
from typing import Any

import click

from scheduler.cli import streams
from scheduler.cli.kit import App, command, day_option, main, unit_ids
from scheduler.cli.textout import render_table
from scheduler.core.words import words
from scheduler.store import trail

COLUMNS = ("changed_at", "changed_by", "action", "unit_code", "subject", "before", "after")


@command(main, "trail")
@click.option("--unit", default=None, help="Only changes at this unit.")
@click.option("--subtree", is_flag=True, help="With --unit: and every unit under it.")
@day_option("--from", "First day (default: the first change).")
@day_option("--to", "Last day (default: the last change).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def trail_command(app: App, unit: str | None, subtree: bool, fmt: str, **days: date | None) -> None:
    """The append-only change trail, oldest first: when, who, what, unit, before and after.

    JSON keeps the action key and the fields as values; the table and CSV (UTF-8 with a BOM)
    say them in words of the configured language."""
    zone = app.settings.zone
    with app.session() as session:
        ids = unit_ids(session, unit, subtree, "trail")
        found = trail.entries(session, ids, days["from"], days["to"], zone, newest_first=False)
    if fmt == "json":
        with streams.progress_bar("trail", "entries") as done:
            streams.echo(streams.json_array(_json(e) for e in streams.counted(found, done)))
        return
    lang = app.settings.language
    header = [words(lang, "audit.")[key] for key in COLUMNS]
    if fmt == "csv":
        with streams.progress_bar("trail", "entries") as done:
            shown = streams.counted(found, done)
            cells = (_cells(trail.readable(entry, lang, app.book)) for entry in shown)
            streams.echo(streams.csv_bytes(chain([header], cells), "utf-8-sig"))
        return
    cells = (_cells(trail.readable(entry, lang, app.book)) for entry in found)
    rows = list(cells)
    click.echo(render_table(header, rows) if rows else "(no changes)")


def _json(entry: trail.Entry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(timespec="seconds"),
        "actor": entry.actor,
        "action": entry.action,
        "unit": entry.unit_code,
        "subject": entry.subject,
        "before": entry.before,
        "after": entry.after,
    }


def _cells(change: trail.Change) -> list[str]:
    when = f"{change.at:%Y-%m-%d %H:%M}"
    return [when, change.actor, change.action, change.unit_code or "", change.subject,
            change.before, change.after]  # fmt: skip
