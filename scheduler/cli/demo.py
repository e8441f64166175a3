"""``huiqi demo``: load the demo county (invented sample data)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from scheduler.cli.kit import App, command, day_option, main
from scheduler.demo import county as demo
from scheduler.store.database import migrate


@command(main, "demo")
@click.option(
    "--seed",
    type=int,
    default=demo.DEFAULT_SEED,
    show_default=True,
    help="Seed of the generator: the same seed gives the same county.",
)
@click.option("--year", type=int, default=None, help="Demo year (default: this year).")
@day_option("--as-of", "Last day with events (default: today; 15 September of another year).")
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
    year, as_of = demo.demo_dates(year, as_of, app.now().date())
    county = demo.generate(seed, year, as_of)
    if export:
        click.echo("\n".join(str(path) for path in county.write_csv(export)))
        return
    migrate(app.new_engine())
    with app.session() as session:
        loaded = demo.load_demo(session, app.book, county, app.now())
    click.echo(demo.describe(loaded, app.settings.language))
