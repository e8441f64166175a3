"""Plain-text tables for the terminal, aligned for Chinese (double-width) characters."""

from __future__ import annotations

from collections.abc import Sequence

from wcwidth import wcswidth


def display_width(text: str) -> int:
    width = wcswidth(text)
    return width if width >= 0 else len(text)


def pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def render_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()
) -> str:
    """Columns separated by two spaces; columns listed in ``right`` are right-aligned."""
    widths = [display_width(cell) for cell in header]
    for row in rows:
        widths = [max(width, display_width(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = []
    for row in (header, *rows):
        cells = [
            pad(cell, width, index in right)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
