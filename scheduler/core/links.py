"""Signed tokens of the phone pages: reminder record links and meeting sign-in sheets.

Pure: key, claims and clock are parameters. A token is ``BODY.MAC``: BODY the URL-safe Base64
(unpadded) of ``v1|KIND|A|B|EXPIRES|NONCE`` (KIND ``r`` record link: A the unit id, B the person
id; KIND ``s`` sign-in: A the meeting id, B 0; EXPIRES Unix seconds), MAC the URL-safe Base64 of
HMAC-SHA256(key, BODY). `read_token` checks the MAC (constant time) before it believes anything
in BODY, then the expiry: a changed character is ``tampered``, a past expiry ``expired``.
Revocation is the store's business (it keeps the SHA-256 of each token it issued).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

RECORD = "r"
SIGN_IN = "s"
_VERSION = "v1"


class Refusal(StrEnum):
    """Why a token is refused; each has a page that says so (``link.refused.<value>``)."""

    TAMPERED = "tampered"
    EXPIRED = "expired"
    REVOKED = "revoked"
    BUSY = "busy"  # rate-limited
    NOT_TODAY = "not_today"  # a sign-in sheet outside its meeting's day
    CLOSED = "closed"  # the meeting is no longer planned


class TokenRefused(ValueError):
    """A token that may not be used, and why."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Claims:
    """What a valid token says: its kind, two ids and when it expires (aware, UTC)."""

    kind: str
    first: int
    second: int
    expires: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


def make_token(key: bytes, claims: Claims, nonce: str | None = None) -> str:
    """A signed token for ``claims``; without ``nonce`` a fresh one (two tokens never equal),
    with one (letters and digits) the same claims always give the same token."""
    expires = int(claims.expires.timestamp())
    nonce = nonce or secrets.token_urlsafe(12)
    text = f"{_VERSION}|{claims.kind}|{claims.first}|{claims.second}|{expires}|{nonce}"
    body = _b64(text.encode("ascii"))
    return f"{body}.{_mac(key, body)}"


def read_token(key: bytes, token: str, kind: str, now: datetime) -> Claims:
    """The claims of ``token`` if its MAC is right, it is of ``kind`` and unexpired at ``now``."""
    body, _, mac = token.partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _mac(key, body)):
        raise TokenRefused(Refusal.TAMPERED)
    try:
        version, found, first, second, expires, _ = _unb64(body).decode("ascii").split("|")
        claims = Claims(found, int(first), int(second), datetime.fromtimestamp(int(expires), UTC))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TokenRefused(Refusal.TAMPERED) from None
    if version != _VERSION or found != kind:
        raise TokenRefused(Refusal.TAMPERED)
    if now >= claims.expires:
        raise TokenRefused(Refusal.EXPIRED)
    return claims


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
