"""Attachments in an S3-compatible bucket (``files.backend: s3``), over real HTTP to moto's
standalone server: the store's four methods, one object per content, the configuration, and
the web app uploading and serving through the bucket, two app instances sharing it."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from scheduler.config import ConfigError, S3Settings, Settings, load_settings
from scheduler.core.rules import RuleBook
from scheduler.store import accounts
from scheduler.store.blobs import blob_store
from scheduler.store.database import transaction
from scheduler.store.models_attachments import Attachment
from scheduler.store.s3blobs import S3Store
from tests import filesamples as sample
from tests.conftest import BUNDLED_RULES, ROOT
from tests.countyfacts import load_county
from tests.webfixtures import EVENTS, add_users, log_in, make_app

pytest_plugins = ["tests.s3server"]
Keys = Callable[[], list[str]]


def test_the_bucket_keeps_bytes_by_their_digest_once(
    s3_settings: S3Settings, object_keys: Keys
) -> None:
    store = S3Store.configured(s3_settings)
    data = sample.pdf()
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.put(data) == digest  # the same bytes again: no second object
    assert object_keys() == [f"files/{digest}"]
    assert store.exists(digest) and store.size(digest) == len(data)
    with store.open(digest) as kept:
        assert kept.read() == data
    other = store.put(sample.png())
    assert sorted(object_keys()) == sorted([f"files/{digest}", f"files/{other}"])


def test_bytes_not_in_the_bucket_are_not_found(s3_settings: S3Settings) -> None:
    store = S3Store.configured(s3_settings)
    absent = hashlib.sha256(b"never kept").hexdigest()
    assert not store.exists(absent)
    with pytest.raises(FileNotFoundError):
        store.open(absent)
    with pytest.raises(FileNotFoundError):
        store.size(absent)
    with pytest.raises(FileNotFoundError):
        store.open("../../etc/passwd")  # never a key that is not a digest


def test_writing_to_a_bucket_that_does_not_exist_fails_with_the_services_answer(
    s3_settings: S3Settings,
) -> None:
    from botocore.exceptions import ClientError

    store = S3Store.configured(s3_settings.model_copy(update={"bucket": "no-such-bucket"}))
    with pytest.raises(ClientError, match="NoSuchBucket"):
        store.put(sample.pdf())


def test_the_backend_and_bucket_come_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("files:\n  backend: s3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value) == f"{config}:1: files: backend s3 needs files.s3.bucket"
    assert caught.value.said("zh") == f"{config} 第1行，files：backend s3 需要设置 files.s3.bucket"
    monkeypatch.setenv("HUIQI_FILES__S3__BUCKET", "huiqi-files")
    monkeypatch.setenv("HUIQI_FILES__S3__ENDPOINT_URL", "http://127.0.0.1:9000")
    files = load_settings(config).files
    assert (files.backend, files.s3.bucket, files.s3.endpoint_url) == (
        "s3",
        "huiqi-files",
        "http://127.0.0.1:9000",
    )
    config.write_text("files:\n  s3:\n    secret_access_key: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as secret:  # keys belong in the environment, never the file
        load_settings(config)
    assert str(secret.value) == f"{config}:3: unknown key 'files.s3.secret_access_key'"


# ----------------------------------------------------------------------------------------------
# The web app on the bucket


def s3_app_settings(database_url: str, folder: Path, bucket: S3Settings) -> Settings:
    return Settings(
        database_url=database_url,
        rules=[str(BUNDLED_RULES)],
        base_dir=str(ROOT),
        mail={"transport": "folder", "folder": str(folder / "mail")},  # type: ignore[arg-type]
        files={"backend": "s3", "folder": str(folder / "files"), "s3": bucket},  # type: ignore[arg-type]
    )


@pytest.fixture
def two_servers(
    engine: Engine,
    book: RuleBook,
    database_url: str,
    tmp_path: Path,
    s3_settings: S3Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> list[TestClient]:
    """Two app instances on one database and one bucket, each with its own local folder."""
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    load_county(engine, book, EVENTS)
    add_users(engine)
    apps = [
        make_app(engine, book, s3_app_settings(database_url, tmp_path / name, s3_settings))
        for name in ("a", "b")
    ]
    return [TestClient(app, base_url="https://testserver") for app in apps]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_file_uploaded_through_one_server_downloads_from_the_other(
    two_servers: list[TestClient], engine: Engine, object_keys: Keys, tmp_path: Path
) -> None:
    first, second = two_servers
    csrf = log_in(first, "clerk")
    form = {"kinds": "hearing", "date": "2021-06-20", "title": "党委会",
            "attachment_type": "minutes", "csrf": csrf}  # fmt: skip
    files = [("files", ("纪要.pdf", sample.pdf(), "application/pdf")),
             ("photo", ("IMG_0001.JPG", sample.jpeg(), "image/jpeg"))]  # fmt: skip
    answer = first.post("/units/101/events/new", data=form, files=files, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    with transaction(engine) as session:
        minutes, photo = session.scalars(select(Attachment).order_by(Attachment.id)).all()
        digests = {minutes.sha256, photo.sha256, photo.thumbnail_sha256}
    assert sorted(object_keys()) == sorted(f"files/{d}" for d in digests)
    assert not any((tmp_path / name / "files").exists() for name in ("a", "b"))  # no local copy
    log_in(second, "viewer")
    download = second.get(f"/attachments/{minutes.id}")
    assert download.status_code == 200 and download.content == sample.pdf()
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-length"] == str(len(sample.pdf()))
    thumbnail = second.get(f"/attachments/{photo.id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.content[:3] == b"\xff\xd8\xff"
    assert thumbnail.headers["content-length"] == str(len(thumbnail.content))
    bundle = second.get("/audit", params={"year": "2021", "format": "zip"})
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        pdfs = [name for name in archive.namelist() if name.endswith("纪要.pdf")]
        assert pdfs and all(archive.read(name) == sample.pdf() for name in pdfs)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_file_missing_from_the_bucket_is_a_404(
    two_servers: list[TestClient], engine: Engine, s3_settings: S3Settings, database_url: str
) -> None:
    first, _ = two_servers
    csrf = log_in(first, "clerk")
    form = {"kinds": "hearing", "date": "2021-06-20", "title": "党委会",
            "attachment_type": "minutes", "csrf": csrf}  # fmt: skip
    files = [("files", ("纪要.pdf", sample.pdf(), "application/pdf"))]
    assert first.post("/units/101/events/new", data=form, files=files,
                      follow_redirects=False).status_code == 303  # fmt: skip
    with transaction(engine) as session:
        row = session.scalars(select(Attachment)).one()
        row_id, digest = row.id, row.sha256
    store = blob_store(s3_app_settings(database_url, Path("unused"), s3_settings))
    assert isinstance(store, S3Store)
    store.client.delete_object(Bucket=s3_settings.bucket, Key=store.key(digest))
    assert first.get(f"/attachments/{row_id}").status_code == 404
