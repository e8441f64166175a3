"""``huiqi audit --format zip``: the XLSX and the documents of its evidence, filed by unit, rule
and period, every hyperlink resolving once the ZIP is unpacked."""

from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from scheduler.audit import bundle
from tests import filesamples as sample
from tests.conftest import HuiqiRunner


def resolved(folder: Path, target: str) -> Path:
    """Where a relative link of the workbook leads from ``folder`` (the workbook's), read as
    Excel reads it: a Windows path (backslashes, as Excel writes them) with %-escapes."""
    return folder / unquote(target).replace("\\", "/")


def test_the_zip_holds_the_listing_and_its_documents_and_the_links_resolve(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    env = {"HUIQI_FILES__FOLDER": str(tmp_path / "files")}
    county("events", "add", "--unit", "101", "--kinds", "hearing;study", "--date", "2021-02-10",
           "--title", "党委会")  # fmt: skip
    (tmp_path / "纪要.pdf").write_bytes(sample.pdf())
    (tmp_path / "合影.png").write_bytes(sample.png())
    county("events", "attach", "1", str(tmp_path / "纪要.pdf"), "--type", "minutes", env=env)
    county("events", "attach", "1", str(tmp_path / "合影.png"), "--type", "photo", env=env)
    out = tmp_path / "台账.zip"
    done = county("audit", "--year", "2021", "--as-of", "2021-06-30", "--unit", "101",
                  "--format", "zip", "-o", str(out), env=env)  # fmt: skip
    assert done.stdout.strip().endswith(" 份材料") and "项义务，" in done.stdout
    english = county("--lang", "en", "audit", "--year", "2021", "--as-of", "2021-06-30",
                     "--unit", "101", "--format", "zip", "-o", str(tmp_path / "en.zip"),
                     env=env)  # fmt: skip
    assert english.stdout.strip().endswith(" documents") and " obligations, " in english.stdout
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
        archive.extractall(unpacked)
    pdfs = sorted(unpacked.rglob("*-纪要.pdf"))
    folders = {path.parent.relative_to(unpacked).as_posix() for path in pdfs}
    assert "附件/101/township-hearing/2021-B1" in folders  # one record serves every rule
    assert len(folders) >= 2 and all(p.read_bytes() == sample.pdf() for p in pdfs)
    workbook = load_workbook(unpacked / "台账.xlsx")
    listed = workbook["附件"]
    links = [row[4].hyperlink.target for row in listed.iter_rows(min_row=2)]
    assert links and all(resolved(unpacked, link).is_file() for link in links)
    sheet = workbook["township-hearing"]
    column = [cell.value for cell in sheet[1]].index("附件") + 1
    folder_links = [
        sheet.cell(row, column).hyperlink.target
        for row in range(2, sheet.max_row + 1)
        if sheet.cell(row, column).hyperlink
    ]
    assert folder_links == ["附件\\101\\township-hearing\\2021-B1\\"]
    assert resolved(unpacked, folder_links[0]).is_dir()
    assert "合影.png" in sheet.cell(2, column).value
    assert workbook["附件"]["E2"].style == "Hyperlink"


def test_a_zip_without_documents_is_still_the_listing(county: HuiqiRunner, tmp_path: Path) -> None:
    out = tmp_path / "台账.zip"
    county("audit", "--year", "2021", "--as-of", "2021-06-30", "--format", "zip", "-o", str(out))
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["台账.xlsx"]


def test_a_workbook_made_in_a_forked_child_comes_back_whole() -> None:
    made = bytes(range(256)) * 8192  # 2 MB: more than a pipe holds at once
    assert bundle.in_child(lambda: made)() == made


def test_a_workbook_the_child_cannot_make_is_made_here_and_its_error_raised() -> None:
    def failing() -> bytes:
        raise ValueError("no such sheet")

    with pytest.raises(ValueError, match="no such sheet"):
        bundle.in_child(failing)()
