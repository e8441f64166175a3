"""整改 pages: a reviewer opens an item against a unit (from the unit page or the review queue:
from a returned event, a missed obligation or free text) with a due date; the unit's clerk
answers with a note and an optional file; the reviewer closes (销号) or reopens it; the
整改台账 downloads as CSV or XLSX.

Scope on every route: an item of a unit the user may not read is a 404, like one that does not
exist; opening, closing and reopening need the level above the unit (`can_approve`), answering
needs the unit itself (`can_change`), else 403. The store (`scheduler.store.rectifications`)
checks again and writes the trail; an answer's file passes the attachments' limits and typing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from scheduler.audit import rectifications as ledger
from scheduler.core.access import Principal, can_approve, can_change, can_read, lineage
from scheduler.core.problems import InputError, Message, single
from scheduler.core.words import words
from scheduler.store import rectifications
from scheduler.store.blobs import blob_store
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.store.models_rectifications import Rectification
from scheduler.web.attachments import body_refusal, posted_files
from scheduler.web.forms import one_line
from scheduler.web.kit import (
    DAY,
    NotFound,
    PageRoute,
    Refused,
    Visit,
    VisitDep,
    checked_form,
    local_path,
    page,
    parents,
    unit_for,
)
from scheduler.web.messages import problem_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
WHERE = "rectify"
Allowed = Callable[[Principal, tuple[int, ...]], bool]
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.post("/units/{code}/rectifications")
async def open_item(request: Request, visit: VisitDep, code: str) -> Response:
    """Open an item against unit ``code``: ``issue``, ``due`` and ``source`` (``text``,
    ``event:ID`` or ``obligation:RULE:PERIOD``)."""
    form = await checked_form(request, visit)
    fields = {key: str(form.get(key, "")).strip() for key in ("issue", "due", "source")}
    back = _back(form, f"/units/{code}#rectifications")
    with transaction(visit.context.engine) as session:
        unit = unit_for(session, visit.user, code)
        if not can_approve(visit.user, lineage(unit.id, parents(session))):
            raise Refused
    try:
        one_line(fields, visit.lang, WHERE)
        opening = _opening(code, fields)
        with transaction(visit.context.engine) as session:
            rectifications.open_item(
                session, visit.context.book, opening, visit.user.label, visit.now, visit.user
            )
    except InputError as error:
        return _message(request, visit, problem_text(error, visit.lang), back)
    return RedirectResponse(back, status_code=303)


def _opening(code: str, fields: Mapping[str, str]) -> rectifications.Opening:
    """The form's item; `InputError` naming the field for a bad due date or source."""
    due = _due(fields["due"])
    kind, _, rest = fields["source"].partition(":")
    if kind in ("", "text"):
        return rectifications.Opening(fields["issue"], due, code)
    if kind == "event" and rest.isdigit():
        return rectifications.Opening(fields["issue"], due, code, int(rest))
    rule, _, period = rest.partition(":")
    if kind == "obligation" and rule and period:
        return rectifications.Opening(fields["issue"], due, code, None, rule, period)
    unknown = Message("unknown_code", what=Message("source"), value=fields["source"])
    raise single(unknown, WHERE, field="source")


def _due(text: str) -> date:
    if not text:
        raise single(Message("required"), WHERE, field="due")
    try:
        if DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        raise single(Message("no_such_day", value=text), WHERE, field="due") from None
    raise single(Message("bad_date", value=text), WHERE, field="due")


@router.post("/rectifications/{item_id}/answer")
async def answer(request: Request, visit: VisitDep, item_id: int) -> Response:
    """The unit's answer: ``note`` and an optional ``file`` (typed by its content)."""
    limits = visit.context.settings.files
    with transaction(visit.context.engine) as session:
        code = _item_unit(session, visit, item_id, can_change)
    back = f"/units/{code}#rectify-{item_id}"
    refused = body_refusal(request, limits)
    if refused:
        return _message(request, visit, refused[1].said(visit.lang), back, refused[0])
    form = await checked_form(request, visit)
    note = str(form.get("note", "")).strip()
    try:
        one_line({"note": note}, visit.lang, WHERE)
        files = await posted_files(form, limits, {"file": "=other"})
        if len(files) > 1:
            raise single(Message("one_answer_file"), WHERE, field="file")
        upload = (blob_store(visit.context.settings), limits, files[0]) if files else None
        with transaction(visit.context.engine) as session:
            rectifications.answer(
                session, item_id, note, visit.user.label, visit.now, visit.user, upload
            )
    except InputError as error:
        return _message(request, visit, problem_text(error, visit.lang), back)
    return RedirectResponse(back, status_code=303)


