"""Bad input, located: the file, row (or line) and field of each problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem with the input, printed as ``FILE:ROW: field: message``."""

    filename: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.filename}:{self.row}" if self.row is not None else self.filename
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {field}{self.message}"


class InputError(ValueError):
    """The input was refused; nothing was written. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = tuple(problems)


def single(
    message: str, filename: str = "", row: int | None = None, field: str | None = None
) -> InputError:
    """An InputError with one problem."""
    return InputError([Problem(filename, row, field, message)])
