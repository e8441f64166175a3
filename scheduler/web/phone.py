"""The phone pages of a reminder's record link (``/r/TOKEN``): no login, one step a screen.

1. ``GET /r/TOKEN``: the unit's open and overdue obligations (what the digest listed), each a
   large button, and "another meeting".
2. ``GET /r/TOKEN/record?rule=&period=``: a plain form: kinds (the obligation's preselected),
   the date (a native date input, today by default), who attended (the unit's role holders, as
   checkboxes), a title. ``POST`` records it through the evidence service at the link's unit
   only, as "经提醒链接由NAME录入", and redirects (303) to
3. ``GET /r/TOKEN/done?rule=&period=``: the obligation as it stands now.

Plain HTML forms and no script: WeCom's and DingTalk's in-app browsers and plain-http intranets
all work. The token in the path is the credential, so a cross-site form cannot post without
knowing it (CSRF-safe); answers carry ``Referrer-Policy: no-referrer`` and ``Cache-Control:
no-store`` so the token leaks neither to other sites nor into caches. Expired, tampered,
revoked and over-used links get a page saying why (410, 403, 410, 429).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.config import FileSettings
from scheduler.core.access import can_change, lineage
from scheduler.core.compliance import Obligation, Status
from scheduler.core.links import Refusal, TokenRefused
from scheduler.core.problems import InputError
from scheduler.core.rules import Rule
from scheduler.core.words import format_date, status_name, words
from scheduler.store import attachments, links, reports
from scheduler.store.blobs import blob_store
from scheduler.store.database import transaction
from scheduler.store.models import Person, RoleAssignment
from scheduler.web.attachments import body_refusal, posted_files
from scheduler.web.context import WebContext, web_context
from scheduler.web.kit import (
    NotFound,
    PageRoute,
    Refused,
    VisitDep,
    checked_form,
    language,
    local_path,
    page,
    parents,
)

router = APIRouter(include_in_schema=False)
Context = Depends(web_context)
_ACTIVE = frozenset({Status.OPEN, Status.OVERDUE})
_LOOKBACK = timedelta(days=400)
STATUS_OF = {
    Refusal.TAMPERED: 403,
    Refusal.EXPIRED: 410,
    Refusal.REVOKED: 410,
    Refusal.BUSY: 429,
    Refusal.NOT_TODAY: 410,
    Refusal.CLOSED: 410,
}
PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def phone_page(request: Request, context: WebContext, name: str, **values: Any) -> HTMLResponse:
    """A phone page (``templates/web/<name>``) with the ``phone.`` words as ``p``."""
    lang = language(request, context)
    response = page(request, None, context, name, p=words(lang, "phone."), **values)
    response.headers.update(PRIVATE)
    return response


def refused_page(request: Request, context: WebContext, reason: Refusal) -> HTMLResponse:
    """The page telling why a link cannot be used."""
    return phone_page(
        request, context, "phone_refused.html", reason=reason.value,
        status_code=STATUS_OF[reason],
    )  # fmt: skip


@router.get("/r/{token}")
def choose(request: Request, token: str, context: WebContext = Context) -> Response:
    """Step 1: which obligation to record for."""
    now = context.now()
    with transaction(context.engine) as session:
        try:
            holder = _holder(session, context, token)
        except TokenRefused as refusal:
            return refused_page(request, context, refusal.reason)
        due = _obligations(session, context, holder, now.date())
    lang = language(request, context)
    items = [(rule, o, _query(rule.id, o.period.label)) for rule, o in due]
    return phone_page(
        request, context, "phone_choose.html", token=token, holder=holder, items=items,
        title_of=lambda rule: rule.title(lang), due_of=lambda o: format_date(o.due, lang),
    )  # fmt: skip


@router.get("/r/{token}/record")
def form(
    request: Request, token: str, rule: str = "", period: str = "", context: WebContext = Context
) -> Response:
    """Step 2: the form, kinds preselected from the chosen obligation."""
    with transaction(context.engine) as session:
        try:
            holder = _holder(session, context, token)
        except TokenRefused as refusal:
            return refused_page(request, context, refusal.reason)
        values = _defaults(context, rule, context.now().date(), request)
        return _form_page(request, context, session, holder, token, rule, period, values, {})


@router.post("/r/{token}/record")
async def record(request: Request, token: str, context: WebContext = Context) -> Response:
    """Record the meeting at the link's unit, with its optional photo or file of the minutes;
    on a bad field or file the form comes back and nothing is saved."""
    limits = context.settings.files
    too_big = body_refusal(request, limits)
    posted = await request.form() if too_big is None else None
    rule = str(posted.get("rule", "")) if posted else str(request.query_params.get("rule", ""))
    period = str(posted.get("period", "")) if posted else ""
    values = _posted_values(posted, context, rule, request)
    now = context.now()
    lang = language(request, context)
    with transaction(context.engine) as session:
        try:
            holder = _holder(session, context, token)
        except TokenRefused as refusal:
            return refused_page(request, context, refusal.reason)
        errors = _file_error(context, lang) if too_big else _check(values, now.date(), lang)
        try:
            files = await _checked_files(posted, limits) if posted and not errors else []
            if not errors:
                event_id = links.record_event(
                    session, context.book, context.settings, holder, _cells(values), now
                )
                _attach(session, context, holder, event_id, files, now)
        except InputError as error:
            errors = {p.field or "": p.what(lang) for p in error.problems}
            if lang != "en" and ("file" in errors or "type" in errors):
                errors = _file_error(context, lang)  # the checker's reasons are English
        if errors:
            return _form_page(
                request, context, session, holder, token, rule, period, values, errors,
                413 if too_big else None,
            )  # fmt: skip
    target = f"/r/{token}/done?{_query(rule, period)}"
    return RedirectResponse(target, status_code=303, headers=PRIVATE)


def _file_error(context: WebContext, lang: str) -> dict[str, str]:
    """A refused file, said in the reader's words: what may be sent, and how large."""
    size = context.settings.files.max_bytes // 1_000_000
    return {"file": words(lang, "phone.")["file_refused"].format(size=size)}


