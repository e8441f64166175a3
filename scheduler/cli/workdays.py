"""Official workdays: ``huiqi workdays import FILE`` and ``huiqi workdays show --year Y``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from scheduler.cli.kit import App, by_option, command, main
from scheduler.cli.textout import render_table
from scheduler.core.notices import notice_from_table, notice_from_yaml
from scheduler.core.problems import Message, single
from scheduler.core.words import format_date, words
from scheduler.core.workdays import Notice, Workdays
from scheduler.store.workdays import load_workdays, save_notice
from scheduler.tables import read_table


@main.group("workdays")
def workdays_group() -> None:
    """Official workdays: import a year's holiday arrangement, show where each year comes from."""


@command(workdays_group, "import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--year", type=int, default=None, help="The year (default: the year of its dates).")
@click.option("--title", default=None, help="The notice's title (YAML: its title key).")
@by_option("Who imports the notice, for the change trail.")
def workdays_import(app: App, file: Path, year: int | None, title: str | None, by: str) -> None:
    """Load a year's official arrangement (days off and adjusted working weekends, 调休) from a
    CSV or XLSX (date,kind[,name]) or YAML file; it replaces that year's earlier notice."""
    notice = _read_notice(file, year, title)
    with app.session() as session:
        replaced = save_notice(session, notice, file.name, by, app.now())
    names = words(app.settings.language, "workdays.")
    verb = names["replaced"] if replaced else names["imported"]
    click.echo(
        verb.format(year=notice.year, title=notice.title, off=len(notice.days_off),
                    work=len(notice.workdays))
    )  # fmt: skip


def _read_notice(file: Path, year: int | None, title: str | None) -> Notice:
    if file.suffix.lower() in (".yaml", ".yml"):
        if not file.is_file():
            raise single(Message("no_such_file"), str(file))
        notice = notice_from_yaml(file.read_text(encoding="utf-8"), str(file))
        if year is not None and notice.year != year:
            other = Message("file_for_year", year=notice.year, asked=year)
            raise single(other, str(file), None, "year")
        return Notice(notice.year, title or notice.title, notice.days_off, notice.workdays)
    return notice_from_table(read_table(file), year, title)


@command(workdays_group, "show")
@click.option("--year", type=int, default=None, help="Year (default: this year).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def workdays_show(app: App, year: int | None, fmt: str) -> None:
    """The year's weekdays off and working weekend days, each with its source."""
    year = year or app.today().year
    with app.session() as session:
        workdays = load_workdays(session, app.settings)
    if fmt == "json":
        click.echo(json.dumps(_as_json(workdays, year), ensure_ascii=False, indent=1))
        return
    click.echo(_as_table(workdays, year, app.settings.language))


def _as_json(workdays: Workdays, year: int) -> dict[str, object]:
    notice = workdays.notice_of(year)
    return {
        "year": year,
        "source": workdays.year_source(year).value,
        "notice": notice.title if notice else None,
        "days": [
            {"date": d.day.isoformat(), "working": d.working, "source": d.source.value}
            for d in workdays.days_of_note(year)
        ],
    }


def _as_table(workdays: Workdays, year: int, lang: str) -> str:
    names = words(lang, "workdays.")
    notice = workdays.notice_of(year)
    source = names[f"source.{workdays.year_source(year).value}"]
    head = names["heading"].format(year=year, source=source)
    if notice is not None:
        head += f"《{notice.title}》" if lang == "zh" else f" ({notice.title})"
    weekdays = names["weekdays"].split(",")
    body = [
        [
            format_date(d.day, lang),
            weekdays[d.day.weekday()],
            names["working"] if d.working else names["off"],
            names[f"source.{d.source.value}"],
        ]
        for d in workdays.days_of_note(year)
    ]
    header = [names[key] for key in ("date", "weekday", "arrangement", "source")]
    lines = [head, render_table(header, body)]
    if workdays.year_source(year).value == "rules":
        lines.append(names["rules_warning"].format(year=year))
    return "\n".join(lines)
