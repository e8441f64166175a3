"""The engine's input problems in the reader's language: the CLI's one-line messages
(``is required``, ``bad date '…': expected YYYY-MM-DD``) said in Chinese next to a form field.
A message no pattern knows is shown as it is."""

from __future__ import annotations

import re

from scheduler.core.problems import InputError, Message
from scheduler.core.words import words

_PATTERNS = (
    (re.compile(r"^(?:a reason )?is required$|^a reason is required$"), "required"),
    (re.compile(r"^longer than (?P<count>\d+) characters$"), "too_long"),
    (re.compile(r"^bad date '(?P<value>.*)': no such day$"), "no_such_day"),
    (re.compile(r"^bad date '(?P<value>.*)'"), "bad_date"),
    (re.compile(r"^bad time '(?P<value>.*)'"), "bad_time"),
    (re.compile(r"^bad amount '(?P<value>.*)'"), "bad_amount"),
    (re.compile(r"^the end .* is not after the start$"), "end_before_start"),
    (re.compile(r"^a meeting lasts at most (?P<count>\d+) days$"), "too_long_meeting"),
    (re.compile(r"^unknown [a-z ]+ '(?P<value>[^']*)'"), "unknown_value"),
    (re.compile(r"^meeting \d+ has not taken place yet \((?P<value>[^)]*)\)$"), "not_yet_held"),
    (re.compile(r"^meeting \d+ was cancelled$"), "meeting_cancelled"),
    (re.compile(r"^meeting \d+ is (?P<value>\w+)$"), "meeting_is"),
    (re.compile(r"^bad period label '(?P<value>[^']*)'"), "bad_period"),
    (re.compile(r"^no unit of kind '(?P<value>[^']*)' is assessed here$"), "no_such_kind"),
    (re.compile(r"^unit (?P<value>\S+) is outside your units$"), "outside_scope"),
)


def problem_text(error: InputError, lang: str) -> str:
    """A refusal as one line for a message page: the CLI's ``where: field: message`` in
    English, the messages alone in Chinese words otherwise."""
    if lang == "en":
        return str(error)
    return "；".join(form_message(problem.message, lang) for problem in error.problems)


def form_message(message: str | Message, lang: str) -> str:
    """``message`` in ``lang``'s words: a `Message` said in it; a plain text translated when a
    pattern knows it (English: as it is)."""
    if isinstance(message, Message):
        return message.said(lang)
    if lang == "en":
        return message
    names = words(lang, "form_error.")
    for pattern, key in _PATTERNS:
        found = pattern.match(message)
        if found:
            return names[key].format(**found.groupdict())
    return message
