"""The small county on Friday 2026-10-16 with its 09:00 reminders written to the folder
transport, and the web app at a fixed moment: the world of the phone pages' tests."""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from scheduler.config import Settings
from scheduler.core.rules import RuleBook
from scheduler.reminders.dispatch import dispatch
from scheduler.reminders.sweep import sweep
from scheduler.store.database import transaction
from scheduler.transports.delivery import make_transports
from tests.conftest import BUNDLED_RULES, ROOT
from tests.remindworld import DAY, load
from tests.webfixtures import make_app

LINK = re.compile(r"(https?://[^\s/]+)?/r/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def phone_settings(url: str, folder: Path, base_url: str, **reminders: Any) -> Settings:
    return Settings(
        database_url=url,
        rules=[str(BUNDLED_RULES)],
        base_dir=str(ROOT),
        mail={"transport": "folder", "folder": str(folder)},  # type: ignore[arg-type]
        files={"folder": str(folder / "files")},  # type: ignore[arg-type]
        web={"base_url": base_url},  # type: ignore[arg-type]
        reminders=reminders,  # type: ignore[arg-type]
    )


def send_reminders(engine: Engine, book: RuleBook, settings: Settings) -> None:
    """Load the county, sweep at 09:00 and dispatch at once (the folder transport)."""
    load(engine, book)
    with transaction(engine) as session:
        sweep(session, book, settings, DAY.date(), DAY)
    dispatch(engine, book, settings, make_transports(settings), DAY)


def mail_to(folder: Path, address: str) -> EmailMessage:
    for path in sorted(folder.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        if address in str(message["To"]):
            return message
    raise AssertionError(f"no mail to {address} in {folder}")


def record_link(message: EmailMessage) -> str:
    """The path ``/r/TOKEN`` of the first record link in the mail's plain text."""
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, "no record link in the mail"
    return f"/r/{found.group(2)}"


def app_at(engine: Engine, book: RuleBook, settings: Settings, now: datetime) -> FastAPI:
    return make_app(engine, book, settings, now)
