"""Reading the configured ruleset files (the I/O around `scheduler.core.rules`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

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
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise RulesError([RuleProblem(str(path), 1, None, f"cannot read: {reason}")]) from None
    if not sources:
        raise RulesError([RuleProblem("(configuration)", 1, None, "no ruleset files configured")])
    return replace(parse_rulebook(sources, term_starts), review_mode=review_mode)
