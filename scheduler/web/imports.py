"""Web imports: upload a CSV or XLSX file, see row by row what it would create, update or leave
unchanged (or, for a refused file, which rows are refused and why), then apply it; download a
template to start from.

The preview keeps the uploaded file in the database by its SHA-256 (`scheduler.store.uploads`,
for ``imports.preview_minutes``) and "apply" names that hash, so a file up to
``imports.max_bytes`` travels once. Files are read within the configured bounds
(`scheduler.tables.Limits`); a clerk imports people and events of their own subtree only.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from scheduler.core.access import Role, can_change, lineage
from scheduler.core.importtemplates import example_unit, import_template
from scheduler.core.problems import InputError, Message, field_name, single
from scheduler.core.records import Table
from scheduler.store import registry, uploads
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.tables import Limits, read_table, template_csv, template_xlsx
from scheduler.web.kit import (
    NotFound,
    PageRoute,
    Refused,
    Visit,
    VisitDep,
    checked_form,
    page,
    parents,
    scope_code,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
KINDS = ("events", "people", "units")
UNIT_COLUMN = {"units": "parent", "people": "unit", "events": "unit"}
FORM_OVERHEAD = 64_000  # bytes a multipart form adds around the file
DIGEST = re.compile(r"^[0-9a-f]{64}$")
EXPIRED = Message("preview_expired")
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Preview(Exception):
    """Raised inside the transaction to roll a preview back."""

    def __init__(self, summary: registry.ImportSummary) -> None:
        self.summary = summary


def _limits(visit: Visit) -> Limits:
    return Limits.of(visit.context.settings.imports)


@router.get("/imports")
def import_form(request: Request, visit: VisitDep) -> HTMLResponse:
    if visit.user.role is Role.VIEWER:
        raise Refused
    return _page(request, visit, "events")


def _page(
    request: Request,
    visit: Visit,
    kind: str,
    summary: registry.ImportSummary | None = None,
    problems: list[str] | None = None,
    **values: Any,
) -> HTMLResponse:
    values = {"upload": "", "filename": "", "applied": False, "refused": [], **values}
    return page(
        request,
        visit,
        visit.context,
        "imports.html",
        kind=kind,
        summary=summary,
        problems=problems or [],
        status_code=values.pop("status_code", 422 if problems else 200),
        **values,
    )


@router.get("/imports/template")
def import_template_file(visit: VisitDep, kind: str = "events", format: str = "xlsx") -> Response:
    """An import template (`scheduler.core.importtemplates`) naming one of the user's units."""
    if visit.user.role is Role.VIEWER:
        raise Refused
    if kind not in KINDS or format not in TYPES:
        raise NotFound
    with transaction(visit.context.engine) as session:
        units = registry.example_units(session)
        own = scope_code(session, visit.user)
    mine = [unit for unit in units if unit.code == own] if own else []
    book = visit.context.book
    sheet = import_template(kind, book, visit.lang, example_unit(mine or units, book), visit.today)
    data = template_xlsx(sheet) if format == "xlsx" else template_csv(sheet)
    disposition = f'attachment; filename="{kind}-template.{format}"'
    return Response(data, media_type=TYPES[format], headers={"Content-Disposition": disposition})


@router.post("/imports")
async def import_file(request: Request, visit: VisitDep) -> HTMLResponse:
    if visit.user.role is Role.VIEWER:
        raise Refused
    limit = _limits(visit).max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        problem = Message("upload_too_large", limit=f"{limit:,}").said(visit.lang)
        return _page(request, visit, "events", problems=[problem], status_code=413)
    form = await checked_form(request, visit)
    kind = str(form.get("kind", "events"))
    kind = kind if kind in KINDS else "events"
    try:
        if form.get("action") == "apply":
            return await _apply(request, visit, kind, form)
        return await _preview(request, visit, kind, form)
    except InputError as error:
        problems = [p.said(visit.lang) for p in error.problems]
        return _page(request, visit, kind, problems=problems, refused=_refused(error, visit.lang))


