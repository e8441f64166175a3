"""The interface words: one gettext catalogue per language, complete in both, compiled."""

from __future__ import annotations

import gettext
from datetime import date

import pytest
from babel.messages.pofile import read_po

from scheduler.core.compliance import Status
from scheduler.core.words import DOMAIN, LANGUAGES, LOCALE, format_date, status_name, word, words


def catalogue(language: str) -> dict[str, str]:
    with (LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        return {message.id: message.string for message in read_po(handle) if message.id}


def test_both_languages_have_the_same_keys_and_no_empty_word() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en)
    assert [key for key, text in {**zh, **en}.items() if not text.strip()] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_says_what_the_po_file_says(language: str) -> None:
    path = LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = {key for key, text in catalogue(language).items() if compiled.gettext(key) != text}
    assert stale == set(), f"{path} is stale: run 'make messages'"


def test_a_word_is_found_by_key_prefix_or_attribute() -> None:
    assert word("status.met") == "按时完成"
    assert status_name(Status.MET, "en") == "met"
    page = words("zh", "page.")
    assert page["dashboard"] == page.dashboard == "合规总览"
    assert "dashboard" in page and "no-such-word" not in page
    assert page.get("no-such-word", "—") == "—"


def test_a_missing_word_is_an_error_not_an_english_fallback() -> None:
    with pytest.raises(KeyError, match=r"page\.no-such-word"):
        words("zh", "page.")["no-such-word"]
    with pytest.raises(AttributeError):
        words("en", "page.").no_such_word  # noqa: B018


def test_dates_are_written_as_people_write_them() -> None:
    assert format_date(date(2020, 10, 16)) == "2020年10月16日"
    assert format_date(date(2020, 10, 16), "en") == "16 Oct 2020"
