"""Commands of the web face: ``huiqi serve``, ``huiqi users …`` and ``huiqi tokens …``."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import click

from scheduler import logs
from scheduler.cli.kit import App, Failure, by_option, command, main, require_secret, say
from scheduler.cli.textout import render_table
from scheduler.core.problems import Message
from scheduler.core.words import word
from scheduler.store.database import is_initialised


@command(main, "serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64),
    help="Web processes sharing the port (caches are checked against the database).",
)  # fmt: skip
@click.option("--access-log", is_flag=True, help="Log every request.")
def serve(app: App, host: str, port: int, workers: int, access_log: bool) -> None:
    """Run the web app (pages, API, feeds, health) with uvicorn until interrupted."""
    import uvicorn

    from scheduler.web.app import CONFIG_VARIABLE, create_app

    if not is_initialised(app.engine):
        raise Failure(Message("not_initialised").said(app.settings.language))
    require_secret(app)
    logs.configure(app.settings.log.format, app.settings.log.level)
    base_url = app.settings.web.base_url
    say(app, "serving", host=host, port=port, workers=workers, base_url=base_url)
    mismatch = base_url_mismatch(base_url, host, port)
    if mismatch:
        lang = app.settings.language
        click.echo(word("cli.serve_warning", lang).format(what=mismatch.said(lang)), err=True)
    level = app.settings.log.level if access_log else "warning"
    options: dict[str, Any] = {"host": host, "port": port, "access_log": access_log,
                               "log_config": None, "log_level": level}  # fmt: skip
    if workers == 1:
        uvicorn.run(create_app(app.settings), **options)
        return
    os.environ[CONFIG_VARIABLE] = str(app.config_path.resolve()) if app.config_path else ""
    uvicorn.run("scheduler.web.app:from_environment", factory=True, workers=workers, **options)


LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def base_url_mismatch(base_url: str, host: str, port: int) -> Message | None:
    """Why links built on ``web.base_url`` would not reach a server on ``host:port``, or None.
    A base URL on another port, or on loopback while the server listens elsewhere (or the
    other way round), hands out links to a different address; a public name in front of a
    proxy on the standard ports is taken to be right."""
    url = urlsplit(base_url)
    try:
        url_port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        return Message("base_url_bad_port", url=base_url)
    name = (url.hostname or "").lower()
    local = name in LOOPBACK
    if local and host not in LOOPBACK | {"0.0.0.0", "::"}:
        return Message("base_url_elsewhere", url=base_url, host=host)
    if (local or url.port is not None) and url_port != port:
        return Message("base_url_other_port", url=base_url, url_port=url_port, port=port)
    return None


@main.group()
def users() -> None:
    """People who log in to the web app: admin, clerk or viewer of a unit subtree."""


PASSWORD = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="HUIQI_PASSWORD",
    help="The password (asked when not given; or from HUIQI_PASSWORD).",
)


@command(users, "add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "clerk", "viewer"]), required=True)
@click.option("--unit", default=None, help="Unit code (clerk and viewer: their subtree).")
@click.option("--name", "display_name", default="", help="Name shown in the trail.")
@PASSWORD
@by_option()
def users_add(
    app: App, username: str, role: str, unit: str | None, display_name: str, password: str,
    by: str,
) -> None:  # fmt: skip
    """Create a user."""
    from scheduler.store import accounts  # argon2 only for these commands

    with app.session() as session:
        accounts.add_user(session, username, role, unit, password, app.now(), by, display_name)
    key = "user_added_at" if unit else "user_added"
    say(
        app,
        key,
        name=username,
        role=word(f"cli.user_role.{role}", app.settings.language),
        unit=unit,
    )


@command(users, "passwd")
@click.argument("username")
@PASSWORD
@by_option()
def users_passwd(app: App, username: str, password: str, by: str) -> None:
    """Set a user's password (their browser sessions end)."""
    from scheduler.store import accounts  # argon2 only for these commands

    with app.session() as session:
        accounts.set_password(session, username, password, app.now(), by)
    say(app, "password_changed", name=username)


@command(users, "disable")
@click.argument("username")
@by_option()
def users_disable(app: App, username: str, by: str) -> None:
    """Disable a user: sessions end, tokens stop working; the history keeps the name."""
    from scheduler.store import accounts  # argon2 only for these commands

    with app.session() as session:
        accounts.disable_user(session, username, app.now(), by)
    say(app, "user_disabled", name=username)


@main.group()
def tokens() -> None:
    """Bearer tokens of the JSON API."""


@command(tokens, "create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
@by_option()
def tokens_create(app: App, username: str, name: str, by: str) -> None:
    """Create an API token acting as USERNAME; it is printed once."""
    from scheduler.store import accounts

    with app.session() as session:
        token = accounts.create_token(session, username, name, app.now(), by)
    click.echo(token)


@command(tokens, "list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
def tokens_list(app: App, username: str | None) -> None:
    """List API tokens: id, user, name, created, and whether they still work."""
    from scheduler.store import accounts

    with app.session() as session:
        found = accounts.list_tokens(session, username)
    if not found:
        say(app, "no_tokens")
        return
    body = [
        [str(t.id), t.username, t.name, _moment(app, t.created_at), _token_state(app, t)]
        for t in found
    ]
    lang = app.settings.language
    header = [word(f"cli.tokens_header.{key}", lang) for key in TOKEN_COLUMNS]
    click.echo(render_table(header, body, right=(0,)))


TOKEN_COLUMNS = ("id", "user", "name", "created", "state")


def _moment(app: App, moment: datetime) -> str:
    local = moment if moment.tzinfo is None else moment.astimezone(app.settings.zone)
    return f"{local:%Y-%m-%d %H:%M}"


def _token_state(app: App, token: Any) -> str:
    lang = app.settings.language
    if token.revoked_at is not None:
        return word("cli.token_state.revoked", lang).format(when=_moment(app, token.revoked_at))
    return word(f"cli.token_state.{'active' if token.user_active else 'user_disabled'}", lang)


@command(tokens, "revoke")
@click.argument("token_id", metavar="ID", type=int)
@by_option()
def tokens_revoke(app: App, token_id: int, by: str) -> None:
    """Revoke an API token by its id (see 'tokens list'): it stops working at once."""
    from scheduler.store import accounts

    with app.session() as session:
        label = accounts.revoke_token(session, token_id, app.now(), by)
    say(app, "token_revoked", label=label.said(app.settings.language))
