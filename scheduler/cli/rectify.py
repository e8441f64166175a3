"""Commands of 整改 (rectification) items: ``huiqi rectify open|answer|close|reopen|list``.

``--by NAME`` names who acts; when NAME is a user's login, that user's scope applies (the
level above opens, closes and reopens; the unit answers), otherwise the operator may do all.
``list --format csv|xlsx -o FILE`` writes the 整改台账.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from scheduler.audit import rectifications as ledger
from scheduler.cli.kit import (
    DAY,
    App,
    Failure,
    by_option,
    command,
    main,
    read_upload,
    say,
    unit_ids,
    write_atomically,
)
from scheduler.cli.textout import render_table
from scheduler.core.problems import Message
from scheduler.store import rectifications, waivers
from scheduler.store.attachments import KINDS, Upload
from scheduler.store.blobs import blob_store


@main.group("rectify")
def rectify_group() -> None:
    """整改 items: opened a level above a unit, answered by it, closed (销号) or reopened."""


@command(rectify_group, "open")
@click.option("--unit", default=None, help="Unit code (not needed with --event).")
@click.option("--issue", required=True, help="What must be corrected.")
@click.option("--due", required=True, type=DAY, help="By when, YYYY-MM-DD.")
@click.option("--event", "event_id", type=int, default=None, help="From this (returned) event.")
@click.option("--rule", default=None, help="From a missed obligation: its rule id …")
@click.option("--period", default=None, help="… and its period label, e.g. 2021-B1.")
@by_option("Who opens it (a user a level above the unit).")
def rectify_open(app: App, by: str, **fields: Any) -> None:
    """Open a 整改 item against a unit, with a due date."""
    opening = rectifications.Opening(
        fields["issue"], fields["due"], fields["unit"], fields["event_id"], fields["rule"],
        fields["period"],
    )  # fmt: skip
    with app.session() as session:
        actor = waivers.command_line_actor(session, by)
        item = rectifications.open_item(
            session, app.book, opening, actor.name, app.now(), actor.user
        )
        item_id = item.id
    say(app, "rectify_opened", id=item_id)


@command(rectify_group, "answer")
@click.argument("item_id", type=int)
@click.option("--note", required=True, help="What the unit did.")
@click.option("--file", "file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="An optional document (PDF, image, Office file).")  # fmt: skip
@by_option("Who answers (a user of the unit).")
def rectify_answer(app: App, item_id: int, note: str, file: Path | None, by: str) -> None:
    """The unit's answer to an open item: a note and, optionally, a file."""
    upload = None
    if file is not None:
        data = read_upload(app, file)
        upload = (blob_store(app.settings), app.settings.files, Upload(file.name, data, KINDS[-1]))
    with app.session() as session:
        actor = waivers.command_line_actor(session, by)
        rectifications.answer(session, item_id, note, actor.name, app.now(), actor.user, upload)
    say(app, "rectify_answered", id=item_id)


@command(rectify_group, "close")
@click.argument("item_id", type=int)
@click.option("--comment", default="", help="An optional comment.")
@by_option("Who closes it (a user a level above the unit).")
def rectify_close(app: App, item_id: int, comment: str, by: str) -> None:
    """Close (销号) an item."""
    with app.session() as session:
        actor = waivers.command_line_actor(session, by)
        rectifications.close(session, item_id, comment, actor.name, app.now(), actor.user)
    say(app, "rectify_closed", id=item_id)


@command(rectify_group, "reopen")
@click.argument("item_id", type=int)
@click.option("--comment", required=True, help="What is still missing.")
@by_option("Who reopens it (a user a level above the unit).")
def rectify_reopen(app: App, item_id: int, comment: str, by: str) -> None:
    """Reopen an answered or closed item with a comment."""
    with app.session() as session:
        actor = waivers.command_line_actor(session, by)
        rectifications.reopen(session, item_id, comment, actor.name, app.now(), actor.user)
    say(app, "rectify_reopened", id=item_id)


@command(rectify_group, "list")
@click.option("--status", type=click.Choice([*rectifications.STATUSES, "all"]), default="all")
@click.option("--unit", default=None, help="Only this unit.")
@click.option("--subtree", is_flag=True, help="With --unit: and every unit under it.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]),
              default="table")  # fmt: skip
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the 整改台账 here (csv, xlsx).")  # fmt: skip
def rectify_list(
    app: App, status: str, unit: str | None, subtree: bool, fmt: str, output: Path | None
) -> None:
    """整改 items by due date; --format csv|xlsx gives the 整改台账."""
    lang, zone = app.settings.language, app.settings.zone
    with app.session() as session:
        ids = unit_ids(session, unit, subtree, "rectify list")
        items = rectifications.listing(session, ids, None if status == "all" else status)
        rows = [ledger.cells(item, where, lang, zone) for item, where in items]
        if fmt in ("csv", "xlsx"):
            data = (ledger.to_csv if fmt == "csv" else ledger.to_xlsx)(items, lang, zone)
    if fmt in ("csv", "xlsx"):
        if output is None:
            needs = Message("format_needs_output", format=fmt)
            raise Failure(needs.said(app.settings.language))
        write_atomically(output, data)
        say(app, "rectify_written", file=output, count=len(rows))
        return
    keys = [key.removeprefix("rectify_") for key in ledger.COLUMNS]
    if fmt == "json":
        click.echo(json.dumps([dict(zip(keys, row, strict=True)) for row in rows],
                              ensure_ascii=False, indent=1))  # fmt: skip
        return
    body = [[str(cell) for cell in row] for row in rows]
    if not body:
        say(app, "no_rectify_items")
        return
    click.echo(render_table(keys, body, right=(0,)))
