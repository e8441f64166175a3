"""Read pages: login, language, dashboard, obligation cell, unit page, scorecard, outbox."""

from __future__ import annotations

import logging
import math
import secrets
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.audit.export import local_time
from scheduler.calendar import meetings
from scheduler.core.access import Principal, can_approve, can_change, lineage
from scheduler.core.compliance import Status
from scheduler.core.rules import SumRequirement
from scheduler.core.summaries import SYMBOLS
from scheduler.core.words import status_name, words
from scheduler.store import (
    accounts,
    attachments,
    rectifications,
    reports,
    reviews,
    throttle,
    trail,
    waivers,
)
from scheduler.store.database import transaction
from scheduler.store.facts import CURRENT
from scheduler.store.models import Event, Person, RoleAssignment, Unit
from scheduler.store.models_calendar import as_utc
from scheduler.store.models_reviews import RETURNED, EventReview
from scheduler.web import views
from scheduler.web.context import WebContext, web_context
from scheduler.web.kit import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    NotFound,
    PageRoute,
    VisitDep,
    checked_form,
    local_path,
    page,
    parents,
    scope_code,
    unit_for,
)
from scheduler.web.memo import fingerprint, memo_of
from scheduler.web.metrics import count_login_failure

log = logging.getLogger("huiqi.web")
router = APIRouter(route_class=PageRoute, include_in_schema=False)
ContextDep = Annotated[WebContext, Depends(web_context)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]


def _safe_next(target: str) -> str:
    """Only local paths: never an open redirect."""
    return local_path(target)


@router.get("/login")
def login_form(request: Request, context: ContextDep, next: str = "/") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        None,
        context,
        "login.html",
        login_csrf=token,
        next=_safe_next(next),
        failed=False,
        wait_minutes=None,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=context.settings.web.secure_cookies,
    )
    return response


@router.post("/login")
def login(
    request: Request,
    context: ContextDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Log in; after too many failures (`throttle`) a 429 with Retry-After, before any hash."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    now, limits = context.now(), login_limits(context)
    address = request.client.host if request.client else "unknown"
    with transaction(context.engine) as session:
        wait = throttle.retry_after(session, username, address, now, limits)
    if wait is not None:
        return _login_page(request, context, expected, next, 429, wait)
    opened = None
    if expected and secrets.compare_digest(csrf, expected):
        with transaction(context.engine) as session:
            user = accounts.authenticate(session, username, password)
            throttle.record(session, username, address, user is not None, now, limits)
            lifetime = timedelta(hours=context.settings.web.session_hours)
            opened = accounts.open_session(session, user, now, lifetime) if user else None
    if opened is None:
        count_login_failure(request, "form")
        log.warning("login refused", extra={"username": username, "client": address})
        return _login_page(request, context, expected, next, 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.cookie,
        httponly=True,
        samesite="lax",
        secure=context.settings.web.secure_cookies,
        max_age=context.settings.web.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


def login_limits(context: WebContext) -> throttle.ThrottleLimits:
    web = context.settings.web
    window = timedelta(minutes=web.login_window_minutes)
    return throttle.ThrottleLimits(web.login_user_failures, web.login_address_failures, window)


def _login_page(
    request: Request,
    context: WebContext,
    csrf: str,
    next: str,
    status: int,
    wait: int | None = None,
) -> HTMLResponse:
    """The login form again: 401 after a wrong password, 429 (Retry-After) when throttled."""
    response = page(
        request,
        None,
        context,
        "login.html",
        login_csrf=csrf,
        next=_safe_next(next),
        failed=status == 401,
        wait_minutes=math.ceil(wait / 60) if wait else None,
        status_code=status,
    )
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


@router.post("/logout")
async def logout(request: Request, visit: VisitDep) -> Response:
    await checked_form(request, visit)
    with transaction(visit.context.engine) as session:
        accounts.close_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE, "en" if lang == "en" else "zh", samesite="lax", max_age=365 * 86400
    )
    return response


# ----------------------------------------------------------------------------------------------
# Dashboard and obligations


@router.get("/")
def dashboard(
    request: Request,
    visit: VisitDep,
    year: Year = None,
    rule: str | None = None,
    open: str | None = None,
    show: str | None = None,
) -> HTMLResponse:
    """The matrices, one rule's opened at a time (``show``, else the first)."""
    year = year or visit.today.year
    book = visit.context.book
    rule = rule if rule and book.has_rule(rule) else None
    context = visit.context
    memo = memo_of(context, "dashboard", context.settings.web.cache_seconds)
    with transaction(context.engine) as session:
        scope = scope_code(session, visit.user)
        blocks = memo.get(
            (scope, year, rule, open, visit.today),
            fingerprint(session),
            lambda: views.dashboard(session, book, scope, year, rule, open, visit.today),
        )
    return page(
        request,
        visit,
        visit.context,
        "dashboard.html",
        blocks=blocks,
        year=year,
        rule=rule,
        rules=book.rules,
        opened=open,
        showing=show if show and book.has_rule(show) else None,
        as_of=visit.today,
        cell_look=cell_looks(visit.lang),
    )


@lru_cache(maxsize=2)
def cell_looks(lang: str) -> dict[Status, tuple[Markup, Markup, Markup]]:
    """Each status's CSS class, symbol and name, escaped once (the matrix has many cells)."""
    return {
        status: (Markup(f"s-{status.value}"), escape(symbol), escape(status_name(status, lang)))
        for status, symbol in SYMBOLS.items()
    }


@router.get("/obligations/{unit}/{rule}/{column}")
def obligation(
    request: Request, visit: VisitDep, unit: str, rule: str, column: str, year: Year = None
) -> HTMLResponse:
    book = visit.context.book
    if not book.has_rule(rule):
        raise NotFound
    the_rule = book.rule(rule)
    year = year or _year_of(column, visit.today.year)
    with transaction(visit.context.engine) as session:
        found = unit_for(session, visit.user, unit)
        rows = views.cell_obligations(session, book, unit, the_rule, column, year, visit.today)
        money_rule = isinstance(the_rule.requirement, SumRequirement)
        evidence = _evidence(session, [i for r in rows for i in r.obligation.evidence])
        changeable = _can_change(session, visit.user, found)
        pending = waivers.pending_at(session, found.id).items()
        requested = {label: asked for (rule_id, label), asked in pending if rule_id == rule}
    return page(
        request,
        visit,
        visit.context,
        "obligation.html",
        unit=found,
        rule=the_rule,
        rows=rows,
        evidence=evidence,
        column=column,
        year=year,
        requirement=views.requirement_text(the_rule, book, visit.lang),
        as_of=visit.today,
        can_change=changeable,
        requested=requested,
        money_rule=money_rule,
    )


def _year_of(column: str, default: int) -> int:
    head = column[:4]
    return int(head) if head.isdigit() and 2000 <= int(head) <= 2100 else default


def _evidence(session: Session, ids: list[int]) -> dict[int, Event]:
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))}


