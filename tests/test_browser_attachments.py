"""A clerk records a meeting on her phone with a photo from its camera field, in headless
Chromium at 390 px: the form fits, the photo is attached and its thumbnail shows."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from scheduler.store.database import transaction
from scheduler.store.models_attachments import Attachment
from tests import filesamples as sample
from tests.test_browser import CHROMIUM, browser, log_in, served  # noqa: F401

pytest_plugins = ["tests.webfixtures"]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install chromium")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_photo_from_the_phone_form_is_attached_and_its_thumbnail_shows(
    served: str,  # noqa: F811
    browser: object,  # noqa: F811
    engine: Engine,
) -> None:
    phone = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    log_in(phone, served, "clerk")
    phone.goto(f"{served}/units/101/events/new")
    camera = phone.locator("#f-photo")
    assert camera.get_attribute("capture") == "environment"
    assert camera.get_attribute("accept") == "image/*"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 392
    phone.check("input[name=kinds][value=hearing]")
    phone.fill("#f-date", "2021-05-20")
    phone.fill("#f-title", "党委听取妇联工作汇报")
    photo = {"name": "IMG_2041.JPG", "mimeType": "image/jpeg", "buffer": sample.jpeg(1600, 1200)}
    camera.set_input_files(photo)
    phone.click("main form button[type=submit]")
    phone.wait_for_url(f"{served}/units/101*")
    thumbnail = phone.locator("ul.attached img").first
    thumbnail.wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 392
    loaded = phone.evaluate(
        "() => { const i = document.querySelector('ul.attached img'); return i.naturalWidth; }"
    )
    assert loaded == 320
    with transaction(engine) as session:
        rows = session.scalars(select(Attachment)).all()
        assert [(a.kind, a.filename, a.media_type) for a in rows] == [
            ("photo", "IMG_2041.jpg", "image/jpeg")
        ]
