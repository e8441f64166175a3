"""A small per-process cache of computed pages' data, valid while the facts stay the same.

A value is reused while the fingerprint of the facts (`fingerprint`: one statement) is unchanged
and it is younger than ``web.cache_seconds``; any change made through huiqi (events added,
replaced or voided, waivers, units, and every change written to the trail) changes the
fingerprint at once. A unit edited in place by a command-line import shows within the TTL.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.store.models import ChangeRecord, Event, Unit, Waiver

T = TypeVar("T")


def fingerprint(session: Session) -> tuple[object, ...]:
    """What changes whenever the facts a page shows change (one statement)."""
    columns: list[Any] = [  # maxima read from their indexes (a void is in the trail)
        func.max(Event.id),
        func.max(Waiver.id),
        func.max(Unit.id),
        func.max(ChangeRecord.id),
    ]
    return tuple(session.execute(select(*(select(c).scalar_subquery() for c in columns))).one())


class Memo:
    """Values by key, each tagged with the fingerprint and time it was computed for."""

    def __init__(self, seconds: float, size: int = 64) -> None:
        self.seconds = seconds
        self.size = size
        self._values: OrderedDict[Hashable, tuple[tuple[object, ...], float, Any]] = OrderedDict()
        self._lock = Lock()

    def get(self, key: Hashable, version: tuple[object, ...], compute: Callable[[], T]) -> T:
        """The value of ``key`` for ``version``, computed only when missing or stale."""
        now = time.monotonic()
        with self._lock:
            found = self._values.get(key)
        if found is not None and found[0] == version and now - found[1] < self.seconds:
            return found[2]
        value = compute()
        with self._lock:
            self._values[key] = (version, now, value)
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value


_MEMOS: dict[tuple[int, str], Memo] = {}
_MEMOS_LOCK = Lock()


def memo_of(owner: object, name: str, seconds: float) -> Memo:
    """The memo called ``name`` of an app context (created on first use, dropped with it)."""
    key = (id(owner), name)
    with _MEMOS_LOCK:
        if key not in _MEMOS:
            _MEMOS[key] = Memo(seconds)
            weakref.finalize(owner, _MEMOS.pop, key, None)
        return _MEMOS[key]
