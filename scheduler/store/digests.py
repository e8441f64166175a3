"""The name of a blob in every store: the SHA-256 of its bytes, in lower-case hex."""

from __future__ import annotations

import hashlib
import re

DIGEST = re.compile(r"^[0-9a-f]{64}$")


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
