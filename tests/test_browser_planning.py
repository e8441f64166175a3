"""The "plan the year" page in a real browser: accept the proposal, move a meeting, and the
screenshot of the month calendar (docs/screenshots/plan.png)."""

from __future__ import annotations

import pytest

from tests.test_browser import CHROMIUM, SCREENSHOTS, browser, log_in, served  # noqa: F401

pytest_plugins = ["tests.webfixtures"]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install chromium")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_clerk_accepts_the_year_plan_and_a_move_off_a_workday_is_refused(
    served: str,  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    log_in(page, served, "clerk")
    page.goto(f"{served}/units/101")
    page.click("a[href='/units/101/plan']")
    page.wait_for_url(f"{served}/units/101/plan")
    assert page.locator("table.calendar").count() == 12
    page.goto(f"{served}/units/101/plan?year=2021")
    proposed = page.locator("table.calendar .proposed").count()
    assert proposed == 6
    page.click("form[action='/units/101/plan/accept'] button")
    page.wait_for_url(f"{served}/units/101/plan?year=2021")
    assert page.locator("table.calendar .planned").count() == 6
    assert page.locator("table.calendar .proposed").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "plan.png"), full_page=True)
    first = page.locator("form[action$='/move']").first
    first.locator("input[name=date]").fill("2021-10-03")  # National Day holiday
    first.locator("button").click()
    page.wait_for_load_state()
    assert "不是法定工作日" in page.inner_text("main")
