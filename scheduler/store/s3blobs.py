"""Attachments in an S3-compatible bucket (``files.backend: s3``): MinIO, Ceph, a cloud's object
storage or Amazon S3, through boto3, so that several web servers share one set of files.

Each blob is the object ``PREFIX + SHA-256`` (hex). `put` asks first whether the object is
there (HEAD) and uploads only new bytes, with their MD5 for the service to check; an object
appears whole or not at all, so a reader never sees half a file. Two servers putting the same
bytes at once both write the same object: harmless. The keys are read from the environment,
never from config.yaml: ``HUIQI_S3_ACCESS_KEY_ID`` and ``HUIQI_S3_SECRET_ACCESS_KEY`` (and
``HUIQI_S3_SESSION_TOKEN`` for temporary keys); without them boto3's own chain applies
(``AWS_ACCESS_KEY_ID``…, ``~/.aws``, an instance role).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from scheduler.config import S3Settings
from scheduler.store.digests import DIGEST, digest_of

KEY_VARIABLE = "HUIQI_S3_ACCESS_KEY_ID"
SECRET_VARIABLE = "HUIQI_S3_SECRET_ACCESS_KEY"
TOKEN_VARIABLE = "HUIQI_S3_SESSION_TOKEN"
MISSING = {"404", "NoSuchKey", "NotFound"}


def credentials(environ: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """(access key, secret key, session token) from ``environ``; Nones leave them to boto3."""
    return environ.get(KEY_VARIABLE), environ.get(SECRET_VARIABLE), environ.get(TOKEN_VARIABLE)


@lru_cache(maxsize=8)
def client_for(settings: S3Settings, keys: tuple[str | None, str | None, str | None]) -> Any:
    """One S3 client per bucket settings and keys (a boto3 client is safe to share between
    threads, and making one costs tens of milliseconds: not once per request)."""
    config = Config(
        s3={"addressing_style": settings.addressing},
        retries={"max_attempts": 3, "mode": "standard"},
        request_checksum_calculation="when_required",  # S3-compatible services lack CRC32
        response_checksum_validation="when_required",
    )
    access, secret, token = keys
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=config,
    )


class S3Store:
    """Blobs as objects of one bucket, named by their SHA-256."""

    def __init__(self, settings: S3Settings, client: Any) -> None:
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self.client = client

    @classmethod
    def configured(cls, settings: S3Settings, environ: Mapping[str, str] = os.environ) -> S3Store:
        return cls(settings, client_for(settings, credentials(environ)))

    def key(self, digest: str) -> str:
        if not DIGEST.match(digest):
            raise FileNotFoundError(digest)
        return self.prefix + digest

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        if self.exists(digest):
            return digest
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self.client.put_object(
            Bucket=self.bucket, Key=self.key(digest), Body=data, ContentMD5=md5,
            ContentType="application/octet-stream",
        )  # fmt: skip
        return digest

    def open(self, digest: str) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(digest))
        except ClientError as error:
            raise _missing(error, digest) from None
        return cast(BinaryIO, answer["Body"])  # a botocore StreamingBody: read(n), close()

    def exists(self, digest: str) -> bool:
        try:
            self.size(digest)
        except FileNotFoundError:
            return False
        return True

    def size(self, digest: str) -> int:
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self.key(digest))
        except ClientError as error:
            raise _missing(error, digest) from None
        return int(answer["ContentLength"])


def _missing(error: ClientError, digest: str) -> Exception:
    """`FileNotFoundError` for an object that is not there; any other failure as it came."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    return FileNotFoundError(digest) if code in MISSING else error