def _refused(error: InputError, lang: str) -> list[tuple[int, str]]:
    """The rows a refused file names, each with its problems (field: what, in ``lang``), in
    row order."""
    by_row: dict[int, list[str]] = {}
    for problem in error.problems:
        if problem.row is not None and problem.row > 1:
            field = _column(problem.field, lang) if problem.field else ""
            by_row.setdefault(problem.row, []).append(field + problem.what(lang))
    separator = "; " if lang == "en" else "；"
    return [(row, separator.join(messages)) for row, messages in sorted(by_row.items())]


def _column(field: str, lang: str) -> str:
    """``date: `` in English, ``“日期”列：`` in Chinese."""
    if lang == "en":
        return f"{field}: "
    return f"“{field_name(field, lang)}”列："


async def _preview(
    request: Request, visit: Visit, kind: str, form: Mapping[str, Any]
) -> HTMLResponse:
    """Read and try the uploaded file (rolled back), then keep it for "apply"."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise single(Message("choose_file"), field="file")
    filename = Path(upload.filename).name
    data = await upload.read(_limits(visit).max_bytes + 1)
    summary = _run_import(visit, kind, filename, data)
    lifetime = timedelta(minutes=visit.context.settings.imports.preview_minutes)
    with transaction(visit.context.engine) as session:
        digest = uploads.keep(session, visit.user.user_id, filename, data, visit.now, lifetime)
    return _page(request, visit, kind, summary, upload=digest, filename=filename)


async def _apply(
    request: Request, visit: Visit, kind: str, form: Mapping[str, Any]
) -> HTMLResponse:
    """Import the file a preview kept, then forget it."""
    digest = str(form.get("upload", ""))
    with transaction(visit.context.engine) as session:
        kept = (
            uploads.find(session, visit.user.user_id, digest, visit.now)
            if DIGEST.match(digest)
            else None
        )
    if kept is None:
        raise single(EXPIRED, field="file")
    filename, data = kept
    summary = _run_import(visit, kind, filename, data, claim=digest)
    return _page(request, visit, kind, summary, filename=filename, applied=True)


def _run_import(
    visit: Visit, kind: str, filename: str, data: bytes, claim: str | None = None
) -> registry.ImportSummary:
    """Import ``data``; without ``claim`` as a preview (rolled back), with it for good, in the
    transaction that claims the kept file of that hash (so it is applied once)."""
    limits = _limits(visit)
    if not data:
        raise single(Message("choose_file"), field="file")
    if len(data) > limits.max_bytes:
        raise single(
            Message("upload_too_large", limit=f"{limits.max_bytes:,}"), filename, field="file"
        )
    table = _table(filename, data, limits)
    context = visit.context
    try:
        with transaction(context.engine) as session:
            if claim and not uploads.claim(session, visit.user.user_id, claim):
                raise single(EXPIRED, field="file")
            _check_scope(session, visit, kind, table)
            summary = _import(session, visit, kind, table)
            if not claim:
                raise _Preview(summary)
    except _Preview as preview:
        return preview.summary
    return summary


def _import(session: Session, visit: Visit, kind: str, table: Table) -> registry.ImportSummary:
    book, actor, now = visit.context.book, visit.user.label, visit.now
    if kind == "events":
        return registry.import_events(session, book, table, actor, now)
    if kind == "people":
        scope = None if visit.user.role is Role.ADMIN else _changeable(session, visit)
        return registry.import_people(session, book, table, actor, now, scope)
    return registry.import_units(session, book, table, actor, now)


def _changeable(session: Session, visit: Visit) -> set[int]:
    """The units the user may change."""
    tree = parents(session)
    return {unit for unit in tree if can_change(visit.user, lineage(unit, tree))}


def _table(filename: str, data: bytes, limits: Limits) -> Table:
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        return read_table(path, limits, name=filename)


def _check_scope(session: Session, visit: Visit, kind: str, table: Table) -> None:
    """A clerk imports people and events of their subtree only; units are the admin's."""
    if visit.user.role is Role.ADMIN:
        return
    if kind == "units":
        raise single(Message("admin_imports_units"), table.filename, field="kind")
    tree = parents(session)
    codes = dict(session.execute(select(Unit.code, Unit.id)).all())
    for number, cells in table.canonical(kind).rows:
        unit_id = codes.get(cells.get(UNIT_COLUMN[kind], ""))
        if unit_id is not None and not can_change(visit.user, lineage(unit_id, tree)):
            raise single(Message("outside_your_units"), table.filename, number, UNIT_COLUMN[kind])
