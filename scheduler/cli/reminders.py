"""Reminder commands: ``huiqi remind``, ``huiqi outbox``, ``huiqi run``, ``huiqi doctor``."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.cli.kit import App, Failure, by_option, command, day_option, main, require_secret
from scheduler.cli.textout import render_table
from scheduler.config import Settings
from scheduler.core.problems import Message, single
from scheduler.core.reminders import stage_name
from scheduler.core.words import format_date, word, words
from scheduler.reminders import daemon, doctor, doctor_operations
from scheduler.reminders.dispatch import dispatch
from scheduler.reminders.sweep import SweepResult, sweep
from scheduler.store import links
from scheduler.store.models import Person, Unit
from scheduler.store.models_calendar import as_utc
from scheduler.store.models_reminders import PENDING, STATUSES, OutboxEntry
from scheduler.transports.delivery import make_transports


def _word(app: App, key: str) -> str:
    return word(f"outbox.{key}", app.settings.language)


@command(main, "remind")
@day_option("--as-of", "Day to sweep (default: today).")
@click.option("--dry-run", is_flag=True, help="Print what the sweep would write; write nothing.")
def remind(app: App, as_of: date | None, dry_run: bool) -> None:
    """Run one sweep for a day and one dispatch now, as the daemon would."""
    day = as_of or app.today()
    if not dry_run:
        require_secret(app)
    with app.session() as session:
        result = sweep(session, app.book, app.settings, day, app.now(), dry_run=dry_run)
        names = _recipient_names(session, result)
    key = "would_write" if dry_run else "written"
    when = format_date(day, app.settings.language)
    count = len(result.reminders) + len(result.notices)
    heading = _word(app, key).format(day=when, count=count)
    if dry_run:
        click.echo(f"{heading}\n{_planned_table(app, result, names)}")
        return
    click.echo(heading)
    outcome = dispatch(app.engine, app.book, app.settings, make_transports(app.settings), app.now())
    click.echo(_word(app, "dispatched").format(**vars(outcome)))
    if outcome.held or outcome.cancelled:
        click.echo(_word(app, "settled").format(held=outcome.held, cancelled=outcome.cancelled))
    for error in outcome.errors:
        click.echo(f"  {error}", err=True)
    if app.settings.mail.transport == "folder" and outcome.sent:
        click.echo(_word(app, "folder").format(folder=app.settings.path(app.settings.mail.folder)))


def _recipient_names(session: Session, result: SweepResult) -> dict[str, str]:
    ids = {r.person_id for r in result.reminders if r.person_id is not None}
    ids |= {n.person_id for n in result.notices}
    rows = session.execute(select(Person.id, Person.name, Person.email).where(Person.id.in_(ids)))
    names = {f"person:{pid}": f"{name} <{email or '—'}>" for pid, name, email in rows}
    for unit in result.units.values():
        names[f"chat:{unit.id}"] = f"# {unit.name}"
    return names


def _planned_table(app: App, result: SweepResult, names: dict[str, str]) -> str:
    lang = app.settings.language
    header = [_word(app, k) for k in ("unit", "rule", "period", "due", "stage", "recipient")]
    body = []
    for reminder in result.reminders:
        o = reminder.obligation
        unit = result.units[o.unit_id]
        body.append(
            [
                f"{unit.code} {unit.name}",
                o.rule_id,
                o.period.label,
                format_date(o.due, lang),
                stage_name(reminder.stage, lang),
                names.get(reminder.recipient, reminder.recipient),
            ]
        )
    for notice in result.notices:  # 整改 items and returned events, to the units' clerks
        place = result.units.get(notice.unit_id)
        body.append(
            [
                f"{place.code} {place.name}" if place else str(notice.unit_id),
                notice.kind,
                notice.label,
                format_date(notice.due, lang),
                stage_name(notice.stage, lang),
                names.get(notice.recipient, notice.recipient),
            ]
        )
    return render_table(header, body, right=())


@command(main, "outbox")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status.")
@day_option("--since", "Only reminders of this day or later.")
def outbox(app: App, status: str | None, since: date | None) -> None:
    """List the reminders: sent, pending and failed, with attempts and reasons."""
    query = (
        select(OutboxEntry, Unit.code, Person.name)
        .join(Unit, Unit.id == OutboxEntry.unit_id)
        .outerjoin(Person, Person.id == OutboxEntry.person_id)
        .order_by(OutboxEntry.day, OutboxEntry.recipient, OutboxEntry.id)
    )
    if status:
        query = query.where(OutboxEntry.status == status)
    if since:
        query = query.where(OutboxEntry.day >= since)
    with app.session() as session:
        rows = session.execute(query).all()
    if not rows:
        click.echo(_word(app, "empty"))
        return
    lang = app.settings.language
    keys = ("day", "unit", "rule", "period", "stage", "recipient", "status", "attempts", "detail")
    states = words(lang, "outbox.status.")
    body = [
        [
            e.day.isoformat(), code, e.rule_id, e.period_label, stage_name(e.stage, lang),
            name or e.recipient, states.get(e.status, e.status), str(e.attempts),
            detail(e, app.settings),
        ]
        for e, code, name in rows
    ]  # fmt: skip
    click.echo(render_table([_word(app, k) for k in keys], body, right=(7,)))


@main.group("links")
def links_group() -> None:
    """Record links in reminders (/r/TOKEN): revoke a person's links."""


@command(links_group, "revoke")
@click.argument("person", metavar="PERSON")
@by_option("Who revokes them.")
def links_revoke(app: App, person: str, by: str) -> None:
    """Revoke every record link of PERSON (an id or e-mail address): they stop working now."""
    with app.session() as session:
        found = session.get(Person, int(person)) if person.isdigit() else None
        found = found or session.scalar(select(Person).where(Person.email == person))
        if found is None:
            unknown = Message("unknown_code", what=Message("person"), value=person)
            raise single(unknown, "links revoke", field="PERSON")
        count = links.revoke_person(session, found.id, by, app.now())
    click.echo(word("link.revoked", app.settings.language).format(count=count, name=found.name))


def detail(entry: OutboxEntry, settings: Settings) -> str:
    """Why a row waits (held for quiet hours), failed, or which mail carried it."""
    if entry.status == PENDING and entry.held_until:
        until = as_utc(entry.held_until).astimezone(settings.zone)
        held = word("outbox.held", settings.language)
        return held.format(until=until.strftime("%Y-%m-%d %H:%M"))
    return entry.last_error or entry.message_id or ""


@command(main, "run")
def run(app: App) -> None:
    """Start the reminder daemon in the foreground (stop it with Ctrl-C or SIGTERM)."""
    app.engine.dispose()  # the schema check: nothing starts on a database it does not fit
    require_secret(app)
    try:
        daemon.run(app.settings, app.config_path)
    except daemon.DaemonError as error:
        raise Failure(error.said(app.settings.language)) from None


@command(main, "doctor")
@click.option("--send-test", "address", default=None, help="Send a test mail to this address.")
def doctor_command(app: App, address: str | None) -> None:
    """Check the configuration, the database, mail, workdays, backups, disk and clock."""
    now = app.now()
    findings = doctor.examine(app.settings, now.date()) + doctor_operations.examine(
        app.settings, now
    )
    if address:
        findings.append(doctor_operations.send_test(app.settings, address, now))
    for finding in findings:
        click.echo(finding.said(app.settings.language))
    if any(not finding.ok for finding in findings):
        raise SystemExit(1)
