"""What the pages share: who is logged in, the language, CSRF, scope checks and rendering.

A page route raises `LoginRequired` (→ 303 to /login), `Refused` (→ 403 page) or `NotFound`
(→ 404 page); `PageRoute` turns them into responses, so every router keeps to one
``include_router`` line in `create_app`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.audit.export import money_text
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


class BadDay(Exception):
    """The ``as_of`` query parameter is not a day written YYYY-MM-DD."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


@dataclass(frozen=True)
class Visit:
    """One page request: the app's context, the user, their CSRF token, language and clock;
    ``as_of`` is the day the visitor asked to see (``?as_of=``), None for today."""

    context: WebContext
    user: Principal
    csrf: str
    lang: str
    now: datetime
    as_of: date | None = None

    @property
    def today(self) -> date:
        """The day the page is as of: the asked one, else today."""
        return self.as_of or self.now.date()


DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def asked_day(request: Request) -> date | None:
    """The ``as_of`` query parameter as a day (None when absent or empty); `BadDay` otherwise."""
    raw = request.query_params.get("as_of", "").strip()
    if not raw:
        return None
    try:
        if DAY.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise BadDay(raw)


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
    day = asked_day(request)
    return Visit(context, found[0], found[1], language(request, context), now, day)


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
    helpers = {
        "symbols": SYMBOLS,
        "severity": SEVERITY,
        "rate": format_rate,
        "quote": quote,
        "money": money_text,
    }
    env.globals = {**env.globals, **helpers}  # an overlay shares its parent's dict otherwise
    return env


def page(
    request: Request, visit: Visit | None, context: WebContext, name: str, **values: Any
) -> HTMLResponse:
    """Render ``templates/web/<name>``; ``status_code`` in ``values`` sets the status."""
    lang = visit.lang if visit else language(request, context)
    status_code = values.pop("status_code", 200)
    day = visit.as_of if visit else None
    kinds = words(lang, "unit_kind.")
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
        as_of_day=day,
        colon=": " if lang == "en" else "：",
        unit_kind=lambda kind: kinds.get(kind, kind),
        paren=lambda text: f"({text})" if lang == "en" else f"（{text}）",
        keep=lambda url: keep_day(url, day),
        query_items=[(k, v) for k, v in request.query_params.multi_items() if k != "as_of"],
        **values,
    )
    return HTMLResponse(html, status_code=status_code)


def local_path(target: str, default: str = "/") -> str:
    """``target`` when it is a path of this site, else ``default``: never an open redirect
    (``//host`` and ``/\\host`` lead elsewhere)."""
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if local else default


def keep_day(url: str, day: date | None) -> str:
    """``url`` with ``as_of=day`` added (unchanged for today): links keep the asked day."""
    if day is None:
        return url
    path, _, fragment = url.partition("#")
    joined = f"{path}{'&' if '?' in path else '?'}{urlencode({'as_of': day.isoformat()})}"
    return f"{joined}#{fragment}" if fragment else joined


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
            except BadDay as error:
                return _bad_day(request, error.value)

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


def _bad_day(request: Request, value: str) -> HTMLResponse:
    """422: the asked day is not a date; the message names the value and the form wanted."""
    context = web_context(request)
    names = words(language(request, context), "page.")
    return page(
        request,
        None,
        context,
        "message.html",
        status_code=422,
        heading=names["bad_day"].format(value=value),
        back=request.url.path,
    )


def templates_folder(context: WebContext) -> Path:
    return context.settings.path(context.settings.templates)


def local_minute(moment: datetime | None, zone: Any) -> str:
    """A stored time in local words, to the minute (SQLite hands it back naive, as written)."""
    if moment is None:
        return ""
    local = moment if moment.tzinfo is None else moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M}"
