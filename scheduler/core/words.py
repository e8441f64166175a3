"""Interface words and dates in Chinese (zh, the default) and English (en).

The words live in one gettext catalogue per language, ``scheduler/locale/<lang>/LC_MESSAGES/
huiqi.po`` (compiled beside it to ``huiqi.mo``, which the standard library's `gettext` reads).
Message ids are keys, ``prefix.name``: ``status.met``, ``page.dashboard``, ``audit.title``.
A key missing from a catalogue is a `KeyError`, never a silently English page.
"""

from __future__ import annotations

import gettext
from datetime import date
from functools import cache
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "huiqi"
LANGUAGES = ("zh", "en")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Words:
    """The words of one language under one key prefix: ``words["due"]`` or ``words.due``
    (the attribute form serves templates); ``"due" in words`` asks whether the key exists."""

    def __init__(self, language: str, prefix: str = "") -> None:
        self.language = _lang(language)
        self.prefix = prefix
        self._catalogue = _catalogue(self.language)

    def __getitem__(self, key: str) -> str:
        msgid = self.prefix + key
        text = self._catalogue.gettext(msgid)
        if text == msgid:
            raise KeyError(f"no word {msgid!r} in the {self.language} catalogue")
        return text

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError as error:
            raise AttributeError(str(error)) from None

    def __contains__(self, key: object) -> bool:
        msgid = self.prefix + str(key)
        return self._catalogue.gettext(msgid) != msgid

    def get(self, key: str, default: str) -> str:
        """The word of ``key``, or ``default`` when the catalogue has none."""
        try:
            return self[key]
        except KeyError:
            return default


def words(language: str, prefix: str = "") -> Words:
    """The words of ``language`` whose keys start with ``prefix`` (e.g. ``"page."``)."""
    return Words(language, prefix)


def word(key: str, language: str = "zh") -> str:
    """One word by its whole key: ``word("cli.due", "en")`` → ``"Due"``."""
    return Words(language)[key]


def status_name(status: str, language: str = "zh") -> str:
    """The name of a `Status` (a ``str``: the words import nothing of the engine, whose rules'
    problems are said in them)."""
    return Words(language)[f"status.{status}"]


def format_date(day: date, language: str = "zh") -> str:
    """A date as people write it: 2020年10月16日, or 16 Oct 2020."""
    if _lang(language) == "en":
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def format_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE, languages=[language])


def _lang(language: str) -> str:
    return "en" if language == "en" else "zh"