def _posted_values(posted: Any, context: WebContext, rule: str, request: Request) -> dict[str, Any]:
    if posted is None:  # a body too large to read: the form as it starts
        return _defaults(context, rule, context.now().date(), request)
    return {
        "kinds": [str(v) for v in posted.getlist("kinds")],
        "attended": [str(v) for v in posted.getlist("attended")],
        "date": str(posted.get("date", "")).strip(),
        "title": str(posted.get("title", "")).strip(),
        "attachment_type": str(posted.get("attachment_type", "minutes")),
    }


async def _checked_files(posted: Any, limits: FileSettings) -> list[attachments.Upload]:
    """The optional file of the form, checked (type by content, size) before anything is
    recorded, so a refused file saves nothing."""
    files = await posted_files(posted, limits, {"file": "attachment_type"})
    for upload in files:
        attachments.check(upload, limits, "upload")
    return files


def _attach(
    session: Session,
    context: WebContext,
    holder: links.LinkHolder,
    event_id: int,
    files: list[attachments.Upload],
    now: datetime,
) -> None:
    """Keep the checked files with the new event, in the trail under the link's person."""
    store = blob_store(context.settings)
    actor = links.link_actor(holder.person_name, context.settings)
    for upload in files:
        attachments.attach(
            session, store, context.settings.files, event_id, upload, actor, now, None, "upload"
        )


