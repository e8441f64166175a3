"""The FastAPI app: `create_app(settings)` wires the shared context, the health route and the
routers (each capability's routes live in their own module and are included here)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from scheduler import logs
from scheduler.config import Settings, load_settings
from scheduler.rulefiles import read_rulebook
from scheduler.store.database import make_engine
from scheduler.web import api as web_api
from scheduler.web import assessment as web_assessment
from scheduler.web import attachments as web_attachments
from scheduler.web import feeds
from scheduler.web import forms as web_forms
from scheduler.web import imports as web_imports
from scheduler.web import listings as web_listings
from scheduler.web import metrics as web_metrics
from scheduler.web import pages as web_pages
from scheduler.web import phone as web_phone
from scheduler.web import planning as web_planning
from scheduler.web import rectify as web_rectify
from scheduler.web import reviews as web_reviews
from scheduler.web import signin as web_signin
from scheduler.web import waivers as web_waivers
from scheduler.web.context import WebContext, web_context

CONFIG_VARIABLE = "HUIQI_SERVE_CONFIG"  # set by 'huiqi serve --workers N' for its workers


def from_environment() -> FastAPI:
    """The app of one of several worker processes: the configuration 'huiqi serve' named
    (``HUIQI_SERVE_CONFIG``; empty: ./config.yaml) and the environment's overrides."""
    given = os.environ.get(CONFIG_VARIABLE, "")
    settings = load_settings(Path(given) if given else None)
    logs.configure(settings.log.format, settings.log.level)
    return create_app(settings)


def create_app(settings: Settings) -> FastAPI:
    """The web app for ``settings``; the rules are read (and checked) now, not per request."""
    book = read_rulebook(settings.rule_paths, settings.term_starts, settings.review.mode)
    engine = make_engine(settings.resolved_database_url)
    app = FastAPI(title="huiqi 会期", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.huiqi = WebContext(settings, book, engine)
    app.state.huiqi_counters = web_metrics.Counters()
    app.add_api_route("/health", health, methods=["GET", "HEAD"])
    app.include_router(web_metrics.make_router(web_metrics.metrics_token()))
    app.include_router(feeds.make_router(settings.calendar.feed_cache_seconds))
    app.include_router(web_pages.router)
    app.include_router(web_phone.router)
    app.include_router(web_phone.staff_router)
    app.include_router(web_signin.router)
    app.include_router(web_signin.staff_router)
    app.include_router(web_forms.router)
    app.include_router(web_attachments.router)
    app.include_router(web_listings.router)
    app.include_router(web_waivers.router)
    app.include_router(web_reviews.router)
    app.include_router(web_rectify.router)
    app.include_router(web_imports.router)
    app.include_router(web_assessment.router)
    app.include_router(web_planning.router)
    app.include_router(web_api.router)
    return app


def health(context: WebContext = Depends(web_context)) -> JSONResponse:  # noqa: B008
    """``{"status": "ok"}`` when the database answers, else 503."""
    try:
        with context.engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # any database failure makes the app unhealthy
        return JSONResponse({"status": "error", "error": type(error).__name__}, status_code=503)
    return JSONResponse({"status": "ok"})
