"""The change trail in words: action keys, fields and values as a reader reads them."""

from __future__ import annotations

from scheduler.core.changes import action_text, subject_text, values_text
from scheduler.core.rules import RuleBook


def test_an_action_key_reads_as_words_in_each_language() -> None:
    assert action_text("event.replace", "zh") == "更正事件"
    assert action_text("event.replace", "en") == "Event replaced"
    assert action_text("something.new", "en") == "something.new"


def test_fields_read_with_their_names_and_kinds_and_roles_by_their_titles(book: RuleBook) -> None:
    after = {"date": "2021-03-12", "kinds": ["hearing", "study"], "attended": ["fulian_chair"]}
    zh = values_text(after, "zh", book)
    assert zh == (
        f"日期：2021-03-12；类型：{book.event_kinds['hearing'].zh}、{book.event_kinds['study'].zh}"
        f"；参加人：{book.roles['fulian_chair'].zh}"
    )
    en = values_text(after, "en", book)
    assert en.startswith("date: 2021-03-12; kinds: ") and book.roles["fulian_chair"].en in en


def test_flags_and_user_access_read_as_words_and_nothing_reads_none() -> None:
    assert values_text({"active": False}, "zh", None) == "启用：否"
    assert values_text({"access": "clerk", "unit": "101"}, "en", None) == "access: clerk; unit: 101"
    assert values_text({"access": "clerk"}, "zh", None) == "权限：专干"
    assert values_text(None, "zh", None) == "" and values_text({}, "en", None) == ""


def test_a_waiver_subject_names_its_rule_by_title(book: RuleBook) -> None:
    title = book.rule("township-hearing").title
    assert subject_text("waiver.request", "township-hearing 2021-B1", "zh", book) == (
        f"{title.zh} 2021-B1"
    )
    assert subject_text("event.add", "township-hearing 2021-B1", "en", book) == (
        "township-hearing 2021-B1"
    )