@router.post("/rectifications/{item_id}/{decision}")
async def decide(request: Request, visit: VisitDep, item_id: int, decision: str) -> Response:
    """Close (销号) or reopen an item, a level above its unit; reopening needs a comment."""
    if decision not in ("close", "reopen"):
        raise NotFound
    with transaction(visit.context.engine) as session:
        code = _item_unit(session, visit, item_id, can_approve)
    form = await checked_form(request, visit)
    back = _back(form, f"/units/{code}#rectify-{item_id}")
    comment = str(form.get("comment", "")).strip()
    step = rectifications.close if decision == "close" else rectifications.reopen
    try:
        one_line({"comment": comment}, visit.lang, WHERE)
        with transaction(visit.context.engine) as session:
            step(session, item_id, comment, visit.user.label, visit.now, visit.user)
    except InputError as error:
        return _message(request, visit, problem_text(error, visit.lang), back)
    return RedirectResponse(back, status_code=303)


def _item_unit(session: Session, visit: Visit, item_id: int, allowed: Allowed) -> str:
    """The code of the item's unit: 404 when there is no item or the user may not read its
    unit, 403 when ``allowed(user, lineage)`` says no."""
    item = session.get(Rectification, item_id)
    if item is None:
        raise NotFound
    chain = lineage(item.unit_id, parents(session))
    if not can_read(visit.user, chain):  # the level above reads the unit too
        raise NotFound
    if not allowed(visit.user, chain):
        raise Refused
    return session.get_one(Unit, item.unit_id).code


@router.get("/rectifications.{fmt}")
def ledger_of_all(visit: VisitDep, fmt: str) -> Response:
    """The 整改台账 of every unit the user may read."""
    with transaction(visit.context.engine) as session:
        tree = parents(session)
        readable = [u for u in tree if can_read(visit.user, lineage(u, tree))]
        return _ledger(visit, session, readable, fmt, _ledger_name(visit))


@router.get("/units/{code}/rectifications.{fmt}")
def ledger_of_unit(visit: VisitDep, code: str, fmt: str) -> Response:
    """The 整改台账 of unit ``code`` and the units under it."""
    with transaction(visit.context.engine) as session:
        unit = unit_for(session, visit.user, code)
        tree = parents(session)
        below = [u for u in tree if unit.id in lineage(u, tree)]
        return _ledger(visit, session, below, fmt, f"{_ledger_name(visit)}-{code}")


def _ledger_name(visit: Visit) -> str:
    """The download's name in the page's language: 整改台账 (zh), 整改-ledger (en)."""
    return words(visit.lang, "page.")["rectify_ledger"].replace(" ", "-")


def _ledger(
    visit: Visit, session: Session, unit_ids: Collection[int], fmt: str, name: str
) -> Response:
    if fmt not in FORMATS:
        raise NotFound
    items = rectifications.listing(session, unit_ids)
    zone = visit.context.settings.zone
    write = ledger.to_csv if fmt == "csv" else ledger.to_xlsx
    data = write(items, visit.lang, zone)
    filename = f"{name}-{visit.today.isoformat()}.{fmt}"
    disposition = (
        f"attachment; filename=\"rectifications.{fmt}\"; filename*=UTF-8''{quote(filename)}"
    )
    headers = {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=FORMATS[fmt], headers=headers)


def _back(form: Mapping[str, Any], default: str) -> str:
    """The form's ``back`` when it is a path of this site, else ``default``."""
    return local_path(str(form.get("back", "")), default)


def _message(
    request: Request, visit: Visit, heading: str, back: str, status: int = 422
) -> HTMLResponse:
    return page(
        request, visit, visit.context, "message.html", status_code=status, heading=heading,
        back=back,
    )  # fmt: skip
