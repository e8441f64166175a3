"""Commands of the web capability: ``huiqi audit``, ``huiqi users …``, ``huiqi tokens …``."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy.orm import Session

from scheduler import audit, audit_export, trail
from scheduler.cli import DAY, App, command, main
from scheduler.problems import single


@command(main, "audit")
@click.option("--year", type=int, default=None, help="Year (default: the as-of year).")
@click.option("--period", default=None, help="A period label instead of a year, e.g. 2021-Q1.")
@click.option("--unit", default=None, help="Only this unit and the units under it.")
@click.option("--rule", default=None, help="Only this rule.")
@click.option("--status", default=None, help="Only this status: met, met_late, missed, …")
@click.option("--as-of", "as_of", type=DAY, default=None, help="Status day (default: today).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "html"]), required=True, help="File type."
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True)
def audit_command(
    app: App,
    year: int | None,
    period: str | None,
    as_of: date | None,
    fmt: str,
    lang: str | None,
    output: Path,
    **filters: str | None,
) -> None:
    """Write the audit listing (台账) of a year or period as CSV, XLSX or print-ready HTML."""
    day = as_of or app.today()
    query = _query(year, period, day, filters)
    with app.session() as session:
        listing = audit.audit_listing(session, app.book, query)
        changes = listing_trail(session, listing, app.settings.zone) if fmt == "xlsx" else []
    data = render(app, listing, fmt, lang or app.settings.language, changes)
    write_atomically(output, data)
    click.echo(f"{output}: {len(listing.rows)} obligations")


def _query(
    year: int | None, period: str | None, day: date, filters: dict[str, str | None]
) -> audit.AuditQuery:
    if year is not None and period is not None:
        raise single("give --year or --period, not both", "--period")
    status = audit.parse_status(filters.get("status"))
    unit, rule = filters.get("unit"), filters.get("rule")
    if period is not None:
        return audit.AuditQuery.for_period(period, day, unit=unit, rule=rule, status=status)
    return audit.AuditQuery.for_year(year or day.year, day, unit=unit, rule=rule, status=status)


def listing_trail(
    session: Session, listing: audit.AuditListing, zone: ZoneInfo
) -> list[audit.Change]:
    """The changes to the listing's units during its dates (every change without a unit
    filter), for the XLSX's trail sheet."""
    query = listing.query
    unit_ids = None if query.unit is None else [unit.id for unit in listing.units]
    return trail.changes(session, unit_ids, query.first, query.last, zone)


def render(
    app: App, listing: audit.AuditListing, fmt: str, lang: str, trail: list[audit.Change]
) -> bytes:
    """The listing as the bytes of a ``fmt`` file."""
    zone = app.settings.zone
    if fmt == "csv":
        return audit_export.to_csv(listing, lang, zone)
    if fmt == "xlsx":
        from scheduler import audit_xlsx  # openpyxl is slow to import: only when needed

        return audit_xlsx.to_xlsx(listing, lang, zone, app.now(), trail)
    context = audit_export.HtmlContext(
        lang, zone, app.now(), audit_export.filters_text(listing, lang)
    )
    return audit_export.to_html(listing, app.settings.path(app.settings.templates), context)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file: never a half-written file."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise single("no such folder", str(folder), field="--output")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------------------------------------
# Users and tokens


@main.group()
def users() -> None:
    """People who log in to the web app: admin, clerk or viewer of a unit subtree."""


PASSWORD = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="HUIQI_PASSWORD",
    help="The password (asked when not given; or from HUIQI_PASSWORD).",
)


@command(users, "add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "clerk", "viewer"]), required=True)
@click.option("--unit", default=None, help="Unit code (clerk and viewer: their subtree).")
@click.option("--name", "display_name", default="", help="Name shown in the trail.")
@PASSWORD
def users_add(
    app: App, username: str, role: str, unit: str | None, display_name: str, password: str
) -> None:
    """Create a user."""
    from scheduler import accounts  # argon2 only for these commands

    with app.session() as session:
        accounts.add_user(session, username, role, unit, password, app.now(), display_name)
    click.echo(f"user {username} added ({role}{' of ' + unit if unit else ''})")


@command(users, "passwd")
@click.argument("username")
@PASSWORD
def users_passwd(app: App, username: str, password: str) -> None:
    """Set a user's password (their browser sessions end)."""
    from scheduler import accounts  # argon2 only for these commands

    with app.session() as session:
        accounts.set_password(session, username, password, app.now())
    click.echo(f"password of {username} changed")


@command(users, "disable")
@click.argument("username")
def users_disable(app: App, username: str) -> None:
    """Disable a user: sessions end, tokens stop working; the history keeps the name."""
    from scheduler import accounts  # argon2 only for these commands

    with app.session() as session:
        accounts.disable_user(session, username, app.now())
    click.echo(f"user {username} disabled")


@main.group()
def tokens() -> None:
    """Bearer tokens of the JSON API."""


@command(tokens, "create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
def tokens_create(app: App, username: str, name: str) -> None:
    """Create an API token acting as USERNAME; it is printed once."""
    from scheduler import accounts

    with app.session() as session:
        token = accounts.create_token(session, username, name, app.now())
    click.echo(token)
