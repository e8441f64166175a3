"""Validation of rulesets (scheduler.core.rules): every error names the file, the line and the rule,
and nothing is loaded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from textwrap import dedent

import pytest

from scheduler.core.periods import Duration, TermCadence
from scheduler.core.ruleparse import parse_rulebook
from scheduler.core.rules import RuleProblem, RulesError

HEADER = """\
ruleset: sample
title: {zh: 示例, en: Sample}
unit_kinds: [county, township]
roles:
  chair: {zh: 主席, en: Chair}
event_kinds:
  visit: {zh: 走访, en: Visit}
  meeting: {zh: 会议, en: Meeting}
terms:
  board: {start: 2021-10-01, years: 5}
rules:
  - id: monthly-visit
    title: {zh: 每月走访, en: Monthly visit}
    cite: 每月至少走访1次
    applies_to: [township]
    every: half-year
    require: {count: visit, at_least: 1}
    effective: {from: 2021-01-01}
"""


def sample(rule: str) -> str:
    """The sample ruleset with one more rule, ``bad-rule``, whose body lines are ``rule``."""
    head = """\
  - id: bad-rule
    title: {zh: 坏规则, en: Bad rule}
    cite: 示例
    applies_to: [township]
"""
    return HEADER + head + "".join(f"    {line}\n" for line in dedent(rule).splitlines())


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the only line of ``text`` holding ``fragment``."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(lines) == 1, (fragment, lines)
    return lines[0]


def problems_of(*sources: tuple[str, str]) -> list[RuleProblem]:
    with pytest.raises(RulesError) as caught:
        parse_rulebook(sources)
    return list(caught.value.problems)


def only_problem(text: str, filename: str = "sample.yaml") -> RuleProblem:
    problems = problems_of((filename, text))
    assert len(problems) == 1, problems
    return problems[0]


def only_problem_of_sources(*sources: tuple[str, str]) -> RuleProblem:
    problems = problems_of(*sources)
    assert len(problems) == 1, problems
    return problems[0]


def assert_located(
    problem: RuleProblem, filename: str, line: int, rule_id: str, message: str
) -> None:
    assert (problem.filename, problem.line, problem.rule_id) == (filename, line, rule_id)
    assert message in str(problem.message)
    assert str(problem).startswith(f"{filename}:{line}: rule {rule_id}: ")


def refused_at(text: str, fragment: str, message: str) -> RuleProblem:
    """The one problem of ``sample.yaml``: at the line holding ``fragment``, in ``bad-rule``."""
    problem = only_problem(text)
    assert_located(problem, "sample.yaml", line_of(text, fragment), "bad-rule", message)
    return problem


def test_the_sample_ruleset_with_a_good_second_rule_loads() -> None:
    text = sample("""\
        every: quarter
        require: {count: meeting, at_least: 2}
        due: +15 days
        grace: 1 week
        effective: {from: 2021-01-01, to: 2025-12-31}
        responsible: [chair]
        remind: [7 days before, on due]
        escalate: {after: 7 days, to: parent.chair}
    """)
    rule = parse_rulebook([("sample.yaml", text)]).rule("bad-rule")
    assert rule.due_of(date(2021, 3, 31)) == date(2021, 4, 15)
    assert rule.grace == Duration(1, "weeks") and rule.effective_to == date(2025, 12, 31)


def test_an_unknown_key_is_named_at_its_line() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
        colour: red
    """)
    refused_at(text, "colour: red", "unknown key 'colour'")


def test_an_unknown_key_inside_the_requirement_is_named_at_the_requirement_line() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1, weight: 2}
        effective: {from: 2021-01-01}
    """)
    refused_at(text, "weight: 2", "unknown key 'weight'")


def test_an_unknown_event_kind_is_named_with_the_known_ones() -> None:
    text = sample("""\
        every: month
        require: {count: hearing, at_least: 1}
        effective: {from: 2021-01-01}
    """)
    problem = refused_at(text, "count: hearing", "unknown event kind 'hearing'")
    assert "meeting, visit" in str(problem.message)


def test_an_unknown_role_is_named_at_the_list_that_holds_it() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
        responsible:
          - chair
          - mayor
    """)
    refused_at(text, "- mayor", "unknown role 'mayor'")


