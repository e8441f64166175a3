"""Plain facts for the pure engine: a small county, events, and a one-rule evaluation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from itertools import count

from scheduler.core.compliance import (
    EventFacts,
    Obligation,
    Status,
    UnitFacts,
    WaiverFacts,
    WaiverKey,
    evaluate,
)
from scheduler.core.ruleparse import parse_rulebook
from scheduler.core.rules import Rule

LONG_AGO = date(2000, 1, 1)
COUNTY = UnitFacts(
    1, "100", "示例县", "county", None, LONG_AGO, None, {"female_population": "80000"}
)
EAST = UnitFacts(2, "101", "东山镇", "township", 1, LONG_AGO)
WEST = UnitFacts(3, "102", "西河乡", "township", 1, LONG_AGO)
VILLAGE = UnitFacts(4, "10101", "东山村", "village", 2, LONG_AGO)
UNITS = (COUNTY, EAST, WEST, VILLAGE)

_ids = count(1)


def event(
    unit: UnitFacts, day: str, *kinds: str, amount: int | None = None, attended: Iterable[str] = ()
) -> EventFacts:
    """An event at ``unit`` on ``day`` (YYYY-MM-DD) of the given kinds."""
    return EventFacts(
        next(_ids),
        unit.id,
        date.fromisoformat(day),
        frozenset(kinds),
        None if amount is None else Decimal(amount),
        frozenset(attended),
    )


def obligations(
    rule: Rule,
    as_of: str,
    events: Iterable[EventFacts] = (),
    *,
    units: Sequence[UnitFacts] = UNITS,
    first: str = "2020-01-01",
    last: str = "2021-12-31",
    waivers: dict[WaiverKey, WaiverFacts] | None = None,
) -> list[Obligation]:
    """``evaluate`` for one rule, dates written YYYY-MM-DD."""
    return evaluate(
        [rule],
        units,
        list(events),
        waivers or {},
        date.fromisoformat(as_of),
        date.fromisoformat(first),
        date.fromisoformat(last),
    )


def statuses(found: Iterable[Obligation], unit: UnitFacts) -> dict[str, Status]:
    """Period label → status of one unit's obligations."""
    return {o.period.label: o.status for o in found if o.unit_id == unit.id}


def the(found: Iterable[Obligation], unit: UnitFacts, label: str) -> Obligation:
    matches = [o for o in found if o.unit_id == unit.id and o.period.label == label]
    assert len(matches) == 1, (unit.code, label, matches)
    return matches[0]


SAMPLE = """\
ruleset: sample
title: {zh: 示例, en: Sample}
unit_kinds: [county, township]
roles: {chair: {zh: 主席, en: Chair}}
event_kinds:
  hearing: {zh: 听取汇报, en: Hearing}
  report: {zh: 报告, en: Report}
rules:
  - id: sample-rule
    title: {zh: 示例规则, en: Sample rule}
    cite: 示例
    applies_to: [township]
"""


def rule_of(body: str) -> Rule:
    """A township rule whose remaining keys are ``body`` (one ``key: value`` a line)."""
    text = SAMPLE + "".join(f"    {line.strip()}\n" for line in body.strip().splitlines())
    return parse_rulebook([("sample.yaml", text)]).rule("sample-rule")


HALF_YEAR_REPORT = """
    every: half-year
    require: {count: report, at_least: 1}
    due: +15 days
    effective: {from: 2021-01-01}
"""
BIMONTHLY_HEARING_WITH_GRACE = """
    every: 2 months
    require: {count: hearing, at_least: 1}
    grace: 10 days
    effective: {from: 2021-01-01}
"""
