"""Listing pages: the audit listing (台账) with its downloads, the reminder outbox, and imports
with a preview (the scorecard is `scheduler.web.assessment`)."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from scheduler.audit import export as audit_export
from scheduler.audit import listing as audit
from scheduler.audit import xlsx as audit_xlsx
from scheduler.core.access import Role, can_change, lineage
from scheduler.core.problems import InputError, single
from scheduler.core.records import Table
from scheduler.store import registry, trail
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.store.models_calendar import as_utc
from scheduler.store.models_reminders import OutboxEntry
from scheduler.tables import read_table
from scheduler.web.kit import (
    PageRoute,
    Refused,
    Visit,
    VisitDep,
    checked_form,
    page,
    parents,
    scope_code,
    unit_for,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Year = Annotated[int | None, Query(ge=2000, le=2100)]
MAX_UPLOAD = 5_000_000
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


# ----------------------------------------------------------------------------------------------
# Audit listing


def _audit_query(
    session: Session, visit: Visit, year: int | None, period: str | None, filters: dict[str, str]
) -> audit.AuditQuery:
    unit = filters.get("unit") or scope_code(session, visit.user)
    if unit:
        unit_for(session, visit.user, unit)
    rule = filters.get("rule") or None
    status = audit.parse_status(filters.get("status") or None)
    if period:
        return audit.AuditQuery.for_period(period, visit.today, unit=unit, rule=rule, status=status)
    return audit.AuditQuery.for_year(
        year or visit.today.year, visit.today, unit=unit, rule=rule, status=status
    )


@router.get("/audit")
def audit_page(
    request: Request,
    visit: VisitDep,
    year: Year = None,
    period: str = "",
    unit: str = "",
    rule: str = "",
    status: str = "",
    format: str = "",
) -> Response:
    context = visit.context
    filters = {"unit": unit, "rule": rule, "status": status}
    try:
        with transaction(context.engine) as session:
            query = _audit_query(session, visit, year, period, filters)
            listing = audit.audit_listing(session, context.book, query)
            unit_ids = None if query.unit is None else [u.id for u in listing.units]
            changes = (
                trail.changes(session, unit_ids, query.first, query.last, context.settings.zone)
                if format == "xlsx"
                else []
            )
    except InputError as error:
        return page(
            request,
            visit,
            context,
            "message.html",
            status_code=422,
            heading=str(error),
            back="/audit",
        )
    if format in TYPES:
        return _download(visit, listing, format, changes)
    return page(
        request,
        visit,
        context,
        "audit.html",
        listing=listing,
        query=query,
        labels=audit_export.labels(visit.lang),
        rules=context.book.rules,
        statuses=list(audit.Status),
        filters=filters,
        period=period,
        year=query.first.year,
        download_query=str(request.url.query),
    )


def _download(
    visit: Visit, listing: audit.AuditListing, fmt: str, changes: list[trail.Change]
) -> Response:
    settings, lang, zone = visit.context.settings, visit.lang, visit.context.settings.zone
    if fmt == "csv":
        data = audit_export.to_csv(listing, lang, zone)
    elif fmt == "xlsx":
        data = audit_xlsx.to_xlsx(listing, lang, zone, visit.now, changes)
    else:
        context = audit_export.HtmlContext(
            lang, zone, visit.now, audit_export.filters_text(listing, lang)
        )
        data = audit_export.to_html(listing, settings.path(settings.templates), context)
    name = f"{audit_export.labels(lang)['title']}-{listing.query.scope}.{fmt}"
    disposition = f"attachment; filename=\"audit.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=TYPES[fmt], headers={"Content-Disposition": disposition})


# ----------------------------------------------------------------------------------------------
# Outbox


@router.get("/outbox")
def outbox(request: Request, visit: VisitDep, status: str = "") -> HTMLResponse:
    context = visit.context
    with transaction(context.engine) as session:
        statement = (
            select(OutboxEntry, Unit)
            .join(Unit, Unit.id == OutboxEntry.unit_id)
            .order_by(OutboxEntry.day.desc(), OutboxEntry.id.desc())
        )
        if status:
            statement = statement.where(OutboxEntry.status == status)
        if visit.user.role is not Role.ADMIN:
            tree = parents(session)
            readable = [u for u in tree if visit.user.unit_id in lineage(u, tree)]
            statement = statement.where(OutboxEntry.unit_id.in_(readable))
        entries = list(session.execute(statement.limit(500)))
    zone = context.settings.zone
    return page(
        request,
        visit,
        context,
        "outbox.html",
        entries=entries,
        status=status,
        moment=lambda m: as_utc(m).astimezone(zone).strftime("%Y-%m-%d %H:%M") if m else "",
    )


# ----------------------------------------------------------------------------------------------
# Imports


IMPORTERS = {
    "units": registry.import_units,
    "people": registry.import_people,
    "events": registry.import_events,
}
UNIT_COLUMN = {"units": "parent", "people": "unit", "events": "unit"}


class _Preview(Exception):
    """Raised inside the transaction to roll a preview back."""

    def __init__(self, summary: registry.ImportSummary) -> None:
        self.summary = summary


@router.get("/imports")
def import_form(request: Request, visit: VisitDep) -> HTMLResponse:
    if visit.user.role is Role.VIEWER:
        raise Refused
    return page(
        request,
        visit,
        visit.context,
        "imports.html",
        kind="events",
        summary=None,
        problems=[],
        payload="",
        filename="",
        applied=False,
    )


@router.post("/imports")
async def import_file(request: Request, visit: VisitDep) -> HTMLResponse:
    form = await checked_form(request, visit)
    if visit.user.role is Role.VIEWER:
        raise Refused
    kind = str(form.get("kind", "events"))
    kind = kind if kind in IMPORTERS else "events"
    filename, data = await _upload(form)
    apply = form.get("action") == "apply"
    try:
        summary = _run_import(visit, kind, filename, data, apply)
        problems: list[str] = []
    except InputError as error:
        summary, problems = None, [str(problem) for problem in error.problems]
    return page(
        request,
        visit,
        visit.context,
        "imports.html",
        kind=kind,
        summary=summary,
        problems=problems,
        payload=base64.b64encode(data).decode(),
        filename=filename,
        applied=apply and summary is not None,
        status_code=422 if problems else 200,
    )


async def _upload(form: Mapping[str, Any]) -> tuple[str, bytes]:
    """The uploaded file, or the one a preview carried forward in its hidden fields."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_UPLOAD + 1)
        return Path(upload.filename).name, data
    payload = str(form.get("payload", ""))
    name = Path(str(form.get("filename", "upload.csv"))).name
    return name, base64.b64decode(payload.encode()) if payload else b""