def test_an_unknown_role_to_escalate_to_is_refused() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
        escalate: {after: 7 days, to: parent.mayor}
    """)
    refused_at(text, "escalate:", "unknown role 'mayor'")


def test_an_unknown_role_of_an_attend_rule_is_refused() -> None:
    text = sample("""\
        require: {attend: meeting, role: secretary}
        effective: {from: 2021-01-01}
    """)
    refused_at(text, "role: secretary", "unknown role 'secretary'")


def test_an_unknown_unit_kind_is_named_at_its_line() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
    """)
    head, body = text.split("  - id: bad-rule\n")
    body = body.replace("applies_to: [township]", "applies_to:\n      - township\n      - city")
    text = f"{head}  - id: bad-rule\n{body}"
    refused_at(text, "- city", "unknown unit kind 'city'")


@pytest.mark.parametrize(
    ("lines", "fragment", "message"),
    [
        ("within: 2 fortnights", "2 fortnights", "within: bad duration '2 fortnights'"),
        ("every: month\ngrace: soon", "grace: soon", "grace: bad duration 'soon'"),
        ("every: 3 fortnights", "3 fortnights", "bad cadence '3 fortnights'"),
    ],
)
def test_a_bad_duration_is_named_at_its_key(lines: str, fragment: str, message: str) -> None:
    text = sample(
        f"{lines}\nrequire: {{count: visit, at_least: 1}}\neffective: {{from: 2021-01-01}}"
    )
    refused_at(text, fragment, message)


def test_a_bad_escalation_delay_is_a_bad_duration() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
        escalate: {after: a week, to: parent.chair}
    """)
    refused_at(text, "after: a week", "escalate.after: bad duration 'a week'")


def test_a_duplicate_rule_id_is_named_where_it_repeats() -> None:
    text = sample("""\
        every: quarter
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
    """).replace("id: bad-rule", "id: monthly-visit")
    repeated = [n for n, line in enumerate(text.splitlines(), 1) if "id: monthly-visit" in line]
    assert_located(
        only_problem(text), "sample.yaml", repeated[1], "monthly-visit", "duplicate rule id"
    )


def test_a_duplicate_rule_id_across_two_files_is_named_in_the_second_file() -> None:
    other = HEADER.replace("ruleset: sample", "ruleset: other")
    problem = only_problem_of_sources(("first.yaml", HEADER), ("second.yaml", other))
    assert_located(
        problem,
        "second.yaml",
        line_of(other, "id: monthly-visit"),
        "monthly-visit",
        "duplicate rule id",
    )


def test_every_together_with_within_is_refused_at_within() -> None:
    text = sample("""\
        every: month
        within: 1 month
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
    """)
    refused_at(text, "within: 1 month", "'every' and 'within' exclude each other")


def test_a_rule_with_neither_every_nor_within_is_refused_at_its_first_line() -> None:
    text = sample("""\
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
    """)
    refused_at(text, "id: bad-rule", "needs 'every'")


def test_an_undeclared_term_is_refused() -> None:
    text = sample("""\
        every: term council
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
    """)
    refused_at(text, "every: term council", "term 'council' is not declared")


def test_a_declared_term_is_accepted() -> None:
    text = sample("""\
        every: term board
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
    """)
    rule = parse_rulebook([("sample.yaml", text)]).rule("bad-rule")
    assert rule.cadence == TermCadence("board", date(2021, 10, 1), 5)


def test_malformed_yaml_is_named_at_its_line_and_rule() -> None:
    text = sample("""\
        every: month: quarter
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
    """)
    refused_at(text, "every: month: quarter", "malformed YAML")


def test_an_unclosed_flow_mapping_is_malformed_yaml_within_its_rule() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1
        effective: {from: 2021-02-01}
    """)
    refused_at(text, "2021-02-01", "malformed YAML")


def test_malformed_yaml_in_the_header_names_no_rule() -> None:
    text = HEADER.replace("unit_kinds: [county, township]", "unit_kinds: [county, township")
    problem = only_problem(text)
    assert (problem.filename, problem.rule_id) == ("sample.yaml", None)
    assert problem.line == line_of(text, "roles:")
    assert "malformed YAML" in str(problem.message)


