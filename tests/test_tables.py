"""Reading import files within bounds, and writing cells that are never formulas.

The XLSX bomb is built here: a 5 KB workbook whose <dimension> and real last cell are XFD1048576
(the old reader padded every row to 16,384 columns, grew by 90 MB/s and ended in a 500). It
must be refused in under 5 s and 200 MB, by ``huiqi events import`` and by the web upload.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import Workbook

from scheduler.core.problems import InputError
from scheduler.store import accounts
from scheduler.store.database import make_engine, transaction
from scheduler.tables import Limits, csv_cell, read_table
from scheduler.web.kit import SESSION_COOKIE
from tests.conftest import EVENT_HEADER, HuiqiRunner, huiqi_executable
from tests.mailsink import free_port

ROW = ["101", "hearing", "2021-03-01", "", "听取汇报", "", "", "h1"]
MB = 1024 * 1024


def workbook(path: Path, rows: list[list[str]], sheet_xml: Callable[[str], str] = str) -> Path:
    """An XLSX of ``rows`` under the events header, its sheet XML passed through ``sheet_xml``."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [list(EVENT_HEADER), *rows]:
        sheet.append(row)
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    name = "xl/worksheets/sheet1.xml"
    parts[name] = sheet_xml(parts[name].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)
    return path


def claim_everything(xml: str) -> str:
    return re.sub(r'<dimension ref="[^"]+"/>', '<dimension ref="A1:XFD1048576"/>', xml)


def bomb(path: Path) -> Path:
    """The dimension claims the whole sheet, and one real cell sits in its last corner."""
    corner = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return workbook(
        path,
        [ROW],
        lambda xml: claim_everything(xml).replace("</sheetData>", corner + "</sheetData>"),
    )


def test_an_xlsx_is_read_by_its_cells_not_by_the_range_its_dimension_claims(
    tmp_path: Path,
) -> None:
    table = read_table(workbook(tmp_path / "lies.xlsx", [ROW], claim_everything))
    assert table.columns == EVENT_HEADER
    assert [(number, cells["title"]) for number, cells in table.rows] == [(2, "听取汇报")]


def _wide_row(xml: str) -> str:
    return xml.replace(
        "</sheetData>", '<row r="3">' + '<c r="A3"/>' * 20_000 + "</row></sheetData>"
    )


def _doctype(xml: str) -> str:
    declaration, _, rest = xml.rpartition("?>")
    return f'{declaration}{"?>" if declaration else ""}<!DOCTYPE x [<!ENTITY a "aaaa">]>{rest}'


LIMITS = Limits(max_bytes=20_000, max_rows=3, max_columns=8, max_cell_chars=10)
REFUSED_XLSX = [
    ("bomb", lambda p: bomb(p), "more than 3 rows after the header"),
    ("wide row", lambda p: workbook(p, [ROW], _wide_row), "more cells than a worksheet has"),
    ("a DTD", lambda p: workbook(p, [ROW], _doctype), "declares a DTD"),
    ("rows", lambda p: workbook(p, [ROW] * 4), "more than 3 rows after the header"),
    ("columns", lambda p: workbook(p, [[*ROW, "", "x"]]), ":2: 10 columns, more than 8"),
    ("a long cell", lambda p: workbook(p, [[*ROW[:4], "长" * 11]]), ":2: a cell of 11 characters"),
]


@pytest.mark.parametrize(("make", "message"), [case[1:] for case in REFUSED_XLSX],
                         ids=[case[0] for case in REFUSED_XLSX])  # fmt: skip
def test_a_workbook_beyond_the_limits_is_refused_in_one_line(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path / "events.xlsx")
    with pytest.raises(InputError) as refused:
        read_table(path, LIMITS)
    assert len(refused.value.problems) == 1 and "\n" not in str(refused.value)
    assert message in str(refused.value) and str(path) in str(refused.value)


def test_a_file_is_typed_by_its_content_not_its_name(tmp_path: Path) -> None:
    xlsx = workbook(tmp_path / "real.xlsx", [ROW])
    cases = {
        "zip.csv": (xlsx.read_bytes(), "a ZIP archive, not CSV text"),
        "text.xlsx": (b"unit,kinds\n101,hearing\n", "not an XLSX workbook"),
        "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "an old Excel .xls"),
        "old.csv": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "an old Excel .xls"),
        "broken.xlsx": (b"PK\x03\x04" + bytes(100), "a damaged ZIP archive"),
        "big.csv": (b"unit\n" + b"1\n" * 10_000, "more than 20,000"),
        "blank.csv": (b"unit\n" + b"\n" * 10, "more than 3 rows after the header"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputError, match=re.escape(message)):
            read_table(path, LIMITS)


