"""Attachments on the pages: attach files to an event, download them, show image thumbnails.

A request that carries files must say how long it is (411 otherwise) and may be at most
``files.max_files`` × ``files.max_bytes`` plus the form around them (413), checked before the
form is parsed; each file is then read up to ``files.max_bytes`` + 1 bytes and typed by its
content (`scheduler.store.attachments`). Files are served only to users who may read the
event's unit, as downloads (``Content-Disposition: attachment``) with
``X-Content-Type-Options: nosniff`` and a sandboxing Content-Security-Policy; an attachment
outside the user's units is a 404, like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from scheduler.config import FileSettings
from scheduler.core.access import can_read, lineage
from scheduler.core.problems import InputError, Message, single
from scheduler.store import attachments
from scheduler.store.blobs import blob_store
from scheduler.store.database import transaction
from scheduler.store.models import Event, Unit
from scheduler.store.models_rectifications import Rectification
from scheduler.web.kit import (
    NotFound,
    PageRoute,
    Visit,
    VisitDep,
    checked_form,
    page,
    parents,
    unit_for,
)
from scheduler.web.messages import problem_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FORM_OVERHEAD = 64_000  # bytes a multipart form adds around its files and fields
CHUNK = 64 * 1024
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-cache",
}


def body_refusal(request: Request, limits: FileSettings) -> tuple[int, Message] | None:
    """(411, why) without a Content-Length, (413, why) when the body exceeds what
    ``limits`` allow; None when the form may be parsed."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        return 411, Message("upload_needs_length")
    if int(declared) > limits.max_files * limits.max_bytes + FORM_OVERHEAD:
        return 413, Message("upload_body_too_large", limit=f"{limits.max_bytes:,}")
    return None


async def posted_files(
    form: Any, limits: FileSettings, fields: Mapping[str, str]
) -> list[attachments.Upload]:
    """The files of the form: for each file field its document type (``fields`` maps a file
    field to the form field naming its type, or to a fixed ``=TYPE``); empty inputs skipped."""
    found = []
    for name, type_field in fields.items():
        kind = type_field[1:] if type_field.startswith("=") else str(form.get(type_field, ""))
        for upload in form.getlist(name):
            if not isinstance(upload, UploadFile) or not upload.filename:
                continue
            data = await upload.read(limits.max_bytes + 1)
            found.append(attachments.Upload(upload.filename, data, kind or "other"))
    if len(found) > limits.max_files:
        raise single(Message("too_many_files", most=limits.max_files), "upload", field="file")
    return found


def download(stream: BinaryIO, media_type: str, size: int, filename: str | None) -> Response:
    """The bytes as a download (``filename``) or, without one, inline (thumbnails)."""
    headers = {**SAFE_HEADERS, "Content-Length": str(size)}
    if filename is not None:
        fallback = "attachment" + (filename[filename.rfind(".") :] if "." in filename else "")
        headers["Content-Disposition"] = (
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
        )
    return StreamingResponse(_chunks(stream), media_type=media_type, headers=headers)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


@router.get("/attachments/{attachment_id}")
def get_attachment(visit: VisitDep, attachment_id: int) -> Response:
    """The file, to users who may read its event's unit."""
    row = _readable(visit, attachment_id)
    stream, _ = _open(visit, row.sha256, row.size)
    return download(stream, row.media_type, row.size, row.filename)


@router.get("/attachments/{attachment_id}/thumbnail")
def get_thumbnail(visit: VisitDep, attachment_id: int) -> Response:
    """An image attachment's thumbnail (a JPEG huiqi made), inline."""
    row = _readable(visit, attachment_id)
    if row.thumbnail_sha256 is None:
        raise NotFound
    stream, size = _open(visit, row.thumbnail_sha256)
    return download(stream, "image/jpeg", size, None)


def _readable(visit: Visit, attachment_id: int) -> attachments.Attachment:
    with transaction(visit.context.engine) as session:
        found = attachments.find(session, attachment_id, visit.user)
        if found is None:
            raise NotFound
        row, _ = found
        session.expunge(row)
        return row


def _open(visit: Visit, digest: str, size: int | None = None) -> tuple[BinaryIO, int]:
    """The stream of ``digest`` and its length (asked of the store unless known)."""
    store = blob_store(visit.context.settings)
    try:
        return store.open(digest), store.size(digest) if size is None else size
    except FileNotFoundError:
        raise NotFound from None


@router.post("/events/{event_id}/attachments")
async def attach(request: Request, visit: VisitDep, event_id: int) -> Response:
    """Attach the posted files to a current event (the unit page's form)."""
    limits = visit.context.settings.files
    with transaction(visit.context.engine) as session:
        event = session.get(Event, event_id)
        if event is None:
            raise NotFound
        code = session.get_one(Unit, event.unit_id).code
        unit_for(session, visit.user, code, change=True)
    back = f"/units/{code}#event-{event_id}"
    refused = body_refusal(request, limits)
    if refused:
        return _problem(request, visit, refused[1].said(visit.lang), back, refused[0])
    form = await checked_form(request, visit)
    try:
        files = await posted_files(form, limits, {"files": "attachment_type", "photo": "=photo"})
        if not files:
            raise single(Message("choose_file"), field="file")
        with transaction(visit.context.engine) as session:
            store_files(visit, session, event_id, files)
    except InputError as error:
        return _problem(request, visit, problem_text(error, visit.lang), back, 422)
    return Response(status_code=303, headers={"Location": back})


def store_files(visit: Visit, session: Any, event_id: int, files: list[attachments.Upload]) -> None:
    """Attach ``files`` to ``event_id`` in the caller's transaction, as the visit's user."""
    store = blob_store(visit.context.settings)
    for upload in files:
        attachments.attach(
            session,
            store,
            visit.context.settings.files,
            event_id,
            upload,
            visit.user.label,
            visit.now,
            visit.user,
            "upload",
        )


def _problem(request: Request, visit: Visit, message: str, back: str, status: int) -> Response:
    return page(
        request,
        visit,
        visit.context,
        "message.html",
        status_code=status,
        heading=message,
        back=back,
    )


@router.get("/rectifications/{item_id}/file")
def get_answer_file(visit: VisitDep, item_id: int) -> Response:
    """The file a unit sent with its answer to a 整改 item, to users who may read the unit."""
    with transaction(visit.context.engine) as session:
        item = session.get(Rectification, item_id)
        if item is None or item.answer_sha256 is None:
            raise NotFound
        chain = lineage(item.unit_id, parents(session))
        if not can_read(visit.user, chain):
            raise NotFound
        digest, media_type = item.answer_sha256, item.answer_media_type or "application/pdf"
        name = item.answer_file or "answer"
    stream, size = _open(visit, digest)
    return download(stream, media_type, size, name)
