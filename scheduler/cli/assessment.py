"""``huiqi scorecard``: the annual assessment (考核), explained rule by rule."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import click

from scheduler.assessment import sheets
from scheduler.cli.kit import App, command, day_option, main, say, write_atomically
from scheduler.cli.textout import render_table
from scheduler.core.assessment import Scorecard
from scheduler.core.problems import Message, single
from scheduler.core.words import format_date
from scheduler.store import reports

FORMATS = ("table", "json", "csv", "xlsx")


@command(main, "scorecard")
@click.option("--year", type=int, default=None, help="Year (default: the as-of year).")
@click.option(
    "--kind",
    default=None,
    help="Units of this kind, e.g. township (default: the most numerous kind the rules score "
    "under --unit; for xlsx: one sheet per such kind).",
)
@click.option("--unit", default=None, help="Only this unit and the units under it.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", help="Output.")
@day_option("--as-of", "Day the status is computed for (default: today).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to this file (needed for xlsx) instead of the terminal.",
)
def scorecard_command(
    app: App,
    year: int | None,
    kind: str | None,
    unit: str | None,
    fmt: str,
    as_of: date | None,
    output: Path | None,
) -> None:
    """The annual assessment: per unit the total, the rank among units of its kind, and a
    line per rule (points, due, met, late, missed, exempt, earned)."""
    day = as_of or app.today()
    year = year or day.year
    if fmt == "xlsx" and output is None:
        raise single(Message("xlsx_needs_output"), "scorecard", field="--output")
    selection = reports.year_selection(year, day, unit)
    with app.session() as session:
        found = reports.scorecards(session, app.book, selection, kind, fmt == "xlsx" and not kind)
    cards = found.cards
    data = _render(cards, fmt, year, day, app.settings.language)
    if output is None:
        click.echo(data, nl=False)
        return
    write_atomically(output, data)
    say(app, "scorecard_written", file=output, units=sum(len(card.lines) for card in cards))


def _render(cards: list[Scorecard], fmt: str, year: int, day: date, lang: str) -> bytes:
    if fmt == "json":
        found = [item for card in cards for item in sheets.to_json(card)]
        return (json.dumps(found, ensure_ascii=False, indent=1) + "\n").encode()
    if fmt == "csv":
        return sheets.to_csv(cards, lang)
    if fmt == "xlsx":
        from scheduler.assessment import workbook  # openpyxl is slow to import: only when needed

        return workbook.to_xlsx(cards, year, day, lang)
    if not cards or not cards[0].lines:
        return (sheets.labels(lang)["no_units"] + "\n").encode()
    return (_table(cards[0], year, day, lang) + "\n").encode()


def _table(card: Scorecard, year: int, day: date, lang: str) -> str:
    """A line per unit (rank, total of possible, share), under it a line per rule."""
    names = sheets.labels(lang)
    kind = sheets.kind_name(card.kind, lang)
    title = f"{names['title']} {year} · {kind} ({names['as_of']} {format_date(day, lang)})"
    keys = ("rank", "unit", "points", "due", "met", "met_late", "missed", "exempt", "earned")
    header = [*(names[key] for key in keys), names["share"]]
    body: list[list[str]] = []
    for line in card.lines:
        rank = "—" if line.rank is None else str(line.rank)
        unit = f"{line.unit.code} {line.unit.name}"
        share = "—" if line.share is None else f"{line.share:.1%}"
        body.append([rank, unit, _n(line.possible), "", "", "", "", "", f"{line.total:.2f}", share])
        for score in line.rules:
            counts = (score.due, score.met, score.met_late, score.missed, score.exempt)
            earned = f"{score.earned:.2f}" if score.counted else "—"
            body.append(
                ["", f"  {score.rule.title(lang)}", _n(score.points), *map(str, counts), earned, ""]
            )
    table = render_table(header, body, right=(0, *range(2, len(header))))
    return "\n".join([title, table, "", *sheets.explain(card, lang)])


def _n(value: Decimal) -> str:
    return str(reports.json_number(value))
