"""What every route needs: the settings, the rules and the database, built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy import Engine

from scheduler.config import Settings
from scheduler.core.rules import RuleBook


@dataclass(frozen=True)
class WebContext:
    """The app's shared parts; routes read the clock once per request through `now`."""

    settings: Settings
    book: RuleBook
    engine: Engine

    def now(self) -> datetime:
        return datetime.now(self.settings.zone)


def web_context(request: Request) -> WebContext:
    """The `WebContext` of the app serving ``request`` (use with ``Depends``)."""
    context = request.app.state.huiqi
    assert isinstance(context, WebContext)
    return context
