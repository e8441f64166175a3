"""Listing pages: the audit listing (台账) with its downloads and the reminder outbox (imports
with their preview live in `scheduler.web.imports`, the scorecard in `scheduler.web.assessment`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.audit import export as audit_export
from scheduler.audit import listing as audit
from scheduler.audit import xlsx as audit_xlsx
from scheduler.core.access import Role, lineage
from scheduler.core.problems import InputError
from scheduler.core.words import word
from scheduler.store import trail
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.store.models_calendar import as_utc
from scheduler.store.models_reminders import PENDING, STATUSES, OutboxEntry
from scheduler.web.kit import (
    PageRoute,
    Visit,
    VisitDep,
    page,
    parents,
    scope_code,
    unit_for,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Year = Annotated[int | None, Query(ge=2000, le=2100)]
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
                trail.changes(
                    session, unit_ids, query.first, query.last, context.settings.zone,
                    lang=visit.lang, book=context.book,
                )
                if format == "xlsx"
                else []
            )  # fmt: skip
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
# Scorecard


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

    def moment(m: datetime | None) -> str:
        return as_utc(m).astimezone(zone).strftime("%Y-%m-%d %H:%M") if m else ""

    def detail(entry: OutboxEntry) -> str:
        if entry.status == PENDING and entry.held_until:
            return word("outbox.held", visit.lang).format(until=moment(entry.held_until))
        return entry.last_error or ""

    return page(
        request,
        visit,
        context,
        "outbox.html",
        entries=entries,
        status=status,
        statuses=STATUSES,
        moment=moment,
        detail=detail,
    )
