"""The files web import previews keep, by content hash, until "apply" claims them or they
expire. In the database, so that any web process can apply what another one previewed; a
file is only ever handed back to the user who uploaded it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scheduler.store.models_accounts import ImportUpload


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def keep(
    session: Session,
    user_id: int,
    filename: str,
    data: bytes,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Keep ``data`` for ``user_id`` until ``now + lifetime``; return its SHA-256 (hex).
    Expired files of every user are dropped on the way."""
    digest = hashlib.sha256(data).hexdigest()
    session.execute(delete(ImportUpload).where(ImportUpload.expires_at <= _utc(now)))
    session.execute(
        delete(ImportUpload).where(ImportUpload.user_id == user_id, ImportUpload.digest == digest)
    )
    session.add(
        ImportUpload(
            user_id=user_id,
            digest=digest,
            filename=filename[:200],
            data=data,
            expires_at=_utc(now) + lifetime,
        )
    )
    return digest


def find(session: Session, user_id: int, digest: str, now: datetime) -> tuple[str, bytes] | None:
    """The name and content of an unexpired file ``user_id`` kept, or None."""
    row = session.execute(
        select(ImportUpload.filename, ImportUpload.data, ImportUpload.expires_at).where(
            ImportUpload.user_id == user_id, ImportUpload.digest == digest
        )
    ).first()
    if row is None or _utc(row.expires_at) <= _utc(now):
        return None
    return row.filename, row.data


def claim(session: Session, user_id: int, digest: str) -> bool:
    """Take a kept file for good, inside the transaction that applies it: True for the one
    transaction that removed it, False for any other (a second click on "apply")."""
    removed = session.execute(
        delete(ImportUpload).where(ImportUpload.user_id == user_id, ImportUpload.digest == digest)
    )
    return bool(getattr(removed, "rowcount", 0) == 1)