def _can_change(session: Session, user: Principal, unit: Unit) -> bool:
    return can_change(user, lineage(unit.id, parents(session)))


# ----------------------------------------------------------------------------------------------
# Unit page


@router.get("/units/{code}")
def unit_page(request: Request, visit: VisitDep, code: str, year: Year = None) -> HTMLResponse:
    year = year or visit.today.year
    context, zone = visit.context, visit.context.settings.zone
    with transaction(context.engine) as session:
        unit = unit_for(session, visit.user, code)
        selection = reports.year_selection(year, visit.today, None, None)
        selection = reports.Selection(selection.as_of, selection.first, selection.last, code)
        rows = reports.status_rows(session, context.book, selection)
        rows = views.still_open_first(rows)
        start = datetime.combine(date(year, 1, 1), time(0), zone)
        found_meetings = meetings.listing(session, [unit.id], start, start.replace(year=year + 1))
        history = trail.changes(
            session, [unit.id], None, visit.today, zone, 200, lang=visit.lang, book=context.book
        )
        events = _events(session, unit.id)
        reviewed = reviews.states(session, [e.id for e in events])
        chain = lineage(unit.id, parents(session))
        page_data = {
            "unit": unit,
            "rows": rows,
            "year": year,
            "events": events,
            "attached": attachments.by_event(session, [e.id for e in events]),
            "reviewed": reviewed,
            "returned": [e for e in events if _returned(reviewed.get(e.id))],
            "missed": [r for r in rows if r.obligation.status in (Status.MISSED, Status.OVERDUE)],
            "rectifications": [item for item, _ in rectifications.listing(session, [unit.id])],
            "rectify_status": words(visit.lang, "trail.status."),
            "rectify_sources": words(visit.lang, "trail.source."),
            "can_approve": can_approve(visit.user, chain),
            "files": context.settings.files,
            "document_kinds": attachments.KINDS,
            "document_names": words(visit.lang, "trail.document."),
            "meetings": [m for m, _ in found_meetings],
            "people": _people(session, unit.id),
            "history": history,
            "requested": waivers.pending_at(session, unit.id),
            "children": _children(session, unit.id),
            "can_change": can_change(visit.user, chain),
        }
    return page(
        request,
        visit,
        context,
        "unit.html",
        book=context.book,
        as_of=visit.today,
        money_rule=lambda rule: isinstance(rule.requirement, SumRequirement),
        meeting_time=lambda m: as_utc(m).astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        change_time=lambda m: local_time(m, zone).strftime("%Y-%m-%d %H:%M"),
        **page_data,
    )


def _returned(review: EventReview | None) -> bool:
    return review is not None and review.status == RETURNED


def _events(session: Session, unit_id: int) -> list[Event]:
    statement = (
        select(Event)
        .options(selectinload(Event.kinds))
        .where(CURRENT, Event.unit_id == unit_id)
        .order_by(Event.date.desc())
        .limit(200)
    )
    return list(session.scalars(statement))


def _people(session: Session, unit_id: int) -> list[tuple[Person, RoleAssignment]]:
    statement = (
        select(Person, RoleAssignment)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.unit_id == unit_id)
        .order_by(RoleAssignment.role, Person.name)
    )
    return [(p, r) for p, r in session.execute(statement)]


def _children(session: Session, unit_id: int) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.parent_id == unit_id).order_by(Unit.code)))
