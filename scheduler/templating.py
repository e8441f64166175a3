"""Jinja2 environments over the configured templates folder.

``.html``, ``.xml`` and ``.svg`` templates are autoescaped, ``.txt`` ones (mail subjects and
plain-text bodies) are not; a missing variable is an error (StrictUndefined), never an empty
string. Environments are cached per folder: templates are compiled once per process.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

_AUTOESCAPE = select_autoescape(["html", "xml", "svg"])


@lru_cache(maxsize=8)
def mail_environment(folder: str) -> Environment:
    """For mails: whitespace kept as written, so plain-text bodies look as authored."""
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=_AUTOESCAPE,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )


@lru_cache(maxsize=8)
def page_environment(folder: str) -> Environment:
    """For pages and printed listings: block tags leave no blank lines behind."""
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=_AUTOESCAPE,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
