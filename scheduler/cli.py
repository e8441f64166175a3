"""The ``huiqi`` command: a thin layer that parses options, calls one service and renders.

Every command takes ``--config PATH`` (default ./config.yaml). Bad input prints one line per
problem on stderr, naming the file, row and field, and exits 1 with nothing written.
"""

from __future__ import annotations

import csv
import io
import json
import sys
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

from scheduler import demo, registry, reports
from scheduler.config import ConfigError, Settings, load_settings
from scheduler.database import is_initialised, make_engine, migrate, transaction
from scheduler.i18n import format_date, format_rate, status_name, word
from scheduler.problems import InputError
from scheduler.records import parse_day
from scheduler.rulefiles import read_rulebook
from scheduler.rules import RuleBook, RulesError
from scheduler.summaries import SYMBOLS, Matrix
from scheduler.tables import read_table
from scheduler.textout import render_table

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """Bad input or configuration: printed as is on stderr, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


@dataclass
class App:
    """What a command needs, opened lazily: settings, rules, database."""

    settings: Settings

    @cached_property
    def book(self) -> RuleBook:
        return read_rulebook(self.settings.rule_paths, self.settings.term_starts)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    def today(self) -> date:
        return datetime.now(self.settings.zone).date()

    def now(self) -> datetime:
        return datetime.now(self.settings.zone)

    @contextmanager
    def session(self) -> Iterator[Session]:
        if not is_initialised(self.engine):
            raise Failure("the database is not initialised: run 'huiqi init' first")
        with transaction(self.engine) as session:
            yield session


def command(group: click.Group, name: str | None = None) -> Callable[[F], F]:
    """Register a command taking ``--config`` whose failures print one line each and exit 1."""

    def decorate(function: F) -> F:
        @wraps(function)
        def run(config: Path | None, **options: Any) -> Any:
            try:
                return function(App(load_settings(config)), **options)
            except (InputError, RulesError, ConfigError) as error:
                raise Failure(str(error)) from None
            except (OperationalError, ProgrammingError) as error:
                raise Failure(f"database error: {error.orig}") from None

        run = click.option(
            "--config",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="Configuration file (default: ./config.yaml).",
        )(run)
        return group.command(name)(run)  # type: ignore[return-value]

    return decorate


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
            self.fail(str(error), param, ctx)


DAY = DayType()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="huiqi")
def main() -> None:
    """huiqi (会期): meeting and reporting cadences as rules, obligations and evidence."""


# ----------------------------------------------------------------------------------------------
# Database and rules


@command(main, "init")
def init(app: App) -> None:
    """Create the database or migrate it to the newest schema."""
    migrate(app.engine)
    click.echo(f"database ready: {app.engine.url.render_as_string(hide_password=True)}")


@command(main, "demo")
@click.option(
    "--seed",
    type=int,
    default=demo.DEFAULT_SEED,
    show_default=True,
    help="Seed of the generator: the same seed gives the same county.",
)
@click.option("--year", type=int, default=None, help="Demo year (default: 2026).")
@day_option("--as-of", "Last day with events (default: 15 September of the demo year).")
@click.option(
    "--export",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write units.csv, people.csv, events.csv to this folder instead of loading them.",
)
def demo_command(
    app: App, seed: int, year: int | None, as_of: date | None, export: Path | None
) -> None:
    """Load the demo county (invented sample data) into an empty database."""
    year, as_of = demo.demo_dates(year, as_of)
    county = demo.generate(seed, year, as_of)
    if export:
        click.echo("\n".join(str(path) for path in county.write_csv(export)))
        return
    migrate(app.engine)
    with app.session() as session:
        loaded = demo.load_demo(session, app.book, county, app.now())
    click.echo(demo.describe(loaded, app.settings.language))


@main.group()
def rules() -> None:
    """Rulesets: check them."""


@command(rules, "check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
def rules_check(app: App, files: tuple[Path, ...]) -> None:
    """Validate ruleset files (default: the configured ones) and summarise them."""
    book = read_rulebook(list(files) or app.settings.rule_paths, app.settings.term_starts)
    lines = [
        f"{len(book.rules)} rules in {', '.join(book.names)}; "
        f"{len(book.event_kinds)} event kinds, {len(book.roles)} roles, "
        f"{len(book.unit_kinds)} unit kinds"
    ]
    for rule in book.rules:
        lines.append(f"  {rule.id:28} {_cadence_text(rule)}  {rule.title.zh}")
    click.echo("\n".join(lines))


def _cadence_text(rule: Any) -> str:
    if rule.is_attend:
        return "every event"
    if rule.rolling:
        return f"within {rule.rolling}"
    cadence = rule.cadence
    if hasattr(cadence, "years") and hasattr(cadence, "name"):
        return f"term {cadence.name} ({cadence.years} years from {cadence.start})"
    return f"every {cadence.months} month(s)"


# ----------------------------------------------------------------------------------------------
# Imports and evidence


def _import(kind: str, service: Callable[..., registry.ImportSummary]) -> None:
    group = main.commands[kind]
    assert isinstance(group, click.Group)

    @command(group, "import")
    @click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
    def run(app: App, file: Path) -> None:
        table = read_table(file)
        with app.session() as session:
            if kind == "events":
                summary = service(session, app.book, table, "import", app.now())
            else:
                summary = service(session, app.book, table)
        click.echo(f"{file}: {summary}")

    run.help = f"Import {kind} from a CSV or XLSX file (one transaction)."  # type: ignore[attr-defined]


@main.group()
def units() -> None:
    """The unit tree: code,name,kind,parent,active_from,active_to plus attribute columns."""


@main.group()
def people() -> None:
    """People and their roles: name,email,phone,unit,role,from,to."""


@main.group()
def events() -> None:
    """Evidence: unit,kinds,date,time,title,attended,amount,ref."""


_import("units", registry.import_units)
_import("people", registry.import_people)
_import("events", registry.import_events)


@command(events, "add")
@click.option("--unit", required=True, help="Unit code.")
@click.option("--kinds", required=True, help="Event kinds, ';'-separated.")
@click.option("--date", "day", required=True, help="Date, YYYY-MM-DD.")
@click.option("--time", default="", help="Time, HH:MM.")
@click.option("--title", default="", help="Title.")
@click.option("--attended", default="", help="Roles that attended, ';'-separated.")
@click.option("--amount", default="", help="Amount in yuan.")
@click.option("--ref", default="", help="Your reference; an existing (unit, ref) is replaced.")
@click.option("--by", default="cli", help="Who records it.")
def events_add(app: App, by: str, day: str, **cells: str) -> None:
    """Record one event."""
    with app.session() as session:
        event_id = registry.add_event(session, app.book, {**cells, "date": day}, by, app.now())
    click.echo(f"event {event_id} recorded")


@command(events, "void")
@click.argument("event_id", type=int)
@click.option("--reason", required=True, help="Why the event no longer counts.")
@click.option("--by", default="cli", help="Who voids it.")
def events_void(app: App, event_id: int, reason: str, by: str) -> None:
    """Void an event: it stays in the history but no longer counts."""
    with app.session() as session:
        registry.void_event(session, event_id, reason, by, app.now())
    click.echo(f"event {event_id} void")


@command(main, "waive")
@click.option("--unit", required=True, help="Unit code.")
@click.option("--rule", required=True, help="Rule id.")
@click.option("--period", required=True, help="Period label, e.g. 2021-B1.")
@click.option("--reason", required=True, help="Why the obligation is exempt.")
@click.option("--by", required=True, help="Who approved the waiver.")
def waive(app: App, unit: str, rule: str, period: str, reason: str, by: str) -> None:
    """Exempt one obligation (unit, rule, period)."""
    with app.session() as session:
        registry.waive(session, app.book, unit, rule, period, reason, by, app.now())
    click.echo(f"{unit} {rule} {period}: exempt")


# ----------------------------------------------------------------------------------------------
# Compliance


@command(main, "status")
@day_option("--as-of", "Day the status is computed for (default: today).")
@day_option("--from", "First day of the range (default: 1 January of the as-of year).")
@day_option("--to", "Last day of the range (default: 31 December of the as-of year).")
@click.option("--unit", default=None, help="Only this unit.")
@click.option("--subtree", is_flag=True, help="With --unit: the unit and every unit under it.")
@click.option("--rule", default=None, help="Only this rule.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def status(
    app: App,
    as_of: date | None,
    unit: str | None,
    subtree: bool,
    rule: str | None,
    fmt: str,
    **bounds: date | None,
) -> None:
    """Obligations whose period overlaps [from, to], with their status on the as-of day."""
    day = as_of or app.today()
    first = bounds["from"] or date(day.year, 1, 1)
    last = bounds["to"] or date(day.year, 12, 31)
    selection = reports.Selection(day, first, last, unit, subtree, rule)
    with app.session() as session:
        rows = reports.status_rows(session, app.book, selection)
    if fmt == "json":
        click.echo(json.dumps([row.to_json() for row in rows], ensure_ascii=False, indent=1))
    elif fmt == "csv":
        click.echo(_status_csv(rows), nl=False)
    else:
        click.echo(_status_table(rows, app.settings.language))
    for line in _unmeasurable(rows):
        click.echo(line, err=True)


def _unmeasurable(rows: list[reports.StatusRow]) -> list[str]:
    """Warnings for obligations whose amount depends on a unit attribute the unit lacks."""
    missing = {
        (row.unit.code, row.rule.id, getattr(row.rule.requirement, "per", None))
        for row in rows
        if row.obligation.required is None
    }
    return [
        f"warning: unit {code} has no numeric {attribute!r}: rule {rule} cannot be met "
        f"(add the column to the units file)"
        for code, rule, attribute in sorted(missing)
    ]


def _status_csv(rows: list[reports.StatusRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "unit",
            "unit_name",
            "rule",
            "period",
            "start",
            "end",
            "due",
            "status",
            "required",
            "actual",
            "evidence",
            "days_left",
        ]
    )
    for row in rows:
        item = row.to_json()
        period = item.pop("period")
        writer.writerow(
            [
                item["unit"],
                item["unit_name"],
                item["rule"],
                period["label"],
                period["start"],
                period["end"],
                item["due"],
                item["status"],
                item["required"],
                item["actual"],
                ";".join(str(e) for e in item["evidence"]),
                "" if item["days_left"] is None else item["days_left"],
            ]
        )
    return out.getvalue()


def _status_table(rows: list[reports.StatusRow], lang: str) -> str:
    if not rows:
        return word("no_rows", lang)
    header = [
        word(key, lang)
        for key in ("unit", "rule", "period", "due", "status", "required", "actual", "days_left")
    ]
    body = []
    for row in rows:
        o = row.obligation
        body.append(
            [
                f"{row.unit.code} {row.unit.name}",
                row.rule.title(lang),
                o.period.label,
                format_date(o.due, lang),
                f"{SYMBOLS[o.status]} {status_name(o.status, lang)}",
                str(reports.json_number(o.required) if o.required is not None else "?"),
                str(reports.json_number(o.actual)),
                "" if o.days_left is None else str(o.days_left),
            ]
        )
    return render_table(header, body, right=(5, 6, 7))


@command(main, "matrix")
@click.option("--year", type=int, default=None, help="Year (default: the as-of year).")
@click.option("--rule", default=None, help="Only this rule (default: every rule).")
@click.option("--unit", default=None, help="Only this unit and the units under it.")
@day_option("--as-of", "Day the status is computed for (default: today).")
def matrix(
    app: App, year: int | None, rule: str | None, unit: str | None, as_of: date | None
) -> None:
    """Units × periods, one symbol per obligation, and each unit's on-time rate."""
    day = as_of or app.today()
    selection = reports.year_selection(year or day.year, day, unit, rule)
    with app.session() as session:
        found = reports.matrices(session, app.book, selection)
    lang = app.settings.language
    blocks = [_matrix_text(block, lang) for block in found if block.rows]
    click.echo("\n\n".join([*blocks, _legend(lang)]))