@router.get("/r/{token}/done")
def done(
    request: Request, token: str, rule: str = "", period: str = "", context: WebContext = Context
) -> Response:
    """Step 3: recorded; the obligation as it stands now."""
    now = context.now()
    lang = language(request, context)
    with transaction(context.engine) as session:
        try:
            holder = _holder(session, context, token)
        except TokenRefused as refusal:
            return refused_page(request, context, refusal.reason)
        found = _obligation(session, context, holder, rule, period, now.date())
    status = status_name(found[1].status, lang) if found else ""
    title = found[0].title(lang) if found else ""
    return phone_page(
        request, context, "phone_done.html", token=token, holder=holder, status=status,
        rule_title=title,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------


def _holder(session: Session, context: WebContext, token: str) -> links.LinkHolder:
    key = links.secret_key()
    uses = context.settings.reminders.link_uses_per_hour
    return links.check(session, key, token, context.now(), uses)


def _query(rule: str, period: str) -> str:
    return urlencode({"rule": rule, "period": period})


def _obligations(
    session: Session, context: WebContext, holder: links.LinkHolder, today: date
) -> list[tuple[Rule, Obligation]]:
    """The unit's open and overdue obligations of count and sum rules, soonest due first."""
    selection = reports.Selection(today, today - _LOOKBACK, today, holder.unit_code)
    _, rules, obligations = reports.selected_obligations(session, context.book, selection)
    by_id = {rule.id: rule for rule in rules}
    found = [
        (by_id[o.rule_id], o)
        for o in obligations
        if o.unit_id == holder.unit_id and o.status in _ACTIVE and not by_id[o.rule_id].is_attend
    ]
    return sorted(found, key=lambda item: (item[1].due, item[0].id))


def _obligation(
    session: Session,
    context: WebContext,
    holder: links.LinkHolder,
    rule: str,
    period: str,
    today: date,
) -> tuple[Rule, Obligation] | None:
    if not context.book.has_rule(rule):
        return None
    selection = reports.Selection(today, today - _LOOKBACK, today, holder.unit_code, rule=rule)
    _, rules, obligations = reports.selected_obligations(session, context.book, selection)
    for o in obligations:
        if o.unit_id == holder.unit_id and o.period.label == period:
            return rules[0], o
    return None


def _defaults(context: WebContext, rule: str, today: date, request: Request) -> dict[str, Any]:
    book, lang = context.book, language(request, context)
    kinds = [book.rule(rule).requirement.kind] if book.has_rule(rule) else []
    title = book.event_kinds[kinds[0]](lang) if kinds and kinds[0] in book.event_kinds else ""
    return {"kinds": kinds, "attended": [], "date": today.isoformat(), "title": title}


def _check(values: Mapping[str, Any], today: date, lang: str) -> dict[str, str]:
    """Field errors the evidence service would not give: no kind, a date after today."""
    p = words(lang, "phone.")
    errors = {}
    if not values["kinds"]:
        errors["kinds"] = p["need_kind"]
    try:
        if date.fromisoformat(values["date"]) > today:
            errors["date"] = p["future"]
    except ValueError:
        errors["date"] = p["bad_date"]
    if not values["title"]:
        errors["title"] = p["need_title"]
    return errors


def _cells(values: Mapping[str, Any]) -> dict[str, str]:
    return {
        "kinds": ";".join(values["kinds"]),
        "date": values["date"],
        "title": values["title"],
        "attended": ";".join(values["attended"]),
    }


def _holders(session: Session, unit_id: int, today: date) -> list[tuple[str, str]]:
    """(role, person name) of the unit's current role holders, by role then name."""
    r = RoleAssignment
    rows = session.execute(
        select(r.role, Person.name)
        .join(Person, Person.id == r.person_id)
        .where(r.unit_id == unit_id)
        .where((r.valid_from.is_(None)) | (r.valid_from <= today))
        .where((r.valid_to.is_(None)) | (r.valid_to >= today))
        .order_by(r.role, Person.name)
    )
    return [(role, name) for role, name in rows]


def _form_page(
    request: Request,
    context: WebContext,
    session: Session,
    holder: links.LinkHolder,
    token: str,
    rule: str,
    period: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    status: int | None = None,
) -> HTMLResponse:
    lang = language(request, context)
    today = context.now().date()
    book = context.book
    return phone_page(
        request, context, "phone_record.html", token=token, holder=holder, rule=rule,
        period=period, values=values, errors=errors, today=today.isoformat(),
        kinds=[(kind, text(lang)) for kind, text in book.event_kinds.items()],
        people=[
            (role, name, book.roles[role](lang) if role in book.roles else role)
            for role, name in _holders(session, holder.unit_id, today)
        ],
        rule_title=book.rule(rule).title(lang) if book.has_rule(rule) else "",
        document_kinds=attachments.KINDS, document_names=words(lang, "trail.document."),
        max_megabytes=context.settings.files.max_bytes // 1_000_000,
        status_code=status or (422 if errors else 200),
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Revoking a person's links (logged in: an admin, or a clerk whose scope holds one of her units)

staff_router = APIRouter(route_class=PageRoute, include_in_schema=False)


@staff_router.post("/people/{person_id}/revoke-links")
async def revoke_links(request: Request, visit: VisitDep, person_id: int) -> HTMLResponse:
    """Revoke every record link of a person; the unit page offers it next to her name."""
    await checked_form(request, visit)
    context = visit.context
    with transaction(context.engine) as session:
        person = session.get(Person, person_id)
        if person is None:
            raise NotFound
        units = session.scalars(
            select(RoleAssignment.unit_id).where(RoleAssignment.person_id == person_id)
        ).all()
        tree = parents(session)
        if not any(can_change(visit.user, lineage(unit, tree)) for unit in units):
            raise Refused
        count = links.revoke_person(session, person_id, visit.user.label, visit.now)
        name = person.name
    heading = words(visit.lang, "page.")["links_revoked"].format(count=count, name=name)
    back = request.headers.get("referer", "/")
    return page(request, visit, context, "message.html", heading=heading, back=_local(back))


def _local(target: str) -> str:
    """Only a path of this site to go back to."""
    path = "/" + target.split("://", 1)[-1].partition("/")[2] if "://" in target else target
    return local_path(path)
