"""Listing pages: the audit listing (台账) with its downloads and the reminder outbox (imports
with their preview live in `scheduler.web.imports`, the scorecard in `scheduler.web.assessment`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.audit import bundle
from scheduler.audit import export as audit_export
from scheduler.audit import listing as audit
from scheduler.audit import xlsx as audit_xlsx
from scheduler.core.access import Principal, Role, can_read, lineage
from scheduler.core.problems import InputError
from scheduler.core.reminders import stage_name
from scheduler.core.rules import RuleBook, SumRequirement
from scheduler.core.words import word, words
from scheduler.store import trail
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.store.models_calendar import as_utc
from scheduler.store.models_reminders import PENDING, STATUSES, OutboxEntry
from scheduler.web import audit_zip, views
from scheduler.web.kit import (
    PageRoute,
    Visit,
    VisitDep,
    page,
    parents,
    scope_code,
    unit_for,
)
from scheduler.web.messages import problem_text

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
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """The listing on screen a page of `AUDIT_PAGE` rows at a time, or a whole download."""
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
                if format in ("xlsx", "zip")
                else []
            )  # fmt: skip
            documents = bundle.documents_of(session, listing) if format in ("zip", "html") else []
            choices = unit_choices(session, visit.user)
    except InputError as error:
        return page(
            request,
            visit,
            context,
            "message.html",
            status_code=422,
            heading=problem_text(error, visit.lang),
            back="/audit",
        )
    if format == "zip":
        return audit_zip.zip_download(visit, listing, changes, documents)
    if format in TYPES:
        return _download(visit, listing, format, changes, documents)
    sections, pages = audit_sections(listing, page_number)
    return page(
        request,
        visit,
        context,
        "audit.html",
        listing=listing,
        sections=sections,
        page_number=min(page_number, pages),
        pages=pages,
        page_link=lambda number: _page_link(request, number),
        units=choices,
        money_rule=lambda rule: isinstance(rule.requirement, SumRequirement),
        query=query,
        labels=audit_export.labels(visit.lang),
        rules=context.book.rules,
        statuses=list(audit.Status),
        filters=filters,
        period=period,
        year=query.first.year,
        download_query=urlencode(
            [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "format")]
        ),
    )


AUDIT_PAGE = 100  # rows on one screen page


def audit_sections(
    listing: audit.AuditListing, number: int
) -> tuple[list[tuple[audit.RuleSummary, list[audit.AuditRow]]], int]:
    """Page ``number`` (past the last: the last) of the listing's rows in rule order, as
    (rule summary, rows) sections, and the number of pages."""
    summaries = listing.summaries()
    ordered = [(line, row) for line in summaries for row in listing.rows_of(line.rule)]
    pages = max(1, -(-len(ordered) // AUDIT_PAGE))
    start = (min(number, pages) - 1) * AUDIT_PAGE
    sections: list[tuple[audit.RuleSummary, list[audit.AuditRow]]] = []
    for line, row in ordered[start : start + AUDIT_PAGE]:
        if not sections or sections[-1][0] is not line:
            sections.append((line, []))
        sections[-1][1].append(row)
    return sections, pages


def _page_link(request: Request, number: int) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return f"{request.url.path}?{urlencode([*query, ('page', str(number))])}"


def unit_choices(session: Session, user: Principal) -> list[tuple[str, str, int]]:
    """The units the user may read, as (code, name, depth) in tree order, for the picker."""
    rows = session.execute(select(Unit.id, Unit.code, Unit.name, Unit.parent_id)).all()
    tree = {unit_id: parent for unit_id, _, _, parent in rows}
    children: dict[int | None, list[tuple[int, str, str]]] = {}
    for unit_id, code, name, parent in rows:
        children.setdefault(parent if parent in tree else None, []).append((unit_id, code, name))
    found: list[tuple[str, str, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit_id, code, name in sorted(children.get(parent, ()), key=lambda u: u[1]):
            if can_read(user, lineage(unit_id, tree)):
                found.append((code, name, depth))
            walk(unit_id, depth + 1)

    walk(None, 0)
    return found


def _download(
    visit: Visit,
    listing: audit.AuditListing,
    fmt: str,
    changes: list[trail.Change],
    documents: list[bundle.Document],
) -> Response:
    settings, lang, zone = visit.context.settings, visit.lang, visit.context.settings.zone
    if fmt == "csv":
        data = audit_export.to_csv(listing, lang, zone)
    elif fmt == "xlsx":
        data = audit_xlsx.to_xlsx(listing, lang, zone, visit.now, changes)
    else:
        filters = audit_export.filters_text(listing, lang)
        # the listing holds only units the visitor may read: each document is hers to download
        context = audit_export.HtmlContext(
            lang, zone, visit.now, filters, documents, lambda d: f"/attachments/{d.attachment_id}"
        )
        data = audit_export.to_html(listing, settings.path(settings.templates), context)
    name = f"{audit_export.labels(lang)['title']}-{listing.query.scope}.{fmt}"
    how = "inline" if fmt == "html" else "attachment"  # the print version opens in the browser
    disposition = f"{how}; filename=\"audit.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=TYPES[fmt], headers={"Content-Disposition": disposition})


def _rule_title(book: RuleBook, rule: str, lang: str) -> str:
    """A rule's title; a clerk notice's kind (`@rectify`, `@returned`) in words."""
    if book.has_rule(rule):
        return book.rule(rule).title(lang)
    return words(lang, "outbox.kind.").get(rule.removeprefix("@"), rule)


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
        names = views.recipient_names(session, [e.recipient for e, _ in entries], visit.lang)
    zone, book, lang = context.settings.zone, context.book, visit.lang

    def moment(m: datetime | None) -> str:
        return as_utc(m).astimezone(zone).strftime("%Y-%m-%d %H:%M") if m else ""

    def detail(entry: OutboxEntry) -> str:
        if entry.status == PENDING and entry.held_until:
            return word("outbox.held", lang).format(until=moment(entry.held_until))
        return entry.last_error or ""

    return page(
        request,
        visit,
        context,
        "outbox.html",
        entries=entries,
        status=status,
        moment=moment,
        detail=detail,
        statuses=STATUSES,
        state=words(lang, "outbox.status."),
        stage=lambda stage: stage_name(stage, lang),
        rule_title=lambda rule: _rule_title(book, rule, lang),
        recipient=lambda key: names.get(key, key),
    )
