"""Commands of operations: ``huiqi backup``, ``restore``, ``export`` and ``import-all``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scheduler.cli.kit import App, Failure, command, main, say
from scheduler.config import DEFAULT_CONFIG
from scheduler.core.problems import Message
from scheduler.core.words import word
from scheduler.store import backup as backups
from scheduler.store import dump, schema
from scheduler.store.database import is_initialised

FILE = click.Path(path_type=Path, dir_okay=False)


@command(main, "backup")
@click.argument("file", type=FILE)
def backup_command(app: App, file: Path) -> None:
    """Back up the whole database to FILE (SQLite copy or pg_dump), while huiqi runs."""
    result = backups.backup(app.engine, file)
    revisions = schema.describe(result.revisions)
    say(app, "backup_written", file=result.path, size=result.size, schema=revisions)
    kept_apart = backups.outside_files(app.settings, app.config_path or DEFAULT_CONFIG)
    separator = "、" if app.settings.language == "zh" else ", "
    say(app, "backup_outside", files=separator.join(str(path) for path in kept_apart))


@command(main, "restore")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
def restore_command(app: App, file: Path, force: bool) -> None:
    """Replace the database by the backup FILE (refused over data unless --force)."""
    result = backups.restore(app.new_engine(), file, force)
    restored, now = schema.describe(result.restored), schema.describe(result.migrated_to)
    say(app, "restored", file=result.path, restored=restored, now=now)


@command(main, "export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True,
    help="One JSON object per line: a header, every row of every table, an end line.",
)  # fmt: skip
@click.option("-o", "--output", type=FILE, default=None, help="File to write (default: stdout).")
@click.option("--with-secrets", is_flag=True, help="Include password hashes and browser sessions.")
def export_command(app: App, fmt: str, output: Path | None, with_secrets: bool) -> None:
    """Export every table (users without password hashes unless --with-secrets)."""
    if not is_initialised(app.engine):
        raise Failure(Message("nothing_to_export").said(app.settings.language))
    if output is None:
        dump.export(app.engine, sys.stdout, with_secrets)
        return
    partial = output.with_name(output.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        summary = dump.export(app.engine, out, with_secrets)
    partial.replace(output)
    exported = word("cli.exported", app.settings.language)
    click.echo(exported.format(file=output, rows=summary.total, tables=summary.tables), err=True)


@command(main, "import-all")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def import_all_command(app: App, file: Path) -> None:
    """Load an export into an empty database, all or nothing."""
    summary = dump.import_all(app.new_engine(), file)
    say(app, "imported_all", file=file, rows=summary.total, tables=summary.tables)
