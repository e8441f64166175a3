"""Group-chat robots: post a markdown message to a WeCom (企业微信) or DingTalk (钉钉) webhook.

Configured per unit in ``reminders.chats`` (``unit``, ``kind``, ``url_env``, ``secret_env``);
the webhook URL and the DingTalk secret come only from the environment variables named there.
DingTalk's signed variant (加签) appends ``timestamp`` (ms) and ``sign`` = URL-encoded Base64 of
HMAC-SHA256(secret, "timestamp\\nsecret") to every request. Both robots answer HTTP 200 with an
``errcode``; anything but 0 is a failure. Failures are `TransportError`s, transient (network, HTTP
5xx, rate limits) or permanent (everything else).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scheduler.config import ChatSettings
from scheduler.transports.base import TransportError

TIMEOUT = 10.0
RATE_LIMITED = frozenset({45009, 130101, -1})  # WeCom freq limit, DingTalk too fast, busy


@dataclass(frozen=True)
class ChatMessage:
    """A markdown message for one unit's group robot."""

    chat: ChatSettings
    title: str
    markdown: str


@dataclass(frozen=True)
class ChatRobots:
    """The chat transport: posts each message to its robot, one request each, signed (DingTalk)
    at the moment of sending, since the robot refuses a signature over an hour old."""

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def send_batch(self, messages: Sequence[ChatMessage]) -> list[TransportError | None]:
        now = datetime.now(UTC)
        return [post(m.chat, m.title, m.markdown, now, self.environ) for m in messages]


def payload(kind: str, title: str, markdown: str) -> dict[str, Any]:
    """The JSON body of a markdown message for ``kind`` (wecom or dingtalk)."""
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    return {"msgtype": "markdown", "markdown": {"content": markdown}}


def signed_url(url: str, secret: str, now: datetime) -> str:
    """A DingTalk webhook URL with ``timestamp`` and ``sign`` for ``now``."""
    timestamp = str(round(now.timestamp() * 1000))
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    sign = urllib.parse.quote_plus(base64.b64encode(mac.digest()))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp}&sign={sign}"


def post(
    chat: ChatSettings,
    title: str,
    markdown: str,
    now: datetime,
    environ: Mapping[str, str] = os.environ,
) -> TransportError | None:
    """Post one markdown message; None when the robot accepted it."""
    url = environ.get(chat.url_env)
    if not url:
        return TransportError(f"chat {chat.unit}: environment variable {chat.url_env} is not set")
    if chat.kind == "dingtalk" and chat.secret_env:
        secret = environ.get(chat.secret_env)
        if not secret:
            return TransportError(
                f"chat {chat.unit}: environment variable {chat.secret_env} is not set"
            )
        url = signed_url(url, secret, now)
    body = json.dumps(payload(chat.kind, title, markdown), ensure_ascii=False).encode()
    return _send(url, body, chat.unit)


def _send(url: str, body: bytes, unit: str) -> TransportError | None:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            answer = response.read()
    except urllib.error.HTTPError as error:
        return TransportError(f"chat {unit}: HTTP {error.code}", permanent=error.code < 500)
    except (urllib.error.URLError, OSError) as error:
        return TransportError(f"chat {unit}: {getattr(error, 'reason', error)}")
    return _verdict(answer, unit)


def _verdict(answer: bytes, unit: str) -> TransportError | None:
    try:
        data = json.loads(answer)
        code = int(data.get("errcode", 0))
    except (ValueError, AttributeError):
        return TransportError(f"chat {unit}: unreadable answer {answer[:100]!r}")
    if code == 0:
        return None
    message = f"chat {unit}: errcode {code} {data.get('errmsg', '')}".strip()
    return TransportError(message, permanent=code not in RATE_LIMITED)
