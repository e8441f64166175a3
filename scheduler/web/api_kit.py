"""What every JSON API route shares: the caller a bearer token names, 422 in FastAPI's shape,
and the scope checks (the pages' rules: a unit outside the caller's subtree is a 403)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.core.access import Principal, can_change, can_read, lineage
from scheduler.core.problems import InputError
from scheduler.store import accounts
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.web.context import WebContext, web_context
from scheduler.web.kit import parents
from scheduler.web.metrics import count_login_failure


class Caller(BaseModel):
    """The user a token acts as, with the app's parts."""

    model_config = {"arbitrary_types_allowed": True}
    user: Any
    context: Any


def caller(request: Request, context: WebContext = Depends(web_context)) -> Caller:  # noqa: B008
    """The token's user; 401 without a valid ``Authorization: Bearer`` token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    with transaction(context.engine) as session:
        user = accounts.token_user(session, token.strip())
    if user is None:
        count_login_failure(request, "token")
        raise HTTPException(401, "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
    return Caller(user=user, context=context)


CallerDep = Annotated[Caller, Depends(caller)]


def unprocessable(error: InputError) -> HTTPException:
    """422 in FastAPI's shape, each problem naming its field."""
    detail = [
        {
            "loc": ["body", (p.field or "").lstrip("-") or "body"],
            "msg": str(p.message),
            "type": "value_error",
        }
        for p in error.problems
    ]
    return HTTPException(422, detail)


def unit_in_scope(session: Session, user: Principal, code: str, change: bool = False) -> Unit:
    """The unit ``code``; 404 when there is none, 403 when ``user`` may not read (``change``:
    change) it."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise HTTPException(404, f"unknown unit {code!r}")
    chain = lineage(unit.id, parents(session))
    if not (can_change(user, chain) if change else can_read(user, chain)):
        raise HTTPException(403, f"unit {code} is outside your scope")
    return unit


def readable_ids(session: Session, user: Principal) -> list[int]:
    """The ids of the units ``user`` may read."""
    tree = parents(session)
    return [unit for unit in tree if can_read(user, lineage(unit, tree))]
