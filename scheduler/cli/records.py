"""Commands that keep the record: ``huiqi init``, ``rules check``, ``units|people|events
import`` and ``events add|void``. Each change names who made it (``--by``) in the trail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scheduler.cli.kit import App, Failure, by_option, command, main
from scheduler.cli.streams import progress_bar
from scheduler.rulefiles import read_rulebook
from scheduler.store import registry
from scheduler.store.database import migrate
from scheduler.tables import Limits, read_table


@command(main, "init")
def init(app: App) -> None:
    """Create the database or migrate it to the newest schema."""
    from alembic.util import CommandError

    engine = app.new_engine()
    try:
        migrate(engine, app.settings.timezone)
    except CommandError as error:
        raise Failure(f"the database cannot be migrated: {error}") from None
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@main.group()
def rules() -> None:
    """Rulesets: check them."""


@command(rules, "check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
def rules_check(app: App, files: tuple[Path, ...]) -> None:
    """Validate ruleset files (default: the configured ones) and summarise them."""
    book = read_rulebook(list(files) or app.settings.rule_paths, app.settings.term_starts)
    lines = [
        f"{len(book.rules)} rules in {', '.join(book.names)}; "
        f"{len(book.event_kinds)} event kinds, {len(book.roles)} roles, "
        f"{len(book.unit_kinds)} unit kinds"
    ]
    for rule in book.rules:
        lines.append(f"  {rule.id:28} {_cadence_text(rule)}  {rule.title.zh}")
    click.echo("\n".join(lines))


def _cadence_text(rule: Any) -> str:
    if rule.is_attend:
        return "every event"
    if rule.rolling:
        return f"within {rule.rolling}"
    cadence = rule.cadence
    if hasattr(cadence, "years") and hasattr(cadence, "name"):
        return f"term {cadence.name} ({cadence.years} years from {cadence.start})"
    return f"every {cadence.months} month(s)"


# ----------------------------------------------------------------------------------------------
# Imports and evidence


def _import(kind: str, service: Callable[..., registry.ImportSummary]) -> None:
    group = main.commands[kind]
    assert isinstance(group, click.Group)

    @command(group, "import")
    @click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
    @by_option("Who imports the file, for the change trail.")
    def run(app: App, file: Path, by: str) -> None:
        limits = Limits.of(app.settings.imports)
        if kind != "events":
            table = read_table(file, limits)
            with app.session() as session:
                summary = service(session, app.book, table, by, app.now())
        else:  # a stream of rows, with a progress bar on a terminal
            table = read_table(file, limits, stream=True)
            with app.session() as session, progress_bar(f"{file.name}") as done:
                summary = service(session, app.book, table, by, app.now(), done)
        click.echo(f"{file}: {summary}")

    run.help = f"Import {kind} from a CSV or XLSX file (one transaction)."  # type: ignore[attr-defined]


@main.group()
def units() -> None:
    """The unit tree: code,name,kind,parent,active_from,active_to plus attribute columns."""


@main.group()
def people() -> None:
    """People and their roles: name,email,phone,unit,role,from,to."""


@main.group()
def events() -> None:
    """Evidence: unit,kinds,date,time,title,attended,amount,ref."""


_import("units", registry.import_units)
_import("people", registry.import_people)
_import("events", registry.import_events)


@command(events, "add")
@click.option("--unit", required=True, help="Unit code.")
@click.option("--kinds", required=True, help="Event kinds, ';'-separated.")
@click.option("--date", "day", required=True, help="Date, YYYY-MM-DD.")
@click.option("--time", default="", help="Time, HH:MM.")
@click.option("--title", default="", help="Title.")
@click.option("--attended", default="", help="Roles that attended, ';'-separated.")
@click.option("--amount", default="", help="Amount in yuan.")
@click.option("--ref", default="", help="Your reference; an existing (unit, ref) is replaced.")
@by_option("Who records it.")
def events_add(app: App, by: str, day: str, **cells: str) -> None:
    """Record one event."""
    with app.session() as session:
        event_id = registry.add_event(session, app.book, {**cells, "date": day}, by, app.now())
    click.echo(f"event {event_id} recorded")


@command(events, "void")
@click.argument("event_id", type=int)
@click.option("--reason", required=True, help="Why the event no longer counts.")
@by_option("Who voids it.")
def events_void(app: App, event_id: int, reason: str, by: str) -> None:
    """Void an event: it stays in the history but no longer counts."""
    with app.session() as session:
        registry.void_event(session, event_id, reason, by, app.now())
    click.echo(f"event {event_id} void")
