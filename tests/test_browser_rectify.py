"""The 整改 forms of the unit page in headless Chromium at 390 px, in Chinese and in English: the
county's reviewer opens an item against a township, its clerk answers with a note, the reviewer
closes it (销号); the page never gets wider than the phone's screen."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from scheduler.core.words import words
from scheduler.store.database import transaction
from scheduler.store.models_rectifications import Rectification
from tests.test_browser import CHROMIUM, browser, log_in, served  # noqa: F401
from tests.test_phone_browser import PHONE, fits

pytest_plugins = ["tests.webfixtures"]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install chromium")


def phone_in(chromium: Any, base: str, user: str, lang: str) -> Any:
    """A phone-sized page of its own browser context, logged in as ``user``, in ``lang``."""
    page = chromium.new_context(viewport=PHONE).new_page()
    log_in(page, base, user)
    page.goto(f"{base}/lang/{lang}?next=/units/101")
    page.wait_for_url(f"{base}/units/101")
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_item_is_opened_answered_and_closed_on_phones(
    served: str,  # noqa: F811
    browser: object,  # noqa: F811
    engine: Engine,
    lang: str,
) -> None:
    status = words(lang, "trail.status.")  # the words of the status column
    reviewer = phone_in(browser, served, "county", lang)
    assert reviewer.get_attribute("html", "lang") == ("en" if lang == "en" else "zh-CN")
    fits(reviewer)
    reviewer.click("#rectify-new summary")
    reviewer.fill("#rectify-issue", "缺2021年第二季度会议记录")
    reviewer.fill("#rectify-due", "2021-07-31")
    reviewer.click("#rectify-new button[type=submit]")
    reviewer.wait_for_url(f"{served}/units/101#rectifications")
    with transaction(engine) as session:
        [item] = session.scalars(select(Rectification)).all()
        item_id = item.id
    row = f"#rectify-{item_id}"
    assert "缺2021年第二季度会议记录" in reviewer.inner_text(row)
    assert status["open"] in reviewer.inner_text(f"{row} td:nth-child(3)")
    fits(reviewer)

    clerk = phone_in(browser, served, "clerk", lang)
    clerk.click(f"{row} details summary")
    clerk.fill(f"#note-{item_id}", "已补录会议记录并上传")
    fits(clerk)
    clerk.click(f"{row} form[action$='/answer'] button[type=submit]")
    clerk.wait_for_url(f"{served}/units/101#rectify-{item_id}")
    assert clerk.locator(f"tr.rectify-answered{row}").count() == 1
    assert "已补录会议记录并上传" in clerk.inner_text(row)
    assert status["answered"] in clerk.inner_text(f"{row} td:nth-child(3)")
    fits(clerk)

    reviewer.goto(f"{served}/units/101")
    close = reviewer.locator(f"{row} form[action$='/close']")
    close.locator("input[name=comment]").fill("已核实")
    close.locator("button[type=submit]").first.click()
    reviewer.wait_for_url(f"{served}/units/101#rectify-{item_id}")
    assert reviewer.locator(f"tr.rectify-closed{row}").count() == 1
    assert status["closed"] in reviewer.inner_text(f"{row} td:nth-child(3)")
    assert "已核实" in reviewer.inner_text(row)
    fits(reviewer)
    with transaction(engine) as session:
        done = session.get_one(Rectification, item_id)
        assert (done.status, done.answer, done.comment) == (
            "closed",
            "已补录会议记录并上传",
            "已核实",
        )
