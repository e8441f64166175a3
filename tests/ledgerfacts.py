"""A small ruleset exercising every reading of the engine (calendar with grace and a due offset,
rolling windows, sums, attendance) and random facts for it, for the equivalence tests of the
stored obligations (`scheduler.core.ledger`, `scheduler.store.obligations`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from scheduler.core.ruleparse import parse_rulebook
from scheduler.core.rules import RuleBook

RULES = """\
ruleset: ledger-sample
title: {zh: 示例, en: Sample}
unit_kinds: [county, township]
roles: {chair: {zh: 主席, en: Chair}}
event_kinds:
  hearing: {zh: 听取汇报, en: Hearing}
  report: {zh: 报告, en: Report}
  funding: {zh: 经费, en: Funding}
  meeting: {zh: 会议, en: Meeting}
rules:
  - id: hearing
    title: {zh: 听取汇报, en: Hearing}
    cite: 示例
    applies_to: [township]
    every: 2 months
    require: {count: hearing, at_least: 1}
    grace: 10 days
    effective: {from: 2021-01-01}
  - id: report
    title: {zh: 报告, en: Report}
    cite: 示例
    applies_to: [township, county]
    every: half-year
    require: {count: report, at_least: 2}
    due: +15 days
    grace: 5 days
    effective: {from: 2021-01-01}
  - id: rolling
    title: {zh: 滚动, en: Rolling}
    cite: 示例
    applies_to: [township]
    within: 1 month
    require: {count: hearing, at_least: 1}
    grace: 7 days
    effective: {from: 2021-01-10}
  - id: funding
    title: {zh: 经费, en: Funding}
    cite: 示例
    applies_to: [township]
    every: quarter
    require: {sum: amount, of: funding, at_least: 100}
    effective: {from: 2021-01-01}
  - id: attendance
    title: {zh: 出席, en: Attendance}
    cite: 示例
    applies_to: [township]
    require: {attend: meeting, role: chair}
    effective: {from: 2021-01-01}
"""

KINDS = ("hearing", "report", "funding", "meeting")
FIRST_DAY = date(2021, 1, 1)
DAYS = 500  # events and as-of days fall in the first DAYS days of 2021 and 2022
HORIZON = date(2022, 12, 31)


def sample_book(review_mode: str = "off") -> RuleBook:
    from dataclasses import replace

    return replace(parse_rulebook([("ledger-sample.yaml", RULES)]), review_mode=review_mode)


days = st.integers(0, DAYS).map(lambda n: FIRST_DAY + timedelta(days=n))
kinds = st.sets(st.sampled_from(KINDS), min_size=1, max_size=2).map(frozenset)
amounts = st.none() | st.integers(0, 120).map(Decimal)
attended = st.sets(st.just("chair"), max_size=1).map(frozenset)
reviews = st.sampled_from([None, "accepted", "returned"])
