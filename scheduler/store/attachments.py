"""Attaching documents to events: the checks, the bytes, the row and the trail.

`attach` works inside the caller's transaction: it refuses (`InputError`, nothing written)
an unknown document type, an event that is not current, a unit outside the user's scope, an
empty file, one over ``files.max_bytes`` and one whose content is not an accepted type
(`scheduler.store.filetypes`), before it keeps any bytes. An image gets a JPEG thumbnail
(``files.thumbnail_pixels`` on its longest side). Every attachment is one trail entry
(``attachment.add``). Attachments are never required: nothing in the engine reads them.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.config import FileSettings
from scheduler.core.access import Principal, can_change, can_read, lineage
from scheduler.core.problems import Message, single
from scheduler.store import trail
from scheduler.store.blobs import BlobStore
from scheduler.store.filetypes import FileType, identify, stored_name
from scheduler.store.models import Event, Unit
from scheduler.store.models_attachments import KINDS, Attachment

__all__ = ["KINDS", "Attachment", "Upload", "attach", "by_event", "carry_forward", "find"]


@dataclass(frozen=True)
class Upload:
    """A file as it arrives: its name (a hint only), its bytes and its document type."""

    filename: str
    data: bytes
    kind: str


def attach(
    session: Session,
    store: BlobStore,
    limits: FileSettings,
    event_id: int,
    upload: Upload,
    actor: str,
    now: datetime,
    user: Principal | None = None,
    where: str = "events attach",
) -> Attachment:
    """Attach ``upload`` to the current event ``event_id``; ``user`` (None: the operator, who
    may change everything) must be allowed to change the event's unit."""
    event = _current(session, event_id, where)
    if user is not None and not can_change(user, _lineage(session, event.unit_id)):
        raise single(Message("event_outside_scope", id=event_id), where)
    found = check(upload, limits, where)
    digest = store.put(upload.data)
    thumbnail = _thumbnail(store, upload.data, limits) if found.image else None
    row = Attachment(
        event_id=event.id,
        kind=upload.kind,
        filename=stored_name(upload.filename, found, upload.kind),
        media_type=found.media_type,
        size=len(upload.data),
        sha256=digest,
        thumbnail_sha256=thumbnail,
        uploaded_by=actor,
        uploaded_at=now,
    )
    session.add(row)
    session.flush()
    after = {"document": row.kind, "file": row.filename, "size": row.size, "sha256": digest}
    subject = f"{event.date.isoformat()} {event.title} (#{event.id})".replace("  ", " ")
    trail.record(session, actor, "attachment.add", subject, now, event.unit_id, None, after)
    return row


def check(upload: Upload, limits: FileSettings, where: str) -> FileType:
    """The upload's type, or `InputError`: its document type, size and content."""
    if upload.kind not in KINDS:
        unknown = Message(
            "unknown_document_type", value=upload.kind, shown=repr(upload.kind), choices=KINDS
        )
        raise single(unknown, where, field="type")
    if not upload.data:
        raise single(Message("file_empty"), where, field="file")
    if len(upload.data) > limits.max_bytes:
        larger = Message("attachment_too_large", limit=f"{limits.max_bytes:,}")
        raise single(larger, where, field="file")
    return identify(upload.data, upload.filename, limits.max_pixels, where)


def _current(session: Session, event_id: int, where: str) -> Event:
    event = session.get(Event, event_id)
    if event is None or event.superseded_by is not None or event.voided_at is not None:
        raise single(Message("no_current_event", id=event_id), where)
    return event


def _lineage(session: Session, unit_id: int) -> tuple[int, ...]:
    return lineage(unit_id, dict(session.execute(select(Unit.id, Unit.parent_id)).all()))


def _thumbnail(store: BlobStore, data: bytes, limits: FileSettings) -> str:
    """A JPEG of the image, upright, at most ``thumbnail_pixels`` on its longest side."""
    side = limits.thumbnail_pixels
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (side, side))
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((side, side))
        out = io.BytesIO()
        upright.convert("RGB").save(out, "JPEG", quality=80)
    return store.put(out.getvalue())


def carry_forward(session: Session, old_event_id: int, new_event_id: int) -> int:
    """Copy the attachments of a replaced event version to its new version (the old version
    keeps its own); how many were copied."""
    return carry_forward_many(session, [(old_event_id, new_event_id)])


def carry_forward_many(session: Session, pairs: Sequence[tuple[int, int]]) -> int:
    """`carry_forward` for many (old version, new version) pairs: one query per 500 pairs."""
    new_of = dict(pairs)
    olds = list(new_of)
    copied = 0
    for start in range(0, len(olds), 500):
        chunk = olds[start : start + 500]
        rows = session.scalars(select(Attachment).where(Attachment.event_id.in_(chunk))).all()
        session.add_all(_copy(row, new_of[row.event_id]) for row in rows)
        copied += len(rows)
    return copied


def _copy(row: Attachment, event_id: int) -> Attachment:
    return Attachment(
        event_id=event_id,
        kind=row.kind,
        filename=row.filename,
        media_type=row.media_type,
        size=row.size,
        sha256=row.sha256,
        thumbnail_sha256=row.thumbnail_sha256,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
        copied_from=row.copied_from or row.id,
    )


def by_event(session: Session, event_ids: Collection[int]) -> dict[int, list[Attachment]]:
    """The attachments of these events, by event id, oldest first."""
    found: dict[int, list[Attachment]] = {}
    ids = sorted(set(event_ids))
    for start in range(0, len(ids), 500):
        statement = (
            select(Attachment)
            .where(Attachment.event_id.in_(ids[start : start + 500]))
            .order_by(Attachment.id)
        )
        for row in session.scalars(statement):
            found.setdefault(row.event_id, []).append(row)
    return found


def find(session: Session, attachment_id: int, user: Principal) -> tuple[Attachment, Unit] | None:
    """The attachment and its event's unit when ``user`` may read that unit (None: there is no
    such attachment, or it is outside the user's units: the same answer for both)."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        return None
    event = session.get_one(Event, row.event_id)
    if not can_read(user, _lineage(session, event.unit_id)):
        return None
    return row, session.get_one(Unit, event.unit_id)
