"""Compliance commands: ``huiqi status`` and ``matrix`` (``scorecard`` is in `assessment`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import click

from scheduler.cli import streams
from scheduler.cli.kit import App, command, day_option, main
from scheduler.cli.textout import render_table
from scheduler.core.gcpause import gc_paused
from scheduler.core.rules import RuleBook
from scheduler.core.summaries import SYMBOLS, Matrix
from scheduler.core.words import format_date, format_rate, status_name, word
from scheduler.store import reports
from scheduler.tables import csv_row


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
    lang = app.settings.language
    with app.session() as session:
        if fmt == "table":
            rows = reports.status_rows(session, app.book, selection)
            click.echo(_status_table(rows, lang))
            missing = reports.unmeasured(rows)
        else:
            objects = reports.status_objects(session, app.book, selection)
            _write(objects, fmt)
            missing = objects.unmeasured
    for line in _unmeasurable(missing, app.book, lang):
        click.echo(line, err=True)


def _write(objects: Iterable[dict[str, Any]], fmt: str) -> None:
    """The objects as a JSON array or CSV, written as they come, with a progress bar (the
    cyclic collector paused: the objects hold no cycles, and its passes cost a third)."""
    with gc_paused(), streams.progress_bar("status", "obligations") as done:
        shown = streams.counted(objects, done)
        if fmt == "json":
            streams.echo(streams.json_array(shown))
        else:  # a BOM: Excel reads the CSV as UTF-8
            streams.echo(streams.csv_bytes(_status_csv(shown), encoding="utf-8-sig"))


def _unmeasurable(missing: set[tuple[str, str]], book: RuleBook, language: str) -> list[str]:
    """Warnings for obligations whose amount depends on a unit attribute the unit lacks."""
    said = word("cli.unmeasurable", language)
    return [
        said.format(code=code, attribute=getattr(book.rule(rule).requirement, "per", None),
                    rule=rule)
        for code, rule in sorted(missing)
    ]  # fmt: skip


STATUS_COLUMNS = ("unit", "unit_name", "rule", "period", "start", "end", "due", "status",
                  "required", "actual", "evidence", "days_left")  # fmt: skip


def _status_csv(objects: Iterable[dict[str, Any]]) -> Iterator[list[object]]:
    """The header and a row per obligation, cells never formulas."""
    yield list(STATUS_COLUMNS)
    for item in objects:
        period = item["period"]
        yield csv_row(
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


def _status_table(rows: list[reports.StatusRow], lang: str) -> str:
    if not rows:
        return word("cli.no_rows", lang)
    header = [
        word(f"cli.{key}", lang)
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
    header = [word("cli.unit", lang), *block.columns, word("cli.rate", lang)]
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
    totals_line = word("cli.label", lang).format(label=word("cli.totals", lang), text=summary)
    return f"{title}\n{render_table(header, body, right)}\n{totals_line}"


def _legend(lang: str) -> str:
    entries = "  ".join(
        f"{symbol} {status_name(status, lang)}" for status, symbol in SYMBOLS.items()
    )
    return word("cli.label", lang).format(label=word("cli.legend", lang), text=entries)
