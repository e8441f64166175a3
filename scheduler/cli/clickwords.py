"""click's own words in the language of the command line: its usage errors (``No such
option``, ``Missing argument``, ``Invalid value``, ``Got unexpected extra argument``), the
``Usage:`` line and the hint and ``Error:`` around them.

click says these through ``gettext`` (the ``_`` and ``ngettext`` names of each of its modules),
as its documentation suggests for translations. `install` puts `gettext` and `ngettext` below
in their place: a text the catalogue lists under ``click.*`` (its English word is click's own
text) is said in the command line's language, any other as click wrote it (a click that
changes a text falls back to English, never to an error). The language is the one `language`
finds, asked only when such a text is said: ``--lang``, else ``language`` of the configuration
(``--config``, ``HUIQI_LANGUAGE``), else Chinese. The help pages' own texts stay English.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cache
from importlib import import_module
from pathlib import Path

from scheduler.core.words import word

KEYS = (
    "usage", "try_help", "error", "no_such_option", "no_such_command", "did_you_mean",
    "did_you_mean_one_of", "missing_command", "missing_argument", "missing_option",
    "missing_parameter", "missing_kind", "missing_parameter_named", "invalid_value",
    "invalid_value_for", "extra_argument", "extra_arguments", "option_needs_value",
    "option_needs_values", "option_takes_no_value", "argument_takes_values", "not_the_choice",
    "not_a_choice", "choose_from", "not_a_number", "out_of_range", "not_a_boolean",
    "path_missing", "path_is_file", "path_is_folder", "path_unreadable", "path_unwritable",
    "cannot_open",
)  # fmt: skip
MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types", "utils")

_state: dict[str, object] = {"arguments": None, "language": None}


@cache
def _keys() -> dict[str, str]:
    """click's English text → the catalogue's key (``click.KEY``)."""
    return {word(f"click.{key}", "en"): f"click.{key}" for key in KEYS}


def gettext(message: str) -> str:
    """click's ``_``: ``message`` in the command line's language when the catalogue has it."""
    key = _keys().get(message)
    if key is None:
        return message
    lang = language()
    return message if lang == "en" else word(key, lang)


def ngettext(singular: str, plural: str, count: int) -> str:
    """click's ``ngettext``: the singular's or the plural's words, as `gettext` says them."""
    return gettext(singular if count == 1 else plural)


def install() -> None:
    """Put `gettext` and `ngettext` in place of click's own (once; idempotent)."""
    for name in MODULES:
        module = import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


def begin(arguments: Sequence[str] | None) -> None:
    """A new command line: its language is found again when first needed."""
    _state["arguments"] = list(sys.argv[1:] if arguments is None else arguments)
    _state["language"] = None


def language() -> str:
    """The command line's language: ``--lang``, else the configuration's, else ``zh``."""
    known = _state["language"]
    if isinstance(known, str):
        return known
    arguments = _state["arguments"]
    found = _language_of(arguments if isinstance(arguments, list) else sys.argv[1:])
    _state["language"] = found
    return found


def _language_of(arguments: list[str]) -> str:
    from scheduler.config import ConfigError, load_settings

    asked = option_value(arguments, "--lang")
    if asked in ("zh", "en"):
        return asked
    path = option_value(arguments, "--config")
    try:
        return load_settings(Path(path) if path else None).language
    except ConfigError as error:
        return error.language or "zh"
    except (OSError, ValueError):
        return "zh"


def option_value(arguments: Sequence[str], name: str) -> str | None:
    """The value of option ``name`` (``--lang en`` or ``--lang=en``), the last one given."""
    found = None
    for position, argument in enumerate(arguments):
        if argument == "--":
            break
        if argument == name and position + 1 < len(arguments):
            found = arguments[position + 1]
        elif argument.startswith(f"{name}="):
            found = argument.split("=", 1)[1]
    return found
