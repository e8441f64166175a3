"""The pages in a real browser: Playwright for Python driving Debian's chromium against the app
served by uvicorn on loopback. Saves the screenshots the README shows (docs/screenshots/).

CI needs the Debian packages ``chromium`` and ``fonts-noto-cjk`` (without the fonts, Chinese
renders as empty boxes in the screenshots).
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from openpyxl import load_workbook
from sqlalchemy import Engine

from scheduler.core.rules import RuleBook
from scheduler.reminders.sweep import sweep
from scheduler.store import obligations
from scheduler.store.database import transaction
from tests.conftest import ROOT
from tests.countyfacts import load_county
from tests.webfixtures import NOW, PASSWORD, add_users, make_app, settings_for

pytest_plugins = ["tests.webfixtures"]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MORE_EVENTS = [
    ("102", "hearing;research", "2021-01-20", "", "党委会", "", "", "w1"),
    ("102", "hearing", "2021-04-28", "", "党委会", "", "", "w2"),
    ("101", "research", "2021-02-03", "", "专题调研", "", "", "r1"),
    ("101", "study", "2021-03-18", "", "理论学习", "", "", "s1"),
]
VILLAGES = [("10102", "西山村", "village", "101", "2000-01-01", "", "")]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install chromium")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(
    engine: Engine, book: RuleBook, database_url: str, tmp_path: Path, cheap_hashes: None
) -> Iterator[str]:
    """The app on a loopback port, over real HTTP."""
    load_county(engine, book, MORE_EVENTS, units=VILLAGES)
    with transaction(engine) as session:  # the pages read the stored obligations, as deployed
        obligations.settle(session, book, NOW.date())
    add_users(engine)
    app = make_app(engine, book, settings_for(database_url, str(tmp_path)))
    yield from serve(app, free_port())


def serve(app: object, port: int) -> Iterator[str]:
    """Serve ``app`` with uvicorn on the loopback ``port`` while the caller holds on; its URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)  # waiting for the server to listen, not for time to pass
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium, launched once for the tests of a module (each opens contexts of its own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


def log_in(page: object, base: str, name: str) -> None:
    page.goto(f"{base}/")  # type: ignore[attr-defined]
    page.fill("#username", name)  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.click("main form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/")  # type: ignore[attr-defined]


def hearing_cell(page: object, base: str, column: str) -> str:
    page.goto(f"{base}/?rule=township-hearing&year=2021")  # type: ignore[attr-defined]
    link = f'a[href="/obligations/101/township-hearing/{column}?year=2021"]'
    return str(page.inner_text(link)).strip()  # type: ignore[attr-defined]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_township_clerk_records_a_hearing_and_sees_the_cell_turn_met(
    served: str, browser: object
) -> None:
    page = browser.new_page(accept_downloads=True)  # type: ignore[attr-defined]
    log_in(page, served, "clerk")
    assert hearing_cell(page, served, "2021-B3") == "○"
    page.goto(f"{served}/units/101/events/new")
    page.check("input[name=kinds][value=hearing]")
    page.fill("#f-date", "2021-05-20")
    page.fill("#f-title", "党委听取妇联工作汇报")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{served}/units/101*")
    assert hearing_cell(page, served, "2021-B3") == "✔"

    refused = page.goto(f"{served}/units/102")
    assert refused is not None and refused.status == 403
    assert "无权访问" in page.inner_text("h1")

    page.goto(f"{served}/audit?year=2021")
    with page.expect_download() as download:
        page.click("#download-xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert workbook.sheetnames[0] == "汇总" and "township-hearing" in workbook.sheetnames

    page.goto(f"{served}/")
    page.click("#lang-switch")
    page.wait_for_load_state()
    assert "Compliance" in page.inner_text("h1")
    assert "✔ met" in page.inner_text(".legend")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_pages_fit_a_phone_and_the_readme_screenshots_are_saved(
    served: str, browser: object
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desk = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    log_in(desk, served, "admin")
    desk.goto(f"{served}/?year=2021&rule=township-hearing&open=101")
    desk.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    desk.goto(f"{served}/units/101")
    desk.screenshot(path=str(SCREENSHOTS / "unit.png"), full_page=True)
    desk.goto(f"{served}/audit?year=2021&unit=102&rule=township-hearing")
    desk.screenshot(path=str(SCREENSHOTS / "audit.png"), full_page=True)
    phone = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    log_in(phone, served, "admin")
    for path in ("/", "/units/101", "/audit?year=2021", "/scorecard?year=2021"):
        phone.goto(f"{served}{path}")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, (path, width)
    assert (SCREENSHOTS / "dashboard.png").stat().st_size > 10_000


SCREENS = [
    "/?year=2021",
    "/?year=2021&open=101&show=village-funding",
    "/units/101?as_of=2021-06-30",
    "/obligations/101/township-funding/2021",
    "/audit?year=2021",
    "/scorecard?year=2021",
    "/outbox",
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_screen_fits_1366_and_390_pixels_in_both_languages(
    served: str, browser: object, lang: str
) -> None:
    for width in (1366, 390):
        page = browser.new_page(viewport={"width": width, "height": 844})  # type: ignore[attr-defined]
        log_in(page, served, "admin")
        if lang == "en":
            page.goto(f"{served}/lang/en?next=/")
        for path in SCREENS:
            page.goto(f"{served}{path}")
            fits = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert fits[0] <= fits[1], (lang, width, path, fits)
        page.close()


PHONE_SHOTS = {
    "phone-dashboard": "/?year=2021&rule=township-hearing",
    "phone-unit": "/units/101?as_of=2021-06-30",
    "phone-scorecard": "/scorecard?year=2021",
    "phone-audit": "/audit?year=2021&rule=township-hearing",
    "phone-outbox": "/outbox",
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_a_phone_the_matrix_keeps_names_latest_periods_and_rates_in_view(
    served: str, browser: object, engine: Engine, book: RuleBook, database_url: str, tmp_path: Path
) -> None:
    with transaction(engine) as session:  # reminders in the outbox
        sweep(session, book, settings_for(database_url, str(tmp_path)), date(2021, 6, 30), NOW)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    log_in(phone, served, "admin")
    phone.goto(f"{served}/?year=2021&rule=township-hearing")
    box = phone.evaluate(MATRIX_VIEW)
    assert box["unit_left"] >= 0 and box["rate_right"] <= 390, box
    assert box["last_column_right"] <= 390 and box["first_column_left"] < 0, box  # latest first
    assert box["details"] == 1 and box["open"] == 1, box  # one rule open, the others a line each
    wrapped = phone.evaluate(DATE_LINES)
    phone.goto(f"{served}/units/101?as_of=2021-06-30")
    assert phone.evaluate(DATE_LINES) == 1, "a date wraps on the unit page"
    assert (
        phone.evaluate("getComputedStyle(document.querySelector('table.cards thead')).display")
        == "none"
    )
    assert wrapped == 1
    for name, path in PHONE_SHOTS.items():
        phone.goto(f"{served}{path}")
        phone.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    phone.goto(f"{served}/outbox")
    assert phone.locator("table.cards tbody tr").count() > 1
    assert phone.evaluate(CHARACTER_LINES) <= 2  # Chinese words are not one character a line


MATRIX_VIEW = """(() => {
  const table = document.querySelector('details[open] table.matrix');
  const scroller = table.parentElement;
  const row = table.querySelector('tbody tr');
  const cells = row.querySelectorAll('td');
  return {
    unit_left: row.querySelector('td.unit').getBoundingClientRect().left,
    rate_right: row.querySelector('td.rate').getBoundingClientRect().right,
    first_column_left:
      cells[1].getBoundingClientRect().left - scroller.getBoundingClientRect().left,
    last_column_right: cells[cells.length - 2].getBoundingClientRect().right,
    details: document.querySelectorAll('details.rule-block').length,
    open: document.querySelectorAll('details.rule-block[open]').length,
  };
})()"""
DATE_LINES = """(() => {
  const lines = [...document.querySelectorAll('.nowrap')].map(e => {
    const style = getComputedStyle(e);
    return Math.round(e.getBoundingClientRect().height / parseFloat(style.lineHeight || 20));
  });
  return Math.max(1, ...lines.filter(n => n > 0));
})()"""
CHARACTER_LINES = """(() => {
  const cells = [...document.querySelectorAll('table.cards td')].filter(e => e.textContent.trim());
  const ratios = cells.map(e => {
    const box = e.getBoundingClientRect();
    return box.height / Math.max(1, box.width);
  });
  return Math.max(0, ...ratios);
})()"""


NO_CLIPBOARD = "Object.defineProperty(navigator, 'clipboard', {value: undefined});"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_feed_page_copies_its_link_even_without_the_clipboard_api(
    served: str, browser: object, lang: str
) -> None:
    """A plain-http intranet has no navigator.clipboard: the button selects and copies."""
    for width in (1366, 390):
        context = browser.new_context(viewport={"width": width, "height": 844})  # type: ignore[attr-defined]
        context.add_init_script(NO_CLIPBOARD)
        page = context.new_page()
        log_in(page, served, "clerk")
        if lang == "en":
            page.goto(f"{served}/lang/en?next=/")
        page.goto(f"{served}/units/101")
        page.click("form[action='/units/101/feed'] button")
        page.wait_for_url(f"{served}/units/101/feed")
        if page.locator("#link-2").count() == 0:  # she made one before: one more, as asked
            page.click("button[value=another]")
            page.wait_for_selector("#link-2")
        assert "built-in method" not in page.content()
        link = page.input_value("#link-2")
        assert link.startswith("http://") and "/cal/" in link
        page.click("button.copy[data-target=link-2]")
        copied = page.inner_text("#link-2 ~ .copied")
        assert copied in ("已复制", "Copied"), copied
        selected = page.evaluate("window.getSelection().toString() || document.activeElement.value")
        assert selected == link
        fits = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert fits[0] <= fits[1], (lang, width, fits)
        context.close()


COLUMNS = "unit,kinds,date,time,title,attended,amount,ref"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_clerk_downloads_a_template_then_imports_and_reads_each_refused_row(
    served: str, browser: object, lang: str, tmp_path: Path
) -> None:
    header = {"zh": "单位", "en": "unit"}[lang]
    reason = {"zh": "“日期”列：日期“someday”看不懂", "en": "date: bad date 'someday'"}[lang]
    for width in (1366, 390):
        page = browser.new_page(viewport={"width": width, "height": 844}, accept_downloads=True)  # type: ignore[attr-defined]
        log_in(page, served, "clerk")
        if lang == "en":
            page.goto(f"{served}/lang/en?next=/")
        page.goto(f"{served}/imports")
        fits = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert fits[0] <= fits[1], (lang, width, fits)
        with page.expect_download() as download:
            page.click('a[href="/imports/template?kind=events&format=xlsx"]')
        assert download.value.suggested_filename == "events-template.xlsx"
        sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).worksheets[0]
        assert next(sheet.iter_rows(max_row=1, values_only=True))[0] == header
        bad = tmp_path / f"bad-{width}.csv"
        bad.write_text(f"{COLUMNS}\n101,hearing,2021-06-01,,,,,a\n101,hearing,someday,,,,,b\n")
        page.set_input_files("#file", str(bad))
        page.click("button[value=preview]")
        page.wait_for_load_state()
        refused = page.inner_text("tr.o-refused")
        assert "3" in refused and reason in refused, refused
        assert page.evaluate("document.documentElement.scrollWidth") <= fits[1]
        good = tmp_path / f"good-{width}.csv"
        good.write_text(f"{COLUMNS}\n101,hearing,2021-06-0{width % 7 + 1},,,,,{width}\n")
        page.set_input_files("#file", str(good))
        page.click("button[value=preview]")
        page.wait_for_load_state()
        assert page.locator("table.preview tbody tr").count() == 1
        page.click("button[value=apply]")
        page.wait_for_load_state()
        assert {"zh": "已保存", "en": "Saved"}[lang] in page.inner_text("p.notice")
        page.close()
