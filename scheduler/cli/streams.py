"""JSON arrays and CSV written as a stream: a chunk of rows at a time, each encoded by a C
encoder (orjson; the csv module), so that a province's output costs little more than its rows;
and the progress bar of a long import.

`json_array` writes the same text as ``json.dumps(items, ensure_ascii=False, indent=1)`` (the
form every ``--format json`` has had), but for floats below 1e-4, which orjson writes in plain
decimal notation (``0.00001`` for ``1e-05``): the same number.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any, TypeVar

import click
import orjson

CHUNK = 2_000  # rows encoded together
_MARK = b"\x01"  # never raw in orjson's output (control characters are escaped)
_SPACES = bytes.maketrans(_MARK, b" ")

T = TypeVar("T")


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def json_array(items: Iterable[Any], size: int = CHUNK) -> Iterator[bytes]:
    """The bytes of ``json.dumps(list(items), ensure_ascii=False, indent=1) + "\\n"``, ``size``
    items at a time."""
    started = False
    for chunk in chunks(items, size):
        yield (b",\n" if started else b"[\n") + _indented_items(chunk)
        started = True
    yield b"\n]\n" if started else b"[]\n"


def _indented_items(chunk: list[Any]) -> bytes:
    """The items of ``chunk`` as ``indent=1`` would write them inside the array: orjson indents
    by two spaces a level, so each run of 2×d spaces after a newline becomes d spaces."""
    body = orjson.dumps(chunk, option=orjson.OPT_INDENT_2)[2:-2]  # without "[\n" and "\n]"
    depth = 1
    while b"\n" + b"  " * (depth + 1) in body:
        depth += 1
    for level in range(depth, 0, -1):  # deepest first, so no shallower run matches again
        body = body.replace(b"\n" + b"  " * level, b"\n" + _MARK * level)
    return (_MARK + body[2:]).translate(_SPACES)  # the first item's own two spaces: one


def csv_bytes(
    rows: Iterable[Iterable[Any]], encoding: str = "utf-8", size: int = CHUNK
) -> Iterator[bytes]:
    """CSV lines of ``rows`` (the csv module's dialect), encoded, ``size`` rows at a time; a
    ``utf-8-sig`` encoding puts the BOM before the first chunk only."""
    first = True
    for chunk in chunks(rows, size):
        out = io.StringIO()
        csv.writer(out).writerows(chunk)
        text = out.getvalue()
        yield text.encode(encoding if first else encoding.removesuffix("-sig"))
        first = False
    if first:
        yield "".encode(encoding)


def echo(parts: Iterable[bytes]) -> None:
    """Write ``parts`` to standard output as they come, exactly these bytes."""
    for part in parts:
        click.echo(part, nl=False)


def counted(items: Iterable[T], done: Callable[[int], None], every: int = CHUNK) -> Iterator[T]:
    """``items`` as they come, telling ``done`` how many more have passed, ``every`` at a time."""
    count = 0
    for item in items:
        yield item
        count += 1
        if count == every:
            done(count)
            count = 0
    if count:
        done(count)


@contextmanager
def progress_bar(what: str, unit: str = "rows") -> Iterator[Callable[[int], None]]:
    """A function to tell how many more ``unit`` are done: a bar (tqdm) on stderr once the work
    has taken a second and only when stderr is a terminal; nothing otherwise."""
    from tqdm import tqdm

    with tqdm(
        desc=what, unit=unit, unit_scale=True, delay=1.0, leave=False, file=sys.stderr,
        disable=not sys.stderr.isatty(),
    ) as bar:  # fmt: skip
        yield bar.update
