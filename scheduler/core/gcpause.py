"""Pausing Python's cyclic garbage collector while building many short-lived, acyclic objects.

Loading a province's facts and evaluating them creates millions of rows, tuples and small
dataclasses and none of them form reference cycles; the collector's passes over the growing
heap then cost about a third of the run (measured with ``bench/evaluate.py``). Reference
counting still frees everything as usual while the collector is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state after it.

    Nested blocks are fine: only the outermost one turns the collector back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