def test_an_xlsx_that_unpacks_to_more_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "padded.xlsx", [ROW], lambda xml: xml + " " * 60_000)
    with pytest.raises(InputError, match="unpacks to"):
        read_table(path, Limits(max_unpacked_bytes=50_000))


def test_a_cell_a_spreadsheet_would_run_gets_a_quote_and_numbers_stay_numbers() -> None:
    risky = ["=1+2", "+86 138", "-1+2", "@SUM(A1)", "\tx", "\rx"]
    assert [csv_cell(value) for value in risky] == ["'" + value for value in risky]
    safe = ["西河乡", "-5", "+3.5", "1e3", 7, -4.5, None, ""]
    assert [csv_cell(value) for value in safe] == safe


# ----------------------------------------------------------------------------------------------
# The bomb on both faces, measured as the kernel counts a process: its peak resident memory
# (VmHWM, which starts afresh when the process begins its program) and the processor seconds it
# spent (not wall-clock seconds, which a loaded machine or a parallel suite stretches)

REPORT_PEAK = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write(open('/proc/self/status').read()))\n"
    "from scheduler.cli import main\n"
    "sys.argv = ['huiqi', *sys.argv[1:]]\n"
    "main()\n"
)


def child_cpu_seconds() -> float:
    """The processor seconds of this process's finished children so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def cpu_seconds(pid: int) -> float:
    """The processor seconds process ``pid`` has used so far (/proc/PID/stat utime + stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_megabytes(status: str) -> float:
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert found, status
    return int(found.group(1)) / 1024


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_xlsx_bomb_is_refused_quickly_by_the_cli(
    county: HuiqiRunner, database_url: str, tmp_path: Path
) -> None:
    path = bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 10_000
    env = {**os.environ, "HUIQI_DATABASE_URL": database_url}
    start = child_cpu_seconds()
    result = subprocess.run(
        [sys.executable, "-c", REPORT_PEAK, "events", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    seconds = child_cpu_seconds() - start
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}：表头以下超过50,000行\n")
    megabytes = peak_megabytes(result.stderr)
    assert seconds < 5 and megabytes < 200, (seconds, megabytes)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_xlsx_bomb_is_refused_quickly_by_the_web_upload(
    county: HuiqiRunner, database_url: str, tmp_path: Path
) -> None:
    cookie, csrf = clerk_session(database_url)
    port = free_port()
    env = {**os.environ, "HUIQI_DATABASE_URL": database_url, "HUIQI_WEB__SECURE_COOKIES": "false"}
    server = subprocess.Popen(
        [huiqi_executable(), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seconds = upload(
            f"http://127.0.0.1:{port}", cookie, csrf, bomb(tmp_path / "bomb.xlsx"), server.pid
        )
        megabytes = peak_megabytes(Path(f"/proc/{server.pid}/status").read_text())
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert seconds < 5 and megabytes < 200, (seconds, megabytes)


def clerk_session(database_url: str) -> tuple[str, str]:
    """A clerk of 101 and a browser session of theirs, written straight to the database (so
    that the server computes no 64 MiB password hash that would blur its memory peak)."""
    engine = make_engine(database_url)
    now = datetime.now(ZoneInfo("Asia/Shanghai"))  # the server reads the real clock
    with transaction(engine) as session:
        user = accounts.add_user(session, "liu", "clerk", "101", "长城长城长城长城", now, "cli")
        opened = accounts.open_session(session, user, now)
    engine.dispose()
    return opened.cookie, opened.csrf


def upload(base: str, cookie: str, csrf: str, path: Path, pid: int) -> float:
    """Upload ``path`` for an events preview; the processor seconds the server ``pid`` spent
    on it."""
    with httpx.Client(base_url=base, timeout=60, cookies={SESSION_COOKIE: cookie}) as client:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "huiqi serve did not start"
                time.sleep(0.05)  # waiting for the server to listen, not for time to pass
        start = cpu_seconds(pid)
        answer = client.post(
            "/imports",
            data={"csrf": csrf, "kind": "events", "action": "preview"},
            files={"file": ("bomb.xlsx", path.read_bytes(), "application/octet-stream")},
        )
        seconds = cpu_seconds(pid) - start
    assert answer.status_code == 422 and "表头以下超过" in answer.text, answer.text[:300]
    return seconds
