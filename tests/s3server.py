"""A real S3 endpoint on a free loopback port: moto's standalone server
(`moto.server.ThreadedMotoServer`), spoken to over HTTP by boto3 exactly as a MinIO would be.

``s3_endpoint``: the server's URL, one for the test session. ``s3_settings``: an empty bucket of
its own for each test, as ``files.s3`` settings, with the keys in the environment
(``HUIQI_S3_ACCESS_KEY_ID``…) the way a deployment gives them; ``object_keys()`` lists it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from scheduler.config import S3Settings

ACCESS_KEY, SECRET_KEY = "huiqi-test", "huiqi-test-secret"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_settings(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Settings:
    """A new bucket on the endpoint, and the keys to it in the environment."""
    monkeypatch.setenv("HUIQI_S3_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("HUIQI_S3_SECRET_ACCESS_KEY", SECRET_KEY)
    settings = S3Settings(
        endpoint_url=s3_endpoint, bucket=f"huiqi-{uuid.uuid4().hex[:12]}", prefix="files/"
    )
    admin = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=settings.region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    admin.create_bucket(Bucket=settings.bucket)
    return settings


@pytest.fixture
def object_keys(s3_settings: S3Settings) -> Callable[[], list[str]]:
    """``object_keys()``: every key in the test's bucket, as the service lists them."""
    return lambda: _keys(s3_settings)


def _keys(settings: S3Settings) -> list[str]:
    admin = boto3.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    listed = admin.list_objects_v2(Bucket=settings.bucket)
    return [item["Key"] for item in listed.get("Contents", [])]