def test_a_duplicate_yaml_key_is_named_at_its_second_occurrence() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1}
        every: quarter
        effective: {from: 2021-01-01}
    """)
    refused_at(text, "every: quarter", "duplicate key 'every'")


def test_a_duplicate_yaml_key_outside_the_rules_names_no_rule() -> None:
    text = HEADER.replace("terms:\n", "terms:\n  board: {start: 2020-01-01, years: 4}\n")
    problem = only_problem(text)
    assert (problem.line, problem.rule_id) == (line_of(text, "years: 5"), None)
    assert "duplicate key 'board'" in str(problem.message)


def test_a_bad_reminder_is_named_at_the_remind_key() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
        remind: [3 days before, tomorrow]
    """)
    refused_at(text, "remind:", "bad reminder 'tomorrow'")


def test_a_bad_due_is_named_at_the_due_key() -> None:
    text = sample("""\
        every: month
        due: end of period
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
    """)
    refused_at(text, "due: end of period", "bad due 'end of period'")


def test_missing_keys_are_each_named_at_the_rule() -> None:
    text = sample("""\
        every: month
    """)
    problems = problems_of(("sample.yaml", text))
    rule_line = line_of(text, "id: bad-rule")
    assert [(p.line, p.rule_id, str(p.message)) for p in problems] == [
        (rule_line, "bad-rule", "missing key 'require'"),
        (rule_line, "bad-rule", "missing key 'effective'"),
    ]


def test_a_rule_without_an_id_is_named_by_its_position() -> None:
    text = sample("""\
        every: month
        require: {count: visit, at_least: 1}
        effective: {from: 2021-01-01}
    """).replace("  - id: bad-rule\n    title", "  - title")
    problem = only_problem(text)
    assert (problem.rule_id, str(problem.message)) == ("#2", "missing key 'id'")
    assert problem.line == line_of(text, "title: {zh: 坏规则")


def test_an_attend_rule_with_every_is_refused() -> None:
    text = sample("""\
        every: month
        require: {attend: meeting, role: chair}
        effective: {from: 2021-01-01}
    """)
    refused_at(text, "every: month", "an attend rule has one obligation per event: no every")


def test_problems_in_several_rules_and_files_are_all_listed_and_nothing_loads() -> None:
    bad_kind = sample("""\
        every: month
        require: {count: hearing, at_least: 1}
        effective: {from: 2021-01-01}
    """)
    other = (
        HEADER.replace("ruleset: sample", "ruleset: other")
        .replace("id: monthly-visit", "id: weekly-visit")
        .replace("every: half-year", "every: week")
    )
    problems = problems_of(("a.yaml", bad_kind), ("b.yaml", other))
    assert [(p.filename, p.rule_id) for p in problems] == [
        ("a.yaml", "bad-rule"),
        ("b.yaml", "weekly-visit"),
    ]
    assert str(RulesError(problems)).count("\n") == 1


def test_an_unknown_key_in_the_ruleset_header_names_its_line() -> None:
    text = HEADER.replace("terms:", "owner: county\nterms:")
    problem = only_problem(text)
    assert (problem.line, problem.rule_id) == (line_of(text, "owner: county"), None)
    assert str(problem.message) == "unknown key 'owner'"


SCORED = "every: month\nrequire: {count: visit, at_least: 1}\neffective: {from: 2021-01-01}\n"


def test_a_deduction_score_loads_with_the_rulesets_late_credit() -> None:
    text = sample(SCORED + "points: 10\nscore: {deduct: 2, floor: 1}").replace(
        "rules:\n", "assessment: {late_credit: 0.25}\nrules:\n"
    )
    score = parse_rulebook([("sample.yaml", text)]).rule("bad-rule").score
    assert (score.deduct, score.floor, score.late_credit) == (2, 1, Decimal("0.25"))


@pytest.mark.parametrize(
    ("lines", "fragment", "message"),
    [
        (
            "points: 10\nscore: {deduct: 0}",
            "score:",
            "score.deduct: Input should be greater than 0",
        ),
        ("points: 10\nscore: {deduct: 2, per: missed}", "score:", "unknown key 'per'"),
        ("points: 10\nscore: deduct", "score:", "score: Input should be a valid dictionary"),
        ("score: {deduct: 2}", "score:", "a rule scored by deduction needs 'points'"),
        ("points: 4\nscore: {deduct: 1, floor: 5}", "score:", "score.floor 5 is above"),
    ],
)
def test_a_bad_score_is_named_at_its_line(lines: str, fragment: str, message: str) -> None:
    problem = refused_at(sample(SCORED + lines), fragment, message)
    assert "Spec" not in str(problem.message)


