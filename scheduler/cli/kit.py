"""What every ``huiqi`` command shares: the ``main`` group, the ``--config`` option, one-line
failures, the lazily opened settings, rules and database (`App`) and the date option type.

Every command takes ``--config PATH`` (default ./config.yaml). Bad input prints one line per
problem on stderr, naming the file, row and field, and exits 1 with nothing written.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from scheduler.cli import clickwords
from scheduler.config import ConfigError, Settings, load_settings
from scheduler.core.problems import InputError, Message, message_of, said, single
from scheduler.core.records import parse_day, unknown_unit
from scheduler.core.rules import RuleBook, RulesError
from scheduler.core.unittree import subtree as units_under
from scheduler.core.words import word
from scheduler.rulefiles import read_rulebook
from scheduler.store.database import (
    UnusableDatabase,
    check_schema,
    is_initialised,
    make_engine,
    open_existing,
    transaction,
)
from scheduler.store.facts import unit_facts

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """Bad input or configuration: printed as is on stderr, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


@dataclass
class App:
    """What a command needs, opened lazily: settings, rules, database."""

    settings: Settings
    config_path: Path | None = None  # the --config given (None: ./config.yaml if it exists)

    @cached_property
    def book(self) -> RuleBook:
        return read_rulebook(
            self.settings.rule_paths, self.settings.term_starts, self.settings.review.mode
        )

    @cached_property
    def engine(self) -> Engine:
        """The configured database; it must exist and hold exactly this huiqi's schema (an
        older one: run 'huiqi init'; a newer one: upgrade huiqi). Nothing is created."""
        engine = open_existing(self.settings.resolved_database_url)
        try:
            check_schema(engine)
        except Exception:
            engine.dispose()
            raise
        return engine

    def new_engine(self) -> Engine:
        """The configured database for ``huiqi init`` (and the demo): created when missing."""
        engine = make_engine(self.settings.resolved_database_url)
        self.__dict__["engine"] = engine  # what `engine` gives from now on
        return engine

    def today(self) -> date:
        return datetime.now(self.settings.zone).date()

    def now(self) -> datetime:
        return datetime.now(self.settings.zone)

    @contextmanager
    def session(self) -> Iterator[Session]:
        if not is_initialised(self.engine):
            raise Failure(Message("not_initialised").said(self.settings.language))
        with transaction(self.engine) as session:
            yield session


def command(group: click.Group, name: str | None = None) -> Callable[[F], F]:
    """Register a command taking ``--config`` whose failures print one line each and exit 1."""

    def decorate(function: F) -> F:
        @wraps(function)
        def run(config: Path | None, **options: Any) -> Any:
            return run_app(function, config, **options)

        return group.command(name)(config_option(run))  # type: ignore[return-value]

    return decorate


def run_app(function: Callable[..., Any], config: Path | None, **options: Any) -> Any:
    """Call ``function(App, **options)`` with the settings of ``--config`` (given after the
    command, or before it) and ``--lang``; bad input or configuration becomes a `Failure`."""
    shared = click.get_current_context().find_root().obj or {}
    language = shared.get("lang") or "zh"
    try:
        path = config or shared.get("config")
        settings = load_settings(path)
        if shared.get("lang"):
            settings = settings.model_copy(update={"language": shared["lang"]})
        language = settings.language
        return function(App(settings, path), **options)
    except (InputError, UnusableDatabase, RulesError) as error:
        raise Failure(error.said(language)) from None
    except ConfigError as error:
        raise Failure(error.said(shared.get("lang") or error.language or language)) from None
    except (OperationalError, ProgrammingError) as error:
        raise Failure(Message("database_error", reason=error.orig).said(language)) from None


def config_option(function: F) -> F:
    """``--config PATH``."""
    return click.option(
        "--config",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=CONFIG_HELP,
    )(function)


def unit_ids(session: Session, code: str | None, subtree: bool, where: str) -> list[int] | None:
    """The ids of ``--unit CODE`` (with ``--subtree``: and every unit under it); None: all."""
    if code is None:
        if subtree:
            raise single(Message("needs_unit"), where, field="--subtree")
        return None
    units = unit_facts(session)
    root = next((unit for unit in units if unit.code == code), None)
    if root is None:
        raise single(unknown_unit(code, [unit.code for unit in units]), where, field="--unit")
    return [unit.id for unit in (units_under(units, root) if subtree else [root])]


def say(app: App, key: str, **values: object) -> None:
    """Print the words ``cli.KEY`` of the configured language with ``values``."""
    click.echo(word(f"cli.{key}", app.settings.language).format(**values))


def read_upload(app: App, file: Path) -> bytes:
    """The bytes of a file to attach, refused (naming it) when missing or over
    ``files.max_bytes``."""
    limits = app.settings.files
    if not file.is_file():
        raise single(Message("no_such_file"), str(file))
    if file.stat().st_size > limits.max_bytes:
        raise single(Message("upload_too_large", limit=f"{limits.max_bytes:,}"), str(file))
    return file.read_bytes()


def os_user() -> str:
    """The operating system's name of whoever runs the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a bare container)
        return "unknown"


def by_option(help: str = "Who makes the change, for the change trail.") -> Callable[[F], F]:
    """``--by NAME``: who acts, for the change trail; else $HUIQI_ACTOR, else the OS user."""
    return click.option(
        "--by",
        envvar="HUIQI_ACTOR",
        default=os_user,
        show_default="$HUIQI_ACTOR, else the OS user",
        help=help,
    )


def day_option(name: str, help: str) -> Callable[[F], F]:
    return click.option(name, type=DAY, default=None, help=help)


class DayType(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: Any, ctx: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_day(str(value))
        except ValueError as error:
            self.fail(said(message_of(error), clickwords.language()), param, ctx)


DAY = DayType()


CONFIG_HELP = "Configuration file (default: ./config.yaml)."


class Huiqi(click.Group):
    """The ``huiqi`` group: click's own words (usage errors) in the command line's language."""

    def main(self, args: Any = None, *rest: Any, **options: Any) -> Any:
        clickwords.begin(args)
        return super().main(args, *rest, **options)


clickwords.install()


@click.group(cls=Huiqi, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="huiqi")
@click.option(
    "--config", type=click.Path(path_type=Path, dir_okay=False), default=None, help=CONFIG_HELP
)
@click.option(
    "--lang", type=click.Choice(["zh", "en"]), default=None,
    help="Language of the output (default: language in config.yaml).",
)  # fmt: skip
@click.pass_context
def main(context: click.Context, config: Path | None, lang: str | None) -> None:
    """huiqi (会期): meeting and reporting cadences as rules, obligations and evidence.

    ``--config`` and ``--lang`` may come before the command; a command's own ``--config``
    (after it) wins."""
    context.obj = {"config": config, "lang": lang}


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file: never a half-written file."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise single(Message("no_such_folder"), str(folder), field="--output")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def require_secret(app: App) -> None:
    """Refuse to start (one line) when reminders carry links and HUIQI_SECRET_KEY is unset."""
    from scheduler.store import links

    if not app.settings.reminders.links:
        return
    try:
        links.secret_key()
    except links.SecretMissing as error:
        raise Failure(error.message.said(app.settings.language)) from None
