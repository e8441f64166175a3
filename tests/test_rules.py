"""The rule language (scheduler.core.rules): the bundled ruleset, and every validation error
located."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from scheduler.core.periods import CalendarCadence, Duration, TermCadence
from scheduler.core.rules import (
    AttendRequirement,
    CountRequirement,
    RemindStage,
    RuleBook,
    SumRequirement,
)
from scheduler.rulefiles import read_rulebook
from tests.conftest import BUNDLED_RULES, SHARED

# ----------------------------------------------------------------------------------------------
# The bundled ruleset: R1–R12 of POLICY.md.

# (row, rule id, event kind, unit kind, clause) exactly as in the table of POLICY.md.
POLICY_ROWS = [
    ("R1", "county-conference", "conference", "county", "县委届内至少召开1次妇女工作会议"),
    (
        "R2",
        "county-standing-study",
        "standing_study",
        "county",
        "县委常委会每半年至少1次专题研究妇联工作",
    ),
    ("R3", "township-hearing", "hearing", "township", "乡镇党委每两月至少听取1次妇联工作汇报"),
    ("R4", "township-research", "research", "township", "(乡镇党委每两月至少)调研1次妇联工作进展"),
    ("R5", "township-study", "study", "township", "每季度至少1次专题研究妇联工作"),
    ("R6", "township-report", "report", "township", "每半年向县委报告1次妇联工作"),
    (
        "R7",
        "county-chair-attendance",
        "party_meeting",
        "county",
        "县乡妇联主席参加或列席同级党委会议制度",
    ),
    (
        "R8",
        "township-chair-attendance",
        "party_meeting",
        "township",
        "县乡妇联主席参加或列席同级党委会议制度",
    ),
    (
        "R9",
        "village-chair-attendance",
        "branch_meeting",
        "village",
        "村妇联主席参加或列席村党支部会议制度",
    ),
    ("R10", "county-funding", "funding", "county", "按照妇女人均1元钱标准为县妇联落实年度工作经费"),
    ("R11", "township-funding", "funding", "township", "每年为乡镇妇联落实1万元工作经费"),
    ("R12", "village-funding", "funding", "village", "村妇联落实2000元工作经费"),
]
RULE_IDS = [row[1] for row in POLICY_ROWS]
CADENCES = {
    "county-standing-study": CalendarCadence(6),
    "township-hearing": CalendarCadence(2),
    "township-research": CalendarCadence(2),
    "township-study": CalendarCadence(3),
    "township-report": CalendarCadence(6),
    "county-funding": CalendarCadence(12),
    "township-funding": CalendarCadence(12),
    "village-funding": CalendarCadence(12),
}
POLICY = SHARED / "policy" / "POLICY.md"


def test_the_bundled_ruleset_has_exactly_the_twelve_rules_of_the_policy_in_order(
    book: RuleBook,
) -> None:
    assert [rule.id for rule in book.rules] == RULE_IDS
    assert book.names == ("xihe-fulian",)
    assert book.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(("row", "rule_id", "kind", "unit_kind", "clause"), POLICY_ROWS)
def test_each_bundled_rule_counts_its_event_kind_at_its_unit_kind_and_cites_its_clause(
    book: RuleBook, row: str, rule_id: str, kind: str, unit_kind: str, clause: str
) -> None:
    rule = book.rule(rule_id)
    assert rule.requirement.kind == kind
    assert rule.applies_to == frozenset({unit_kind})
    assert rule.cite == clause
    assert rule.effective_from == date(2020, 10, 16)
    assert rule.effective_to is None
    assert re.search(r"[\u4e00-\u9fff]", rule.title.zh), rule.title
    assert rule.title.en.isascii() and rule.title.en[0].isupper(), rule.title
    assert rule.title("en") == rule.title.en and rule.title() == rule.title.zh


@pytest.mark.skipif(not POLICY.exists(), reason="../shared/policy is not beside the project")
def test_the_expected_rows_here_are_those_of_the_policy_table() -> None:
    table = {}
    for line in POLICY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and re.fullmatch(r"R\d+", cells[0]):
            table[cells[0]] = (cells[1].strip("`"), cells[2].strip("`"), cells[-1])
    assert table == {row: (rule_id, kind, clause) for row, rule_id, kind, _, clause in POLICY_ROWS}


def test_the_bundled_vocabulary_is_the_policy_vocabulary(book: RuleBook) -> None:
    assert book.unit_kinds == ("county", "township", "village", "community", "workshop")
    assert set(book.roles) == {"fulian_chair", "party_secretary", "clerk"}
    assert set(book.event_kinds) == {row[2] for row in POLICY_ROWS}
    for text in [*book.roles.values(), *book.event_kinds.values()]:
        assert text.zh and text.en


@pytest.mark.parametrize(("rule_id", "cadence"), CADENCES.items())
def test_the_bundled_calendar_rules_use_calendar_buckets(
    book: RuleBook, rule_id: str, cadence: CalendarCadence
) -> None:
    rule = book.rule(rule_id)
    assert (rule.cadence, rule.rolling) == (cadence, None)


def test_the_county_conference_counts_per_county_committee_term_of_five_years(
    book: RuleBook,
) -> None:
    rule = book.rule("county-conference")
    assert rule.cadence == TermCadence("county_committee", date(2021, 10, 1), 5)
    assert rule.requirement == CountRequirement("conference", 1)


def test_the_deployment_can_move_the_start_of_the_county_committee_term() -> None:
    moved = read_rulebook([BUNDLED_RULES], {"county_committee": date(2022, 1, 1)})
    assert moved.rule("county-conference").cadence == TermCadence(
        "county_committee", date(2022, 1, 1), 5
    )


@pytest.mark.parametrize(
    "rule_id", ["county-chair-attendance", "township-chair-attendance", "village-chair-attendance"]
)
def test_the_attendance_rules_want_the_federation_chair_at_every_meeting(
    book: RuleBook, rule_id: str
) -> None:
    rule = book.rule(rule_id)
    assert rule.is_attend and rule.cadence is None and rule.rolling is None
    assert isinstance(rule.requirement, AttendRequirement)
    assert rule.requirement.role == "fulian_chair"


def test_the_funding_rules_want_one_yuan_per_woman_ten_thousand_and_two_thousand(
    book: RuleBook,
) -> None:
    county = book.rule("county-funding").requirement
    assert county == SumRequirement("funding", per="female_population", times=Decimal(1))
    assert county.required_for({"female_population": "80000"}) == Decimal(80000)
    assert county.required_for({}) is None
    assert book.rule("township-funding").requirement == SumRequirement("funding", Decimal(10000))
    assert book.rule("village-funding").requirement == SumRequirement("funding", Decimal(2000))


def test_the_township_hearing_reminds_twice_before_due_and_escalates_to_the_parent_chair(
    book: RuleBook,
) -> None:
    rule = book.rule("township-hearing")
    assert rule.remind == (
        RemindStage(Duration(14, "days")),
        RemindStage(Duration(3, "days")),
        RemindStage(None),
    )
    assert [str(stage) for stage in rule.remind] == ["14 days before", "3 days before", "on due"]
    assert rule.escalate is not None
    assert (rule.escalate.after, rule.escalate.role, rule.escalate.at_parent) == (
        Duration(7, "days"),
        "fulian_chair",
        True,
    )
    assert (rule.responsible, rule.notify, rule.points) == (
        ("party_secretary",),
        ("fulian_chair",),
        Decimal(5),
    )
    assert rule.due_of(date(2021, 2, 28)) == date(2021, 2, 28)
    assert rule.grace == Duration(0, "days")


def test_every_bundled_role_reference_is_a_declared_role(book: RuleBook) -> None:
    for rule in book.rules:
        named = {*rule.responsible, *rule.notify}
        if rule.escalate:
            named.add(rule.escalate.role)
        assert named <= set(book.roles), rule.id
