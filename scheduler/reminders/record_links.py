"""The record links a digest carries: one ``/r/TOKEN`` per unit in it, for its reader.

A mail's links name its recipient. A group chat's link names the person who must act: the
current holder (lowest person id) of one of the rule's ``responsible`` roles at the unit; a
unit where nobody holds one gets no link in the chat. No links when ``reminders.links`` is off.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.config import Settings
from scheduler.core.rules import RuleBook
from scheduler.reminders.digest import Digest
from scheduler.store import links
from scheduler.store.models import RoleAssignment, Unit


def record_urls(
    session: Session,
    digest: Digest,
    person_id: int | None,
    book: RuleBook,
    settings: Settings,
    key: bytes,
    now: datetime,
) -> dict[str, str]:
    """The record link of each unit code of ``digest`` (issued now, stored hashed)."""
    codes = sorted({line.unit_code for line in digest.lines})
    ids = dict(session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes))).all())
    base = settings.web.base_url.rstrip("/")
    days = settings.reminders.link_days
    found = {}
    for code in codes:
        reader = person_id if person_id is not None else _responsible(session, digest, code, book)
        if reader is None or code not in ids:
            continue
        token = links.issue(session, key, ids[code], reader, now, days)
        found[code] = f"{base}/r/{token}"
    return found


def _responsible(session: Session, digest: Digest, code: str, book: RuleBook) -> int | None:
    roles = {
        role
        for line in digest.lines
        if line.unit_code == code and book.has_rule(line.rule_id)
        for role in book.rule(line.rule_id).responsible
    }
    day = digest.day
    r = RoleAssignment
    return session.scalar(
        select(r.person_id)
        .join(Unit, Unit.id == r.unit_id)
        .where(Unit.code == code, r.role.in_(roles))
        .where((r.valid_from.is_(None)) | (r.valid_from <= day))
        .where((r.valid_to.is_(None)) | (r.valid_to >= day))
        .order_by(r.person_id)
        .limit(1)
    )
