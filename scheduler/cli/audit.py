"""``huiqi audit``: the audit listing (台账) as CSV, XLSX, print-ready HTML, or a ZIP of the
XLSX with every document of its evidence (`scheduler.audit.bundle`), streamed into the file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import click
from sqlalchemy.orm import Session

from scheduler.audit import bundle
from scheduler.audit import export as audit_export
from scheduler.audit import listing as audit
from scheduler.audit.export import local_time
from scheduler.cli.kit import DAY, App, command, main, say, write_atomically
from scheduler.core.gcpause import gc_paused
from scheduler.core.problems import Message, single
from scheduler.store import trail
from scheduler.store.blobs import blob_store


@command(main, "audit")
@click.option("--year", type=int, default=None, help="Year (default: the as-of year).")
@click.option("--period", default=None, help="A period label instead of a year, e.g. 2021-Q1.")
@click.option("--unit", default=None, help="Only this unit and the units under it.")
@click.option("--rule", default=None, help="Only this rule.")
@click.option("--status", default=None, help="Only this status: met, met_late, missed, …")
@click.option("--as-of", "as_of", type=DAY, default=None, help="Status day (default: today).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "html", "zip"]),
    required=True,
    help="File type (zip: the XLSX with the documents).",
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
    """Write the audit listing (台账) of a year or period as CSV, XLSX, print-ready HTML or a
    ZIP of the XLSX and its documents."""
    day = as_of or app.today()
    query = _query(year, period, day, filters)
    lang = lang or app.settings.language
    with app.session() as session:
        listing = audit.audit_listing(session, app.book, query)
        changes = listing_trail(session, listing, app, lang) if fmt == "xlsx" else []
        documents = bundle.documents_of(session, listing) if fmt in ("zip", "html") else []
    if fmt == "zip":
        count = _write_zip(app, output, listing, lang, documents)
        say(app, "audit_zip_written", file=output, obligations=len(listing.rows), documents=count)
        return
    data = render(app, listing, fmt, lang, changes, documents)
    write_atomically(output, data)
    say(app, "audit_written", file=output, obligations=len(listing.rows))


def _write_zip(
    app: App,
    output: Path,
    listing: audit.AuditListing,
    lang: str,
    documents: list[bundle.Document],
) -> int:
    """Stream the bundle into a temporary file beside ``output``, then rename it: never a
    half-written ZIP. The trail is read first; the XLSX is made in a forked child process while
    the documents are copied (`bundle.write_zip`)."""
    from scheduler.audit import xlsx as audit_xlsx

    folder = output.resolve().parent
    if not folder.is_dir():
        raise single(Message("no_such_folder"), str(folder), field="--output")
    now, zone = app.now(), app.settings.zone

    with gc_paused(), app.session() as session:  # thousands of rows, no garbage
        changes = listing_trail(session, listing, app, lang)

    def workbook(linked: Sequence[bundle.Document]) -> bytes:
        return audit_xlsx.to_xlsx(listing, lang, zone, now, changes, linked)

    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            name = f"{output.stem}.xlsx"
            count = bundle.write_zip(out, name, workbook, documents, blob_store(app.settings),
                                     local_time(now, zone), forked=True)  # fmt: skip
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def _query(
    year: int | None, period: str | None, day: date, filters: dict[str, str | None]
) -> audit.AuditQuery:
    if year is not None and period is not None:
        raise single(Message("year_or_period"), "--period")
    status = audit.parse_status(filters.get("status"))
    unit, rule = filters.get("unit"), filters.get("rule")
    if period is not None:
        return audit.AuditQuery.for_period(period, day, unit=unit, rule=rule, status=status)
    return audit.AuditQuery.for_year(year or day.year, day, unit=unit, rule=rule, status=status)


def listing_trail(
    session: Session, listing: audit.AuditListing, app: App, lang: str
) -> list[trail.Change]:
    """The changes to the listing's units during its dates (every change without a unit
    filter), in words of ``lang``, for the XLSX's trail sheet."""
    query = listing.query
    unit_ids = None if query.unit is None else [unit.id for unit in listing.units]
    zone = app.settings.zone
    return trail.changes(session, unit_ids, query.first, query.last, zone, lang=lang, book=app.book)


def render(
    app: App,
    listing: audit.AuditListing,
    fmt: str,
    lang: str,
    changes: list[trail.Change],
    documents: Sequence[bundle.Document] = (),
) -> bytes:
    """The listing as the bytes of a ``fmt`` file (the print version lists ``documents`` by
    obligation, unlinked: a file has no web session to download them with)."""
    zone = app.settings.zone
    if fmt == "csv":
        return audit_export.to_csv(listing, lang, zone)
    if fmt == "xlsx":
        from scheduler.audit import (
            xlsx as audit_xlsx,  # XlsxWriter: imported only when needed
        )

        return audit_xlsx.to_xlsx(listing, lang, zone, app.now(), changes)
    context = audit_export.HtmlContext(
        lang, zone, app.now(), audit_export.filters_text(listing, lang), documents
    )
    return audit_export.to_html(listing, app.settings.path(app.settings.templates), context)
