"""The "plan the year" page in a real browser: accept the proposal, move a meeting, and the
screenshot of the month calendar (docs/screenshots/plan.png)."""

from __future__ import annotations

from datetime import date, timedelta

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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_planned_meeting_dragged_to_another_workday_moves_and_onto_a_holiday_does_not(
    served: str,  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    log_in(page, served, "clerk")
    page.goto(f"{served}/units/101/plan?year=2021")
    page.click("form[action='/units/101/plan/accept'] button")
    page.wait_for_url(f"{served}/units/101/plan?year=2021")
    meeting = page.locator("table.calendar [data-meeting]").first
    meeting_id = meeting.get_attribute("data-meeting")
    form = page.locator(f"#meeting-{meeting_id} form input[name=date]")
    before = date.fromisoformat(form.input_value())
    target = next(
        day
        for day in (before + timedelta(days=n) for n in range(1, 8))
        if "off" not in (page.locator(f"td[data-day='{day}']").get_attribute("class") or "")
        and page.locator(f"td[data-day='{day}'] .planned").count() == 0
    )
    meeting.drag_to(page.locator(f"td[data-day='{target}']"))
    # the drop fills the form in and sends it; the page that comes back has it on its new day
    page.locator(f"td[data-day='{target}'] [data-meeting='{meeting_id}']").wait_for()
    moved = page.locator(f"#meeting-{meeting_id} form input[name=date]").input_value()
    assert moved == target.isoformat()
    holiday = page.locator(f"[data-meeting='{meeting_id}']")
    holiday.drag_to(page.locator("td[data-day='2021-10-03']"))  # National Day
    page.get_by_text("不是法定工作日").wait_for()
    phone = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    log_in(phone, served, "clerk")
    phone.goto(f"{served}/units/101/plan?year=2021")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 392  # no sideways page
