"""Bad input, located: the file, row (or line) and field of each problem, said in the reader's
language.

A problem's text is either plain English or a `Message`: a key of the ``problem.`` words of
the catalogue with the values it names, so that the same problem reads ``bad date
'2026-13-01': no such day`` in English and ``日期“2026-13-01”不存在`` in Chinese. ``str()`` of
a problem is always its English line (logs, the trail); ``said(language)`` is what a person
reads on the command line or a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scheduler.core.words import words

_LIST_SEPARATOR = {"zh": "、", "en": ", "}


class Message:
    """The words ``problem.KEY`` of the catalogue with their values: ``str()`` in English,
    `said` in any language. A value that is a list is joined in the language's way; a value
    that is itself a `Message` is said in the same language."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values = values

    def said(self, language: str) -> str:
        lang = "en" if language == "en" else "zh"
        shown = {name: _shown(value, lang) for name, value in self.values.items()}
        return words(lang, "problem.")[self.key].format(**shown)

    def __str__(self) -> str:
        return self.said("en")

    def __repr__(self) -> str:
        return f"Message({self.key!r}, {self.values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.key, self.values) == (other.key, other.values)

    def __hash__(self) -> int:
        return hash((self.key, tuple(sorted(map(str, self.values.items())))))


class Refused(ValueError):
    """A value refused by a parser (a date, a time, an amount), with its `Message`."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


def message_of(error: ValueError) -> str | Message:
    """The words of a parser's refusal: its `Message` when it has one, else its text."""
    return error.message if isinstance(error, Refused) else str(error)


@dataclass(frozen=True)
class Problem:
    """One problem with the input, printed as ``FILE:ROW: field: message``."""

    filename: str
    row: int | None
    field: str | None
    message: str | Message

    def __str__(self) -> str:
        return f"{self.where('en')}{self.message}"

    def said(self, language: str) -> str:
        """The problem as one line in ``language``: English as `str`; in Chinese
        ``文件 第N行，“列名”列：问题`` with the field's Chinese column name where it has one. A
        problem whose text is plain English stays in the English layout."""
        if language == "en" or not isinstance(self.message, Message):
            return str(self)
        return self.where(language) + self.what(language)

    def where(self, language: str) -> str:
        """``FILE:ROW: field: `` (en) or ``FILE 第N行，字段：`` (zh), empty parts left out."""
        if language == "en":
            place = f"{self.filename}:{self.row}" if self.row is not None else self.filename
            return "".join(f"{part}: " for part in (place, self.field) if part)
        place = f"{self.filename} 第{self.row}行" if self.row is not None else self.filename
        field = field_name(self.field, language) if self.field else ""
        if field and field != self.field and self.row is not None:
            field = f"“{field}”列"
        parts = [part for part in (place, field) if part]
        return "，".join(parts) + "：" if parts else ""

    def what(self, language: str) -> str:
        """The message alone, in ``language``."""
        message = self.message
        return message.said(language) if isinstance(message, Message) else message


def located(language: str, filename: str, line: int | None, label: str | None, what: str) -> str:
    """One located line of a configuration or ruleset file: ``FILE:LINE: LABEL: what`` (en) or
    ``FILE 第N行，LABEL：what`` (zh), empty parts left out; ``label`` (a key, a rule) as given."""
    if language == "en":
        place = f"{filename}:{line}" if line is not None else filename
        return "".join(f"{part}: " for part in (place, label) if part) + what
    place = f"{filename} 第{line}行" if line is not None else filename
    parts = [part for part in (place, label) if part]
    return "，".join(parts) + "：" + what if parts else what


def said(message: str | Message, language: str) -> str:
    """A plain text as it is, a `Message` in ``language``."""
    return message.said(language) if isinstance(message, Message) else message


def field_name(field: str, language: str) -> str:
    """A column or option as the reader knows it: ``date`` → 日期 in Chinese; an option
    (``--unit``) or a column without a Chinese name stays as written."""
    if language == "en":
        return field
    return words(language, "field.").get(field, field)


class InputError(ValueError):
    """The input was refused; nothing was written. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = tuple(problems)

    def said(self, language: str) -> str:
        """Every problem, one per line, in ``language``."""
        return "\n".join(problem.said(language) for problem in self.problems)


def single(
    message: str | Message, filename: str = "", row: int | None = None, field: str | None = None
) -> InputError:
    """An InputError with one problem."""
    return InputError([Problem(filename, row, field, message)])


def _shown(value: object, language: str) -> str:
    if isinstance(value, Message):
        return value.said(language)
    if isinstance(value, list | tuple):
        return _LIST_SEPARATOR[language].join(_shown(item, language) for item in value)
    return str(value)
