"""Commands that keep the record: ``huiqi init``, ``rules check``, ``units|people|events
import``, ``template`` and ``events add|void|attach``. Each change names who made it
(``--by``) in the trail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scheduler.cli.kit import (
    App,
    Failure,
    by_option,
    command,
    main,
    read_upload,
    say,
    write_atomically,
)
from scheduler.cli.streams import progress_bar
from scheduler.core.importtemplates import KINDS, ExampleUnit, example_unit, import_template
from scheduler.core.problems import Message
from scheduler.core.words import word, words
from scheduler.rulefiles import read_rulebook
from scheduler.store import attachments, obligations, registry, waivers
from scheduler.store.blobs import blob_store
from scheduler.store.database import UnusableDatabase, migrate
from scheduler.tables import Limits, read_table, template_csv, template_xlsx


@command(main, "init")
def init(app: App) -> None:
    """Create the database or migrate it to the newest schema."""
    from alembic.util import CommandError

    engine = app.new_engine()
    try:
        migrate(engine, app.settings.timezone)
    except CommandError as error:
        cannot = Message("cannot_migrate", reason=error)
        raise Failure(cannot.said(app.settings.language)) from None
    say(app, "database_ready", url=engine.url.render_as_string(hide_password=True))


@main.group(name="obligations")
def obligations_group() -> None:
    """Stored obligations: bring them up to date."""


@command(obligations_group, "refresh")
def obligations_refresh(app: App) -> None:
    """Compute the stored obligations again where the rules, the review mode or the horizon
    changed, or a unit waits (the dashboard reads them once they are up to date)."""
    with app.session() as session:
        written = obligations.settle(session, app.book, app.today())
    say(app, "obligations_refreshed", count=written)


@main.group()
def rules() -> None:
    """Rulesets: check them."""


@command(rules, "check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
def rules_check(app: App, files: tuple[Path, ...]) -> None:
    """Validate ruleset files (default: the configured ones) and summarise them."""
    book = read_rulebook(list(files) or app.settings.rule_paths, app.settings.term_starts)
    lang = app.settings.language
    summary = word("cli.rules_summary", lang).format(
        rules=len(book.rules),
        names=("、" if lang == "zh" else ", ").join(book.names),
        event_kinds=len(book.event_kinds),
        roles=len(book.roles),
        unit_kinds=len(book.unit_kinds),
    )
    lines = [summary]
    for rule in book.rules:
        lines.append(f"  {rule.id:28} {_cadence_text(rule, lang)}  {rule.title(lang)}")
    click.echo("\n".join(lines))


def _cadence_text(rule: Any, lang: str) -> str:
    names = words(lang, "cli.cadence.")
    if rule.is_attend:
        return names["event"]
    if rule.rolling:
        duration = rule.rolling
        shown = str(duration) if lang == "en" else word(f"cli.duration.{duration.unit}", lang)
        return names["within"].format(duration=shown.format(count=duration.count))
    cadence = rule.cadence
    if hasattr(cadence, "years") and hasattr(cadence, "name"):
        return names["term"].format(name=cadence.name, years=cadence.years, start=cadence.start)
    return names["months"].format(months=cadence.months)


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
                summary = service(session, app.book, table, by, app.now(), done, rows=False)
        lang = app.settings.language
        click.echo(word("cli.label", lang).format(label=file, text=summary.describe(lang)))

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
    say(app, "event_recorded", id=event_id)


@command(events, "void")
@click.argument("event_id", type=int)
@click.option("--reason", required=True, help="Why the event no longer counts.")
@by_option("Who voids it.")
def events_void(app: App, event_id: int, reason: str, by: str) -> None:
    """Void an event: it stays in the history but no longer counts."""
    with app.session() as session:
        registry.void_event(session, event_id, reason, by, app.now(), app.book)
    say(app, "event_void", id=event_id)


# ----------------------------------------------------------------------------------------------
# Templates


@command(main, "template")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None,
              help="xlsx (default; with drop-down lists) or csv; else -o's suffix.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write it (default: KIND-template.xlsx or .csv here).")  # fmt: skip
def template(app: App, kind: str, fmt: str | None, output: Path | None) -> None:
    """Write an import template: the header row, one example row and, in XLSX, drop-down
    lists of the kinds and roles."""
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        fmt = suffix if suffix in ("xlsx", "csv") else "xlsx"
    output = output or Path(f"{kind}-template.{fmt}")
    if output.suffix.lower() != f".{fmt}":
        message = word("cli.template_suffix", app.settings.language)
        raise Failure(message.format(file=output, kind=fmt.upper(), ext=fmt))
    sheet = import_template(kind, app.book, app.settings.language, _example(app), app.today())
    write_atomically(output, template_xlsx(sheet) if fmt == "xlsx" else template_csv(sheet))
    lang = app.settings.language
    columns = ("、" if lang == "zh" else ", ").join(sheet.header)
    kind_name = word(f"cli.kind.{kind}", lang)
    click.echo(
        word("cli.template_written", lang).format(file=output, kind=kind_name, columns=columns)
    )


def _example(app: App) -> ExampleUnit:
    """A unit of the database for the example row; the sample unit without a database."""
    try:
        with app.session() as session:
            units = registry.example_units(session)
    except (Failure, UnusableDatabase):
        units = []
    return example_unit(units, app.book)


@command(events, "attach")
@click.argument("event_id", type=int)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--type", "kind", type=click.Choice(attachments.KINDS), default="other", show_default=True,
    help="What the document is.",
)  # fmt: skip
@by_option("Who attaches it; a user's login acts in that user's units.")
def events_attach(app: App, event_id: int, file: Path, kind: str, by: str) -> None:
    """Attach a document (PDF, image, Office file; typed by its content) to an event."""
    upload = attachments.Upload(file.name, read_upload(app, file), kind)
    with app.session() as session:
        actor = waivers.command_line_actor(session, by)
        row = attachments.attach(
            session, blob_store(app.settings), app.settings.files, event_id, upload, actor.name,
            app.now(), actor.user, str(file),
        )  # fmt: skip
        attachment_id, name, digest = row.id, row.filename, row.sha256
    say(app, "attached", id=attachment_id, name=name, digest=digest[:12], event=event_id)
