"""The phone pages in headless Chromium at 390 px: from a reminder mail to a met obligation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from scheduler.calendar import meetings, signins
from scheduler.core.rules import RuleBook
from scheduler.store import reports
from scheduler.store.database import transaction
from scheduler.store.models_attachments import Attachment
from tests import filesamples as sample
from tests.conftest import TEST_SECRET_KEY
from tests.phoneworld import LINK, app_at, mail_to, phone_settings, send_reminders
from tests.remindworld import DAY, SHANGHAI, url_of
from tests.test_browser import CHROMIUM, SCREENSHOTS, browser, free_port, serve  # noqa: F401

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install chromium")
LATER = DAY + timedelta(hours=2)
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def served(engine: Engine, book: RuleBook, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    folder = tmp_path / "mail"
    settings = phone_settings(url_of(engine), folder, f"http://127.0.0.1:{port}")
    send_reminders(engine, book, settings)
    yield from ((base, folder) for base in serve(app_at(engine, book, settings, LATER), port))


def hearing_status(engine: Engine, book: RuleBook) -> str:
    with transaction(engine) as session:
        day = LATER.date()
        selection = reports.Selection(day, day, day, "101", rule="township-hearing")
        return str(reports.status_rows(session, book, selection)[0].obligation.status)


def fits(page: object) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= PHONE["width"] + 2, width


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reminder_mail_link_records_a_meeting_on_a_phone(
    served: tuple[str, Path],
    browser: object,  # noqa: F811
    engine: Engine,
    book: RuleBook,
) -> None:
    base, folder = served
    text = mail_to(folder, "chen@example.org").get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = LINK.search(text)
    assert found and found.group(1) == base
    link = found.group(0)
    assert hearing_status(engine, book) == "open"
    phone = browser.new_page(viewport=PHONE)  # type: ignore[attr-defined]
    phone.goto(link)
    fits(phone)
    phone.click("a.obligation:has-text('乡镇党委听取妇联工作汇报')")
    phone.wait_for_url(f"{link}/record?rule=township-hearing&period=2026-B5")
    assert phone.is_checked("input[name=kinds][value=hearing]")
    assert phone.input_value("#date") == "2026-10-16"
    phone.check("input[name=attended][value=party_secretary]")
    phone.check("input[name=attended][value=fulian_chair]")
    phone.fill("#title", "党委听取妇联工作汇报")
    assert phone.input_value("#attachment_type") == "minutes"  # optional, never required
    minutes = {"name": "会议记录.jpg", "mimeType": "image/jpeg", "buffer": sample.jpeg(1200, 900)}
    phone.set_input_files("#file", minutes)
    fits(phone)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "phone-record.png"), full_page=True)
    box = phone.locator("#record").bounding_box()
    assert box is not None and box["height"] >= 48  # a large tap target
    phone.click("#record")
    phone.wait_for_url(f"{link}/done*")
    assert "按时完成" in phone.inner_text("#outcome")
    assert hearing_status(engine, book) == "met"
    with transaction(engine) as session:
        kept = session.scalars(select(Attachment)).all()
        assert [(a.kind, a.filename, a.media_type) for a in kept] == [
            ("minutes", "会议记录.jpg", "image/jpeg")
        ]
        assert kept[0].thumbnail_sha256  # a photo gets its thumbnail

    token = link.rsplit("/r/", 1)[1]
    body, _, mac = token.partition(".")
    other = ("B" if body[3] != "B" else "C").join((body[:3], body[4:]))
    refused = phone.goto(f"{base}/r/{other}.{mac}")
    assert refused is not None and refused.status == 403
    assert "链接不完整或已被改动" in phone.inner_text("#reason")
    fits(phone)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_attendee_signs_in_on_the_sheet_by_tapping_her_name(
    served: tuple[str, Path],
    browser: object,  # noqa: F811
    engine: Engine,
    book: RuleBook,
) -> None:
    base, _ = served
    fields = meetings.MeetingFields(
        unit="101", kinds=("hearing",), title="党委听取妇联工作汇报",
        start=DAY.replace(hour=14), end=DAY.replace(hour=15),
    )  # fmt: skip
    with transaction(engine) as session:
        meeting = meetings.plan(session, book, fields, "clerk", DAY, "huiqi").meeting
        token = signins.sheet_token(TEST_SECRET_KEY.encode(), meeting, SHANGHAI)
    phone = browser.new_page(viewport=PHONE)  # type: ignore[attr-defined]
    phone.goto(f"{base}/s/{token}")
    fits(phone)
    box = phone.locator("button.signin-name:has-text('刘主席')").bounding_box()
    assert box is not None and box["height"] >= 48
    phone.click("button.signin-name:has-text('刘主席')")
    phone.wait_for_selector("#signed")
    assert "刘主席，已签到" in phone.inner_text("#signed")
    phone.screenshot(path=str(SCREENSHOTS / "phone-signin.png"), full_page=True)
    with transaction(engine) as session:
        assert [s.name for s in signins.sheet(session, meeting.id)] == ["刘主席"]