@pytest.mark.parametrize("value", ["1.5", "-0.5", "half"])
def test_a_late_credit_outside_zero_to_one_is_refused_at_its_line(value: str) -> None:
    text = HEADER.replace("rules:\n", f"assessment: {{late_credit: {value}}}\nrules:\n")
    problem = only_problem(text)
    assert problem.line == line_of(text, "late_credit") and problem.rule_id is None
    assert str(problem.message).startswith("assessment.late_credit: ")


SAID = {  # rule body, the line's fragment, English, Chinese
    "unknown key": (
        "every: month\nrequire: {count: visit, at_least: 1}\neffective: {from: 2021-01-01}\n"
        "colour: red",
        "colour: red",
        "unknown key 'colour'",
        "没有这个键“colour”",
    ),
    "unknown kind": (
        "every: month\nrequire: {count: hearing, at_least: 1}\neffective: {from: 2021-01-01}",
        "count: hearing",
        "unknown event kind 'hearing' (known: meeting, visit)",
        "没有这个事件类型“hearing”（已知：meeting、visit）",
    ),
    "bound": (
        "every: month\nrequire: {count: visit, at_least: 0}\neffective: {from: 2021-01-01}",
        "at_least: 0",
        "require.at_least: Input should be greater than or equal to 1",
        "require.at_least：应不小于 1",
    ),
    "duration": (
        "every: month\nrequire: {count: visit, at_least: 1}\neffective: {from: 2021-01-01}\n"
        "grace: soon",
        "grace: soon",
        "grace: bad duration 'soon': expected 'N days', 'N weeks', 'N months' or 'N years'",
        "grace：期限“soon”有误：应为“N days”“N weeks”“N months”或“N years”",
    ),
    "cadence": (
        "every: fortnight\nrequire: {count: visit, at_least: 1}\neffective: {from: 2021-01-01}",
        "every: fortnight",
        "bad cadence 'fortnight'",
        "周期“fortnight”有误：应为 month、N months、quarter、half-year、year、N years"
        " 或 term 任期名",
    ),
    "term": (
        "every: term nope\nrequire: {count: visit, at_least: 1}\neffective: {from: 2021-01-01}",
        "every: term nope",
        "term 'nope' is not declared in 'terms'",
        "任期“nope”未在 terms 中声明",
    ),
    "both cadences": (
        "every: month\nwithin: 30 days\nrequire: {count: visit, at_least: 1}\n"
        "effective: {from: 2021-01-01}",
        "within: 30 days",
        "'every' and 'within' exclude each other",
        "every 和 within 不能同时使用",
    ),
    "missing key": (
        "every: month\nrequire: {count: visit, at_least: 1}",
        "id: bad-rule",
        "missing key 'effective'",
        "缺少键“effective”",
    ),
    "date": (
        "every: month\nrequire: {count: visit, at_least: 1}\neffective: {from: someday}",
        "from: someday",
        "effective.from: Input should be a valid date",
        "effective.from：应为日期（YYYY-MM-DD）",
    ),
    "duplicate key": (
        "every: month\nrequire: {count: visit, at_least: 1}\nevery: quarter\n"
        "effective: {from: 2021-01-01}",
        "every: quarter",
        "duplicate key 'every'",
        "键“every”重复",
    ),
    "score": (
        "every: month\nrequire: {count: visit, at_least: 1}\neffective: {from: 2021-01-01}\n"
        "score: {deduct: 2}",
        "score:",
        "a rule scored by deduction needs 'points'",
        "按扣分计分的规则需要 points",
    ),
}


@pytest.mark.parametrize("case", sorted(SAID))
def test_a_problem_is_said_in_chinese_and_in_english(case: str) -> None:
    body, fragment, english, chinese = SAID[case]
    text = sample(body)
    problem = only_problem(text)
    line = line_of(text, fragment)
    assert str(problem).startswith(f"sample.yaml:{line}: rule bad-rule: ")
    assert english in str(problem)
    assert problem.said("zh") == f"sample.yaml 第{line}行，规则 bad-rule：{chinese}"


def test_a_problem_outside_the_rules_is_said_without_a_rule() -> None:
    text = HEADER.replace("unit_kinds: [county, township]", "unit_kinds: [county, township")
    with pytest.raises(RulesError) as caught:
        parse_rulebook([("sample.yaml", text)])
    line = line_of(text, "roles:")
    assert caught.value.said("zh").startswith(f"sample.yaml 第{line}行：YAML 格式有误：")
    assert caught.value.said("en").startswith(f"sample.yaml:{line}: malformed YAML: ")
