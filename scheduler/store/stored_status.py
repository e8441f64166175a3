"""The status of stored obligations on an as-of day, in SQL.

`scheduler.core.ledger.obligation_on` states one stored entry on a day; the expressions here
state the same over the columns of the ``obligations`` table, so that reads can count and group
statuses in the database instead of turning every row back into an obligation:

* an entry exists on ``as_of`` when it has no ``opens_on`` or opens by then (`exists_on`);
* it is met on ``as_of`` when its ``satisfied_on`` is on or before it;
* the status follows `scheduler.core.compliance.status_on` (waived → exempt, not started →
  upcoming, met → met or met late by the due date, open until due, overdue until the grace
  ends, then missed), an attendance obligation being met or missed at once (`severity`).

The status is given as its place in `scheduler.core.summaries.SEVERITY` (0 is the most
alarming), so that the worst of several is their minimum.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, case, literal, or_
from sqlalchemy.types import Date

from scheduler.core.compliance import Status
from scheduler.core.ledger import ATTEND
from scheduler.core.summaries import SEVERITY
from scheduler.store.models_obligations import StoredObligation

OBLIGATIONS = StoredObligation.__table__
RANK = {status: place for place, status in enumerate(SEVERITY)}
STATUS_AT = dict(enumerate(SEVERITY))
MET = RANK[Status.MET]
DUE_PASSED = tuple(RANK[status] for status in SEVERITY if status.due_passed)


def _day(as_of: date) -> ColumnElement[date]:
    return literal(as_of, Date)


def exists_on(as_of: date) -> ColumnElement[bool]:
    """The stored obligation exists on ``as_of`` (a rolling window or an attendance
    obligation only from the day it opens)."""
    o = OBLIGATIONS.c
    return or_(o.opens_on.is_(None), o.opens_on <= _day(as_of))


def overlapping(first: date, last: date) -> ColumnElement[bool]:
    """Its period overlaps ``[first, last]``."""
    o = OBLIGATIONS.c
    return and_(o.start <= _day(last), o.end >= _day(first))


def severity(as_of: date) -> ColumnElement[int]:
    """The obligation's status on ``as_of`` as its place in SEVERITY."""
    o = OBLIGATIONS.c
    day = _day(as_of)
    met_by_then = o.satisfied_on <= day
    return case(
        (o.waiver_by.is_not(None), RANK[Status.EXEMPT]),
        (o.kind == ATTEND, case((met_by_then, MET), else_=RANK[Status.MISSED])),
        (o.start > day, RANK[Status.UPCOMING]),
        (met_by_then, case((o.satisfied_on <= o.due, MET), else_=RANK[Status.MET_LATE])),
        (day <= o.due, RANK[Status.OPEN]),
        (day <= o.grace_end, RANK[Status.OVERDUE]),
        else_=RANK[Status.MISSED],
    )
