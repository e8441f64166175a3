"""Where the bytes of attachments live, content-addressed by their SHA-256.

`BlobStore` is the small interface every backend keeps: `put` (idempotent: the same content
is kept once), `open` (a readable binary stream), `exists` and `size`. `FolderStore` keeps each
blob as ``FOLDER/ab/cd/abcd…`` (the hex digest), written to a temporary file first and renamed
into place, so a reader never sees half a file; `scheduler.store.s3blobs.S3Store` keeps them
in an S3-compatible bucket (``files.backend: s3``), for several web servers sharing one set.
A blob is written before the database row that names it commits: a failed transaction may
leave an unnamed blob behind, never a row without its blob.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from scheduler.config import Settings
from scheduler.store.digests import DIGEST, digest_of


class BlobStore(Protocol):
    """A content-addressed store of bytes."""

    def put(self, data: bytes) -> str:
        """Keep ``data``; its SHA-256 (hex). Keeping the same bytes twice stores them once."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """The bytes of ``digest`` as a stream; `FileNotFoundError` when they are not kept."""
        ...

    def exists(self, digest: str) -> bool:
        """Whether the bytes of ``digest`` are kept."""
        ...

    def size(self, digest: str) -> int:
        """How many bytes ``digest`` has; `FileNotFoundError` when they are not kept."""
        ...


class FolderStore:
    """Blobs as files under one folder, two levels of fan-out by digest."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        if not DIGEST.match(digest):
            raise FileNotFoundError(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def open(self, digest: str) -> BinaryIO:
        return self.path(digest).open("rb")

    def exists(self, digest: str) -> bool:
        try:
            return self.path(digest).is_file()
        except FileNotFoundError:
            return False

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size


def blob_store(settings: Settings) -> BlobStore:
    """The configured store (``files.backend``)."""
    if settings.files.backend == "s3":
        from scheduler.store.s3blobs import S3Store  # boto3 is slow to import: only when used

        return S3Store.configured(settings.files.s3)
    return FolderStore(settings.path(settings.files.folder))
