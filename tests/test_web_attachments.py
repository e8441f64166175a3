"""Attachments over HTTP: the record form, the unit page's attach form, downloads with
nosniff, the API and the command line; scope everywhere (another township's clerk sees none)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from scheduler.store import accounts
from scheduler.store.database import transaction
from scheduler.store.models import Event
from scheduler.store.models_attachments import Attachment
from tests import filesamples as sample
from tests.conftest import HuiqiRunner

pytest_plugins = ["tests.webfixtures"]
Login = Callable[[str], tuple[TestClient, str]]
HEARING = {
    "kinds": "hearing",
    "date": "2021-06-20",
    "title": "党委会",
    "attachment_type": "minutes",
}


def hearing_id(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalars(select(Event.id).where(Event.ref == "h1")).one())


def count(engine: Engine, model: type) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def record(client: TestClient, csrf: str, files: list, **fields: str):
    return client.post(
        "/units/101/events/new",
        data={**HEARING, **fields, "csrf": csrf},
        files=files,
        follow_redirects=False,
    )


def test_the_record_form_saves_the_event_with_its_files_and_the_page_lists_them(
    client_of: Login, engine: Engine
) -> None:
    clerk, csrf = client_of("clerk")
    files = [
        ("files", ("纪要.pdf", sample.pdf(), "application/pdf")),
        ("photo", ("IMG_0001.JPG", sample.jpeg(), "image/jpeg")),
    ]
    answer = record(clerk, csrf, files)
    assert answer.status_code == 303, answer.text
    with transaction(engine) as session:
        rows = session.scalars(select(Attachment).order_by(Attachment.id)).all()
        kinds = [(a.kind, a.filename, a.media_type) for a in rows]
        photo = rows[1].id
    assert kinds == [
        ("minutes", "纪要.pdf", "application/pdf"),
        ("photo", "IMG_0001.jpg", "image/jpeg"),
    ]
    page = clerk.get("/units/101").text
    assert "纪要.pdf" in page and f'src="/attachments/{photo}/thumbnail"' in page


def test_the_record_form_saves_nothing_when_a_file_is_refused(
    client_of: Login, engine: Engine
) -> None:
    clerk, csrf = client_of("clerk")
    before = count(engine, Event)
    files = [("files", ("photo.jpg", sample.HTML, "image/jpeg"))]
    answer = record(clerk, csrf, files)
    assert answer.status_code == 422
    assert "不是 PDF、图片（PNG、JPEG、GIF、WebP）或 Office 文档" in answer.text
    assert 'id="error-file"' in answer.text and "not a PDF" not in answer.text
    assert (count(engine, Event), count(engine, Attachment)) == (before, 0)


def test_an_event_is_recorded_without_any_attachment(client_of: Login, engine: Engine) -> None:
    clerk, csrf = client_of("clerk")
    assert record(clerk, csrf, []).status_code == 303
    assert count(engine, Attachment) == 0


def test_a_body_over_the_limit_is_refused_before_it_is_read(client_of: Login) -> None:
    clerk, _ = client_of("clerk")
    answer = clerk.post(
        "/units/101/events/new", content=b"x", headers={"content-length": "999999999"}
    )
    assert answer.status_code == 413
    assert "上传的内容超过每个文件 20,000,000 字节" in answer.text
    assert "larger than" not in answer.text
    clerk.cookies.set("huiqi_lang", "en")
    english = clerk.post(
        "/units/101/events/new", content=b"x", headers={"content-length": "999999999"}
    )
    assert english.status_code == 413
    assert "the upload is larger than 20,000,000 bytes a file" in english.text


def attach_on_page(client: TestClient, csrf: str, event_id: int, name: str, data: bytes):
    return client.post(
        f"/events/{event_id}/attachments",
        data={"csrf": csrf, "attachment_type": "signin"},
        files=[("files", (name, data, "application/octet-stream"))],
        follow_redirects=False,
    )


def test_downloads_are_attachments_with_nosniff_and_only_inside_the_readers_units(
    client_of: Login, engine: Engine
) -> None:
    clerk, csrf = client_of("clerk")
    event_id = hearing_id(engine)
    assert attach_on_page(clerk, csrf, event_id, "签到表.png", sample.png()).status_code == 303
    with transaction(engine) as session:
        attachment_id = session.scalars(select(Attachment.id)).one()
    answer = clerk.get(f"/attachments/{attachment_id}")
    assert answer.status_code == 200 and answer.content == sample.png()
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-type"] == "image/png"
    disposition = answer.headers["content-disposition"]
    assert (
        disposition.startswith("attachment;") and "%E7%AD%BE%E5%88%B0%E8%A1%A8.png" in disposition
    )
    assert "sandbox" in answer.headers["content-security-policy"]
    thumbnail = clerk.get(f"/attachments/{attachment_id}/thumbnail")
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert thumbnail.headers["x-content-type-options"] == "nosniff"
    county, _ = client_of("viewer")
    assert county.get(f"/attachments/{attachment_id}").status_code == 200
    other, other_csrf = client_of("other")
    assert other.get(f"/attachments/{attachment_id}").status_code == 404
    assert other.get(f"/attachments/{attachment_id}/thumbnail").status_code == 404
    assert attach_on_page(other, other_csrf, event_id, "x.png", sample.png()).status_code == 403
    assert count(engine, Attachment) == 1


def test_a_viewer_cannot_attach(client_of: Login, engine: Engine) -> None:
    viewer, csrf = client_of("viewer")
    answer = attach_on_page(viewer, csrf, hearing_id(engine), "a.pdf", sample.pdf())
    assert answer.status_code == 403 and count(engine, Attachment) == 0


# ----------------------------------------------------------------------------------------------
# API


def bearer(web_app: FastAPI, engine: Engine, user: str) -> TestClient:
    with transaction(engine) as session:
        token = accounts.create_token(session, user, "test", web_app.state.huiqi.now(), "cli")
    return TestClient(web_app, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_attaches_lists_and_serves_within_scope(web_app: FastAPI, engine: Engine) -> None:
    event_id = hearing_id(engine)
    clerk = bearer(web_app, engine, "clerk")
    url = f"/api/events/{event_id}/attachments"
    made = clerk.post(url, data={"type": "resolution"}, files={"file": ("决议.pdf", sample.pdf())})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["type"], body["filename"], body["media_type"]) == (
        "resolution",
        "决议.pdf",
        "application/pdf",
    )
    assert [item["id"] for item in clerk.get(url).json()["items"]] == [body["id"]]
    download = clerk.get(body["url"])
    assert download.content == sample.pdf()
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")
    other = bearer(web_app, engine, "other")
    assert other.get(body["url"]).status_code == 404
    assert other.get(url).status_code == 403
    refused = other.post(url, data={"type": "minutes"}, files={"file": ("a.pdf", sample.pdf())})
    assert refused.status_code == 403
    wrong = clerk.post(url, data={"type": "minutes"}, files={"file": ("a.jpg", sample.HTML)})
    assert wrong.status_code == 422 and "not a PDF" in wrong.text
    untyped = clerk.post(url, files={"file": ("a.pdf", sample.pdf())})
    assert untyped.status_code == 422 and "type" in untyped.text
    assert count(engine, Attachment) == 1


# ----------------------------------------------------------------------------------------------
# Command line


def test_the_command_attaches_a_file_in_the_users_units(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    env = {"HUIQI_FILES__FOLDER": str(tmp_path / "files")}
    county("events", "add", "--unit", "101", "--kinds", "hearing", "--date", "2021-03-12")
    minutes = tmp_path / "纪要.pdf"
    minutes.write_bytes(sample.pdf())
    done = county("events", "attach", "1", str(minutes), "--type", "minutes", "--by", "县妇联",
                  env=env)  # fmt: skip
    assert done.stdout.startswith("附件 1（纪要.pdf，sha256 ")
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(sample.HTML)
    refused = county("events", "attach", "1", str(fake), "--by", "x", env=env, check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"{fake}，文件：不是 PDF、图片（PNG、JPEG、GIF、WebP）或 Office 文档"
    )
    english = county("--lang", "en", "events", "attach", "1", str(fake), "--by", "x", env=env,
                     check=False)  # fmt: skip
    assert english.stderr.strip().endswith("file: not a PDF, an image (PNG, JPEG, GIF, WebP) or "
                                           "an Office document")  # fmt: skip
    trail = county("trail", "--format", "csv").stdout
    assert "添加附件" in trail and "会议记录" in trail


def test_the_audit_page_downloads_the_listing_with_its_documents_as_a_zip(
    client_of: Login, engine: Engine, tmp_path: Path
) -> None:
    clerk, csrf = client_of("clerk")
    files = [("files", ("纪要.pdf", sample.pdf(), "application/pdf"))]
    assert record(clerk, csrf, files).status_code == 303
    page = clerk.get("/audit", params={"year": "2021", "as_of": "2021-12-31"}).text
    assert 'id="download-zip"' in page and "format=zip" in page
    answer = clerk.get("/audit", params={"year": "2021", "as_of": "2021-12-31", "format": "zip"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        names = archive.namelist()
        pdfs = [name for name in names if name.endswith("纪要.pdf")]
        assert pdfs and all(archive.read(name) == sample.pdf() for name in pdfs)
        assert any(name.endswith(".xlsx") for name in names)
    other, _ = client_of("other")  # the clerk of township 102: none of 101's documents
    theirs = other.get("/audit", params={"year": "2021", "as_of": "2021-12-31", "format": "zip"})
    with zipfile.ZipFile(io.BytesIO(theirs.content)) as archive:
        assert not [name for name in archive.namelist() if name.endswith(".pdf")]


def test_the_print_version_lists_each_obligations_documents_linked_for_the_reader(
    client_of: Login, engine: Engine
) -> None:
    from scheduler.web.kit import LANG_COOKIE

    clerk, csrf = client_of("clerk")
    files = [("files", ("纪要.pdf", sample.pdf(), "application/pdf")),
             ("photo", ("IMG_0001.JPG", sample.jpeg(), "image/jpeg"))]  # fmt: skip
    assert record(clerk, csrf, files).status_code == 303
    with transaction(engine) as session:
        minutes, photo = session.scalars(select(Attachment.id).order_by(Attachment.id)).all()
    query = {"year": "2021", "as_of": "2021-12-31", "unit": "101", "format": "html"}
    page = clerk.get("/audit", params=query).text
    assert "<th>附件</th>" in page
    assert f'<div>会议记录：<a href="/attachments/{minutes}">纪要.pdf</a></div>' in page
    assert f'<div>照片：<a href="/attachments/{photo}">IMG_0001.jpg</a></div>' in page
    assert clerk.get(f"/attachments/{minutes}").status_code == 200  # the link downloads
    clerk.cookies.set(LANG_COOKIE, "en")
    english = clerk.get("/audit", params=query).text
    assert "<th>Documents</th>" in english
    assert f'<div>Minutes: <a href="/attachments/{minutes}">纪要.pdf</a></div>' in english
    other, _ = client_of("other")  # township 102's clerk: not one of 101's documents
    theirs = other.get("/audit", params={**query, "unit": ""}).text
    assert "纪要.pdf" not in theirs and "/attachments/" not in theirs


def test_the_print_version_from_the_command_line_names_the_documents_unlinked(
    county: HuiqiRunner, tmp_path: Path
) -> None:
    env = {"HUIQI_FILES__FOLDER": str(tmp_path / "files")}
    county("events", "add", "--unit", "101", "--kinds", "hearing", "--date", "2021-03-12")
    (tmp_path / "签到表.pdf").write_bytes(sample.pdf())
    county("events", "attach", "1", str(tmp_path / "签到表.pdf"), "--type", "signin", env=env)
    out = tmp_path / "台账.html"
    for lang, expected in (("zh", "<div>签到表：签到表.pdf</div>"),
                           ("en", "<div>Sign-in sheet: 签到表.pdf</div>")):  # fmt: skip
        county("audit", "--year", "2021", "--as-of", "2021-12-31", "--unit", "101",
               "--format", "html", "--lang", lang, "-o", str(out), env=env)  # fmt: skip
        page = out.read_text(encoding="utf-8")
        assert expected in page and "/attachments/" not in page
