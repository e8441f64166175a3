"""Commands of the year planner: ``huiqi plan`` (propose) and ``huiqi plan accept``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scheduler.cli.kit import (
    DAY,
    App,
    Failure,
    by_option,
    command,
    config_option,
    main,
    run_app,
    say,
)
from scheduler.cli.textout import render_table
from scheduler.core.problems import Message, single
from scheduler.core.words import format_date, word, words

if TYPE_CHECKING:
    from scheduler.calendar.plans import YearPlan


def _scope_options(function: Any) -> Any:
    options = [
        click.option("--year", type=int, default=None, help="The year to plan (required)."),
        click.option("--unit", default=None, help="Only this unit."),
        click.option("--subtree", is_flag=True, help="With --unit: and every unit under it."),
        click.option(
            "--as-of", "as_of", type=DAY, default=None, help="Plan as of (default: today)."
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.group("plan", invoke_without_command=True)
@config_option
@_scope_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "ics"]), default="table")
@click.pass_context
def plan_group(ctx: click.Context, config: Path | None, fmt: str, **scope: Any) -> None:
    """Propose the fewest meetings that serve every open count obligation of a year, on
    official workdays ('huiqi plan accept' plans them)."""
    if ctx.invoked_subcommand is None:
        run_app(_show, config, fmt=fmt, **scope)


def _show(
    app: App, fmt: str, year: int | None, unit: str | None, subtree: bool, as_of: date | None
) -> None:
    from scheduler.calendar import plans

    with app.session() as session:
        year_plan = _propose(app, session, "plan", year, unit, subtree, as_of)
    if fmt == "json":
        click.echo(json.dumps(plans.to_json(year_plan, app.settings), ensure_ascii=False, indent=1))
    elif fmt == "ics":
        click.echo(plans.to_ics(year_plan, app.book, app.settings, app.now()), nl=False)
    else:
        click.echo(render_plan(app, year_plan))
    _warn_coverage(app, year_plan)


def _propose(
    app: App, session: Any, where: str, year: int | None, unit: str | None, subtree: bool,
    as_of: date | None,
) -> YearPlan:  # fmt: skip
    from scheduler.calendar import plans

    ids = _scope(session, where, year, unit, subtree)
    assert year is not None
    return plans.propose(session, app.book, app.settings, year, as_of or app.today(), ids)


def _scope(
    session: Any, where: str, year: int | None, unit: str | None, subtree: bool
) -> list[int] | None:
    """The ids of ``--unit CODE [--subtree]`` (None: every unit), once ``--year`` is known."""
    from scheduler.calendar import plans

    if year is None:
        raise single(Message("required"), where, field="--year")
    if subtree and unit is None:
        raise single(Message("needs_unit"), where, field="--subtree")
    try:
        return plans.scope_ids(session, unit, subtree)
    except KeyError:
        raise single(
            Message("unknown_code", what=Message("unit"), value=unit), where, field="--unit"
        ) from None


def _warn_coverage(app: App, year_plan: YearPlan) -> None:
    """The workday coverage warning the reminders give, for the years the plan spans."""
    from scheduler.core.workdays import coverage_lines

    years = {year_plan.year, *(p.day.year for p in year_plan.plan.proposals)}
    _, rule_only = coverage_lines(year_plan.workdays, years)
    for year in rule_only:
        click.echo(
            word("cli.plan_workdays_warning", app.settings.language).format(year=year), err=True
        )


def render_plan(app: App, year_plan: YearPlan) -> str:
    """The proposal as a table, then the coverage, in the configured language."""
    from scheduler.calendar import plans

    lang = app.settings.language
    names = words(lang, "plan.")
    start, end = app.settings.planner.start, app.settings.planner.end
    plan, units = year_plan.plan, year_plan.units
    body = [
        [
            f"{format_date(p.day, lang)} {names[f'weekday.{p.day.isoweekday()}']}",
            f"{start:%H:%M}–{end:%H:%M}",
            f"{units[p.unit_id].code} {units[p.unit_id].name}",
            plans.title_of(p, app.book, lang),
            "；".join(f"{t.rule_id} {t.period.label}" for t in p.serves),
            "；".join(names[f"note.{note}"] for note in p.notes),
        ]
        for p in plan.proposals
    ]
    keys = ("date", "time", "unit", "kinds", "serves", "notes")
    lines = [render_table([names[k] for k in keys], body) if body else names["none"]]
    summary = names["summary"].format(
        meetings=len(plan.proposals),
        served=len(plan.served()),
        planned=len(plan.covered),
        unplaced=len(plan.unplaced),
    )
    lines.append(summary if plan.unplaced else summary.rstrip("：:"))
    for item in plan.unplaced:
        unit = units[item.unit_id]
        reason = names[f"reason.{item.reason}"]
        lines.append(f"  {unit.code} {unit.name}  {item.rule_id} {item.period.label}: {reason}")
    if plan.skipped:
        lines.append(names["skipped"].format(rules=", ".join(plan.skipped)))
    return "\n".join(lines)


@command(plan_group, "accept")
@_scope_options
@by_option("Who plans the meetings.")
def plan_accept(
    app: App, year: int | None, unit: str | None, subtree: bool, as_of: date | None, by: str
) -> None:
    """Plan the proposed meetings (one transaction) and send their invites; a second accept
    adds nothing."""
    from scheduler.calendar import invites, plans
    from scheduler.transports.mail import make_mailer

    now = app.now()
    with app.session() as session:
        ids = _scope(session, "plan accept", year, unit, subtree)
        assert year is not None
        day = as_of or app.today()
        _, changes = plans.accept(session, app.book, app.settings, year, day, ids, by, now)
    notices = [notice for change in changes for notice in change.notices]
    sent = failed = 0
    if notices:
        mailer = make_mailer(app.settings)
        delivery = invites.deliver(app.engine, app.book, app.settings, mailer, notices, now)
        sent, failed = len(delivery.sent), len(delivery.failed)
    planned = ", ".join(str(change.meeting.id) for change in changes) or "-"
    say(app, "meetings_planned", count=len(changes), ids=planned, sent=sent, failed=failed)
    if failed:
        raise Failure(Message("invites_failed_retry").said(app.settings.language))