def _matrix_text(block: Matrix, lang: str) -> str:
    title = f"{block.rule.id}  {block.rule.title(lang)}  —  {block.rule.cite}"
    header = [word("unit", lang), *block.columns, word("rate", lang)]
    body = [
        [
            f"{row.unit.code} {row.unit.name}",
            *(SYMBOLS[cell] if cell else "" for cell in row.cells),
            format_rate(row.rate),
        ]
        for row in block.rows
    ]
    totals = block.totals()
    summary = "  ".join(f"{SYMBOLS[s]} {status_name(s, lang)} {n}" for s, n in totals.items())
    right = tuple(range(1, len(header)))
    return f"{title}\n{render_table(header, body, right)}\n{word('totals', lang)}: {summary}"


def _legend(lang: str) -> str:
    entries = "  ".join(
        f"{symbol} {status_name(status, lang)}" for status, symbol in SYMBOLS.items()
    )
    return f"{word('legend', lang)}: {entries}"


@command(main, "scorecard")
@click.option("--year", type=int, default=None, help="Year (default: the as-of year).")
@click.option("--kind", default=None, help="Only units of this kind, e.g. township.")
@day_option("--as-of", "Day the status is computed for (default: today).")
def scorecard_command(app: App, year: int | None, kind: str | None, as_of: date | None) -> None:
    """Units ranked by the points of the obligations they met on time."""
    day = as_of or app.today()
    year = year or day.year
    with app.session() as session:
        scores = reports.scorecard(session, app.book, reports.year_selection(year, day), kind)
    lang = app.settings.language
    header = [
        word(key, lang)
        for key in ("rank", "unit", "points", "possible", "rate", "met", "late", "missed")
    ]
    body = [
        [
            str(s.rank),
            f"{s.unit.code} {s.unit.name}",
            str(reports.json_number(s.earned)),
            str(reports.json_number(s.possible)),
            format_rate(s.rate),
            str(s.met),
            str(s.late),
            str(s.missed),
        ]
        for s in scores
    ]
    title = f"{word('scorecard', lang)} {year} ({word('as_of', lang)} {format_date(day, lang)})"
    click.echo(f"{title}\n{render_table(header, body, right=(0, 2, 3, 4, 5, 6, 7))}")


# The other capabilities register their commands on `main` when imported.
from scheduler import cli_calendar, cli_reminders, cli_web  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