def _run_import(
    visit: Visit, kind: str, filename: str, data: bytes, apply: bool
) -> registry.ImportSummary:
    if not data:
        raise single("choose a file", "upload", field="file")
    if len(data) > MAX_UPLOAD:
        raise single("the file is larger than 5 MB", filename, field="file")
    table = _table(filename, data)
    context = visit.context
    try:
        with transaction(context.engine) as session:
            _check_scope(session, visit, kind, table)
            summary = _import(session, visit, kind, table)
            trail.record(
                session,
                visit.user.label,
                f"import.{kind}",
                filename,
                visit.now,
                visit.user.unit_id,
                None,
                {"summary": str(summary)},
            )
            if not apply:
                raise _Preview(summary)
    except _Preview as preview:
        return preview.summary
    return summary


def _import(session: Session, visit: Visit, kind: str, table: Table) -> registry.ImportSummary:
    book = visit.context.book
    if kind == "events":
        return registry.import_events(session, book, table, visit.user.label, visit.now)
    if kind == "people":
        return registry.import_people(session, book, table)
    return registry.import_units(session, book, table)


def _table(filename: str, data: bytes) -> Table:
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        table = read_table(path)
    return Table(filename, table.columns, table.rows)


def _check_scope(session: Session, visit: Visit, kind: str, table: Table) -> None:
    """A clerk imports people and events of their subtree only; units are the admin's."""
    if visit.user.role is Role.ADMIN:
        return
    if kind == "units":
        raise single("only an admin imports units", table.filename, field="kind")
    tree = parents(session)
    codes = dict(session.execute(select(Unit.code, Unit.id)).all())
    for number, cells in table.rows:
        unit_id = codes.get(cells.get(UNIT_COLUMN[kind], ""))
        if unit_id is not None and not can_change(visit.user, lineage(unit_id, tree)):
            raise single("outside your units", table.filename, number, UNIT_COLUMN[kind])
