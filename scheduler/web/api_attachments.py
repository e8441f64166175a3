"""The JSON API's attachments (included in `scheduler.web.api`'s router): attach a file to an
event (``multipart/form-data`` with ``file`` and ``type``), list an event's attachments, and
download one. The body's length is checked before it is parsed (411 without one, 413 over the
limit); the file is typed by its content; scope is the pages': changing needs the unit in the
caller's subtree (403), reading an attachment outside it is a 404."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from scheduler.core.problems import InputError, single
from scheduler.store import attachments
from scheduler.store.blobs import blob_store
from scheduler.store.database import transaction
from scheduler.store.models import Event, Unit
from scheduler.web import paging
from scheduler.web.api_kit import CallerDep, unit_in_scope, unprocessable
from scheduler.web.api_models import Id
from scheduler.web.attachments import body_refusal, download, posted_files
from scheduler.web.paging import DEFAULT_LIMIT, Cursor, Limit, Page

router = APIRouter()
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "type"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "type": {"type": "string", "enum": list(attachments.KINDS)},
                    },
                }
            }
        },
    }
}


class AttachmentOut(BaseModel):
    id: int
    event: int
    type: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    url: str


def _out(row: attachments.Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=row.id,
        event=row.event_id,
        type=row.kind,
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_by=row.uploaded_by,
        url=f"/api/attachments/{row.id}",
    )


@router.post(
    "/events/{event_id}/attachments",
    response_model=AttachmentOut,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
    responses={411: {"description": "No Content-Length"}, 413: {"description": "Too large"}},
)
async def attach(request: Request, event_id: Id, who: CallerDep) -> AttachmentOut:
    """Attach a PDF, image or Office document to a current event (optional evidence)."""
    context, user = who.context, who.user
    limits = context.settings.files
    with transaction(context.engine) as session:
        unit = _event_unit(session, event_id)
        unit_in_scope(session, user, unit.code, change=True)
    refused = body_refusal(request, limits)
    if refused:
        raise HTTPException(refused[0], str(refused[1]))
    form = await request.form(max_files=1, max_fields=4)
    try:
        files = await posted_files(form, limits, {"file": "type"})
        if not files:
            raise single("a file is required", "api", field="file")
        if not str(form.get("type", "")):
            raise single("a document type is required", "api", field="type")
    except InputError as error:
        raise unprocessable(error) from None
    with transaction(context.engine) as session:
        try:
            row = attachments.attach(
                session,
                blob_store(context.settings),
                limits,
                event_id,
                files[0],
                user.label,
                context.now(),
                user,
                "api",
            )
        except InputError as error:
            raise unprocessable(error) from None
        return _out(row)


def _event_unit(session: Any, event_id: int) -> Unit:
    event = session.get(Event, event_id)
    if event is None:
        raise HTTPException(404, f"no event {event_id}")
    return session.get_one(Unit, event.unit_id)


@router.get("/events/{event_id}/attachments", response_model=Page[AttachmentOut])
def list_attachments(
    request: Request,
    event_id: Id,
    who: CallerDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AttachmentOut]:
    """The attachments of an event (any version, current or in the history), oldest first."""
    after = paging.decode(cursor, [int])
    with transaction(who.context.engine) as session:
        unit = _event_unit(session, event_id)
        unit_in_scope(session, who.user, unit.code)
        statement = select(attachments.Attachment).where(
            attachments.Attachment.event_id == event_id
        )
        if after:
            statement = statement.where(attachments.Attachment.id > after[0])
        rows = session.scalars(statement.order_by(attachments.Attachment.id).limit(limit + 1))
        return paging.page(request, [([row.id], _out(row)) for row in rows], limit)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_attachment(attachment_id: Id, who: CallerDep) -> Response:
    """The file, as a download, to a caller who may read its event's unit (else 404)."""
    with transaction(who.context.engine) as session:
        found = attachments.find(session, attachment_id, who.user)
        if found is None:
            raise HTTPException(404, f"no attachment {attachment_id}")
        row = found[0]
        digest, media_type, size, filename = row.sha256, row.media_type, row.size, row.filename
    try:
        stream = blob_store(who.context.settings).open(digest)
    except FileNotFoundError:
        raise HTTPException(404, f"the file of attachment {attachment_id} is missing") from None
    return download(stream, media_type, size, filename)
