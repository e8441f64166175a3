"""The change trail in words a reader understands. Pure: no database, no clock.

A trail entry keeps a stable action key (``event.add``, ``waiver.approve``) and the state
before and after as plain values by field key (``{"date": "2021-03-12", "kinds": ["hearing"]}``);
the words are chosen when the entry is shown, in the reader's language: the action from the
catalogue (``trail.action.<key>``), each field's name (``trail.field.<key>``), event kinds,
roles and rules by their titles in the ruleset, yes/no for flags. Empty values are never
written, so an entry never reads ``agenda=None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler.core.rules import RuleBook
from scheduler.core.words import words

KIND_FIELDS = frozenset({"kinds"})
ROLE_FIELDS = frozenset({"attended", "role"})
RULE_FIELDS = frozenset({"rule"})
WORD_FIELDS = frozenset({"access", "document", "source", "status"})  # trail.access.clerk …
SEPARATORS = {"zh": ("；", "、", "："), "en": ("; ", ", ", ": ")}


def action_text(action: str, lang: str) -> str:
    """The action's words (the key itself for an action the catalogue does not know)."""
    return words(lang, "trail.action.").get(action, action)


def subject_text(action: str, subject: str, lang: str, book: RuleBook | None) -> str:
    """The subject as shown: a waiver's subject ``RULE PERIOD`` names its rule by title."""
    head, _, rest = subject.partition(" ")
    if action.startswith("waiver.") and book is not None and book.has_rule(head):
        return f"{book.rule(head).title(lang)} {rest}".strip()
    return subject


def values_text(values: Mapping[str, Any] | None, lang: str, book: RuleBook | None) -> str:
    """``field: value`` pairs in the reader's language, e.g. ``日期：2021-03-12；类型：学习``."""
    if not values:
        return ""
    between, in_list, colon = SEPARATORS["en" if lang == "en" else "zh"]
    names = words(lang, "trail.field.")
    parts = [
        f"{names.get(key, key)}{colon}{_value(key, value, lang, book, in_list)}"
        for key, value in values.items()
    ]
    return between.join(parts)


def _value(key: str, value: Any, lang: str, book: RuleBook | None, in_list: str) -> str:
    if isinstance(value, list | tuple):
        return in_list.join(_value(key, item, lang, book, in_list) for item in value)
    if isinstance(value, bool):
        return words(lang, "trail.")["yes" if value else "no"]
    if key in WORD_FIELDS:
        return words(lang, f"trail.{key}.").get(str(value), str(value))
    if key == "kind":  # a unit's kind: 乡镇, not township
        return words(lang, "unit_kind.").get(str(value), str(value))
    if book is not None and isinstance(value, str):
        return _titled(key, value, lang, book)
    return str(value)


def _titled(key: str, value: str, lang: str, book: RuleBook) -> str:
    """An event kind, role or rule by its title; any other text as it is."""
    if key in KIND_FIELDS and value in book.event_kinds:
        return book.event_kinds[value](lang)
    if key in ROLE_FIELDS and value in book.roles:
        return book.roles[value](lang)
    if key in RULE_FIELDS and book.has_rule(value):
        return book.rule(value).title(lang)
    return value
