"""What the pages share: who is logged in, the language, CSRF, scope checks and rendering.

A page route raises `LoginRequired` (→ 303 to /login), `Refused` (→ 403 page) or `NotFound`
(→ 404 page); `PageRoute` turns them into responses, so every router keeps to one
``include_router`` line in `create_app`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.core.access import Principal, can_change, can_read, lineage
from scheduler.core.assessment import may_read_scores
from scheduler.core.compliance import Status
from scheduler.core.summaries import SEVERITY, SYMBOLS
from scheduler.core.words import format_date, format_rate, status_name, words
from scheduler.store import accounts
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.templating import page_environment
from scheduler.web.context import WebContext, web_context

SESSION_COOKIE = "huiqi_session"
LOGIN_CSRF_COOKIE = "huiqi_login_csrf"
LANG_COOKIE = "huiqi_lang"


class LoginRequired(Exception):
    """The page needs a logged-in user."""


class Refused(Exception):
    """The user may not read or change what the page is about."""


class NotFound(Exception):
    """Nothing with that code or id."""


@dataclass(frozen=True)
class Visit:
    """One page request: the app's context, the user, their CSRF token, language and clock."""

    context: WebContext
    user: Principal
    csrf: str
    lang: str
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()


def language(request: Request, context: WebContext) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in ("zh", "en") else context.settings.language


def current_visit(request: Request, context: WebContext = Depends(web_context)) -> Visit:  # noqa: B008
    """The logged-in visit (a FastAPI dependency); raises `LoginRequired` without a session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    now = context.now()
    if not cookie:
        raise LoginRequired
    with transaction(context.engine) as session:
        found = accounts.session_user(session, cookie, now)
    if found is None:
        raise LoginRequired
    return Visit(context, found[0], found[1], language(request, context), now)


VisitDep = Annotated[Visit, Depends(current_visit)]
"""A route parameter: the logged-in visit (login page or refusal otherwise)."""


async def checked_form(request: Request, visit: Visit) -> Mapping[str, Any]:
    """The posted form, refused unless its ``csrf`` field matches the session's token."""
    form = await request.form()
    if not secrets.compare_digest(str(form.get("csrf", "")), visit.csrf):
        raise Refused
    return form


# ----------------------------------------------------------------------------------------------
# Scope


def parents(session: Session) -> dict[int, int | None]:
    """Every unit's parent (one statement)."""
    return dict(session.execute(select(Unit.id, Unit.parent_id)).all())


def unit_for(session: Session, user: Principal, code: str, change: bool = False) -> Unit:
    """The unit ``code`` if ``user`` may read (``change``: change) it; else NotFound/Refused."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound
    chain = lineage(unit.id, parents(session))
    allowed = can_change(user, chain) if change else can_read(user, chain)
    if not allowed:
        raise Refused
    return unit


def scope_code(session: Session, user: Principal) -> str | None:
    """The code of the user's unit (None for an admin: everything)."""
    if user.unit_id is None:
        return None
    return session.scalar(select(Unit.code).where(Unit.id == user.unit_id))


# ----------------------------------------------------------------------------------------------
# Rendering


@lru_cache(maxsize=8)
def environment(folder: str) -> Environment:
    """The page environment (`scheduler.templating`) with the helpers every page uses."""
    env = page_environment(folder).overlay()
    helpers = {"symbols": SYMBOLS, "severity": SEVERITY, "rate": format_rate, "quote": quote}
    env.globals = {**env.globals, **helpers}  # an overlay shares its parent's dict otherwise
    return env


def page(
    request: Request, visit: Visit | None, context: WebContext, name: str, **values: Any
) -> HTMLResponse:
    """Render ``templates/web/<name>``; ``status_code`` in ``values`` sets the status."""
    lang = visit.lang if visit else language(request, context)
    status_code = values.pop("status_code", 200)
    env = environment(str(context.settings.path(context.settings.templates)))
    html = env.get_template(f"web/{name}").render(
        request_path=request.url.path,
        request_query=str(request.url.query),
        user=visit.user if visit else None,
        reads_scores=visit is not None
        and may_read_scores(visit.user, context.settings.assessment.visible_to),
        csrf=visit.csrf if visit else "",
        review_mode=context.book.review_mode,
        lang=lang,
        t=words(lang, "page."),
        date=lambda day: format_date(day, lang) if day else "",
        status_name=lambda status: status_name(status, lang),
        status_class=lambda status: f"s-{Status(status).value}" if status else "s-none",
        **values,
    )
    return HTMLResponse(html, status_code=status_code)


class PageRoute(APIRoute):
    """A route whose `LoginRequired`, `Refused` and `NotFound` become a redirect or a page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await original(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            except (Refused, NotFound) as error:
                return _refusal(request, isinstance(error, Refused))

        return handle


def _refusal(request: Request, refused: bool) -> HTMLResponse:
    context = web_context(request)
    key = "refused" if refused else "not_found"
    names = words(language(request, context), "page.")
    return page(
        request,
        None,
        context,
        "refused.html",
        status_code=403 if refused else 404,
        heading=names[key],
        text=names["refused_text"] if refused else "",
    )


def templates_folder(context: WebContext) -> Path:
    return context.settings.path(context.settings.templates)
