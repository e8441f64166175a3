"""The scorecard as JSON and CSV, and the words that explain it.

JSON (``huiqi scorecard --format json``): one object per unit, ``{unit, unit_name, kind,
total, possible, rank, rules: [{rule, points, due, met, met_late, missed, exempt, earned}]}``.
CSV: one row per unit and rule with Chinese (or English) headers, UTF-8 with a BOM for Excel;
a text cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is
prefixed with ``'`` so that a spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from scheduler.core.assessment import RuleScore, Scorecard, UnitScore
from scheduler.core.words import Words, words
from scheduler.store.reports import json_number

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "unit_code",
    "unit_name",
    "kind",
    "rank",
    "total",
    "possible",
    "rule",
    "rule_title",
    "points",
    "due",
    "met",
    "met_late",
    "missed",
    "exempt",
    "earned",
)


def labels(lang: str) -> Words:
    """The words of the scorecard's columns, headings and explanation."""
    return words(lang, "score.")


def kind_name(kind: str, lang: str) -> str:
    """A unit kind as people say it (乡镇, townships), or its id when no word has it."""
    return words(lang, "demo.kind.").get(kind, kind)


def to_json(card: Scorecard) -> list[dict[str, Any]]:
    """The JSON objects of ``huiqi scorecard --format json``, in rank order."""
    return [
        {
            "unit": line.unit.code,
            "unit_name": line.unit.name,
            "kind": line.unit.kind,
            "total": json_number(line.total),
            "possible": json_number(line.possible),
            "rank": line.rank,
            "rules": [_rule_json(score) for score in line.rules],
        }
        for line in card.lines
    ]


def _rule_json(score: RuleScore) -> dict[str, Any]:
    return {
        "rule": score.rule.id,
        "points": json_number(score.points),
        "due": score.due,
        "met": score.met,
        "met_late": score.met_late,
        "missed": score.missed,
        "exempt": score.exempt,
        "earned": json_number(score.earned),
    }


def to_csv(cards: Sequence[Scorecard], lang: str) -> bytes:
    """One row per unit and rule, UTF-8 with a BOM, formulas neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = labels(lang)
    writer.writerow([names[column] for column in CSV_COLUMNS])
    for card in cards:
        for line in card.lines:
            for score in line.rules:
                writer.writerow([safe_cell(cell) for cell in _csv_cells(line, score, lang)])
    return out.getvalue().encode("utf-8-sig")


def _csv_cells(line: UnitScore, score: RuleScore, lang: str) -> list[object]:
    return [
        line.unit.code,
        line.unit.name,
        kind_name(line.unit.kind, lang),
        "" if line.rank is None else line.rank,
        json_number(line.total),
        json_number(line.possible),
        score.rule.id,
        score.rule.title(lang),
        json_number(score.points),
        score.due,
        score.met,
        score.met_late,
        score.missed,
        score.exempt,
        json_number(score.earned),
    ]


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet would read as a formula, prefixed with ``'``; else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def explain(card: Scorecard, lang: str) -> list[str]:
    """How the card's scores are computed, in a few sentences, for every face."""
    names = labels(lang)
    credits = sorted({rule.score.late_credit for rule in card.rules}) or [Decimal("0.5")]
    lines = [names["how"].format(late="/".join(_number(value) for value in credits))]
    for rule in card.rules:
        if rule.score.deduct is not None:
            lines.append(
                names["deducted"].format(
                    rule=rule.title(lang),
                    points=_number(rule.points),
                    deduct=_number(rule.score.deduct),
                    floor=_number(rule.score.floor),
                )
            )
    lines.append(names["internal"] if card.ranked else names["no_ranks"])
    return lines


def _number(value: Decimal) -> str:
    return str(json_number(value))
