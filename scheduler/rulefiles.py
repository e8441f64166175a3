"""Reading the configured ruleset files (the I/O around `scheduler.core.rules`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from scheduler.core.problems import Message
from scheduler.core.ruleparse import parse_rulebook
from scheduler.core.rules import RuleBook, RuleProblem, RulesError


def read_rulebook(
    paths: Sequence[Path], term_starts: Mapping[str, date] | None = None, review_mode: str = "off"
) -> RuleBook:
    """Parse the ruleset files in order; raise RulesError naming any unreadable file.
    ``review_mode`` (``review.mode``) says how the level above's review of events counts."""
    sources = []
    for path in paths:
        try:
            sources.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else Message("not_utf8")
            unread = Message("cannot_read", reason=reason)
            raise RulesError([RuleProblem(str(path), 1, None, unread)]) from None
    if not sources:
        none = Message("no_rulesets")
        raise RulesError([RuleProblem("(configuration)", 1, None, none)])
    return replace(parse_rulebook(sources, term_starts), review_mode=review_mode)
