"""Reminder commands: ``huiqi remind``, ``huiqi outbox``, ``huiqi run``, ``huiqi doctor``."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import daemon, doctor
from scheduler.cli import App, Failure, command, day_option, main
from scheduler.dispatch import dispatch
from scheduler.i18n import format_date
from scheduler.mail import make_mailer
from scheduler.models import Person, Unit
from scheduler.models_reminders import STATUSES, OutboxEntry
from scheduler.outbox import SweepResult, sweep
from scheduler.reminders import ESCALATE
from scheduler.textout import render_table

WORDS = {
    "zh": {
        "unit": "单位",
        "rule": "规则",
        "period": "期间",
        "stage": "阶段",
        "recipient": "收件人",
        "due": "截止日期",
        "day": "日期",
        "status": "状态",
        "attempts": "尝试",
        "detail": "说明",
        "would_write": "{day}:将写入 {count} 条提醒(演练,未写入)",
        "written": "{day}:写入 {count} 条提醒",
        "dispatched": "发送:{sent} 封已发送,{retrying} 封待重试,{failed} 封失败,"
        "{undeliverable} 封无法投递",
        "folder": "邮件在 {folder}",
        "empty": "(发件箱中没有符合条件的提醒)",
    },
    "en": {
        "unit": "Unit",
        "rule": "Rule",
        "period": "Period",
        "stage": "Stage",
        "recipient": "Recipient",
        "due": "Due",
        "day": "Day",
        "status": "Status",
        "attempts": "Tries",
        "detail": "Detail",
        "would_write": "{day}: a sweep would write {count} reminders (dry run, nothing written)",
        "written": "{day}: {count} reminders written",
        "dispatched": "dispatch: {sent} sent, {retrying} to retry, {failed} failed, "
        "{undeliverable} undeliverable",
        "folder": "mails are in {folder}",
        "empty": "(no reminders in the outbox match)",
    },
}


def _word(app: App, key: str) -> str:
    return WORDS[app.settings.language][key]


_STATUS_ZH = {"pending": "待发送", "sent": "已发送", "failed": "失败", "undeliverable": "无法投递"}
_BEFORE = re.compile(r"^(\d+) (day|week|month|year)s? before$")
_UNITS_ZH = {"day": "天", "week": "周", "month": "个月", "year": "年"}


def stage_name(stage: str, language: str) -> str:
    """A stage as people read it: 截止前14天, 截止当日, 逾期上报 (or the English words)."""
    if stage == ESCALATE:
        return "逾期上报" if language == "zh" else "escalation"
    if stage == "on due":
        return "截止当日" if language == "zh" else "on the due date"
    match = _BEFORE.match(stage)
    if match and language == "zh":
        return f"截止前{match.group(1)}{_UNITS_ZH[match.group(2)]}"
    return stage


@command(main, "remind")
@day_option("--as-of", "Day to sweep (default: today).")
@click.option("--dry-run", is_flag=True, help="Print what the sweep would write; write nothing.")
def remind(app: App, as_of: date | None, dry_run: bool) -> None:
    """Run one sweep for a day and one dispatch now, as the daemon would."""
    day = as_of or app.today()
    with app.session() as session:
        result = sweep(session, app.book, app.settings, day, app.now(), dry_run=dry_run)
        names = _recipient_names(session, result)
    key = "would_write" if dry_run else "written"
    when = format_date(day, app.settings.language)
    heading = _word(app, key).format(day=when, count=len(result.reminders))
    if dry_run:
        click.echo(f"{heading}\n{_planned_table(app, result, names)}")
        return
    click.echo(heading)
    outcome = dispatch(app.engine, app.book, app.settings, make_mailer(app.settings), app.now())
    click.echo(_word(app, "dispatched").format(**vars(outcome)))
    for error in outcome.errors:
        click.echo(f"  {error}", err=True)
    if app.settings.mail.transport == "folder" and outcome.sent:
        click.echo(_word(app, "folder").format(folder=app.settings.path(app.settings.mail.folder)))


def _recipient_names(session: Session, result: SweepResult) -> dict[str, str]:
    ids = {r.person_id for r in result.reminders if r.person_id is not None}
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
    states = _STATUS_ZH if lang == "zh" else {}
    body = [
        [
            e.day.isoformat(), code, e.rule_id, e.period_label, stage_name(e.stage, lang),
            name or e.recipient, states.get(e.status, e.status), str(e.attempts),
            e.last_error or e.message_id or "",
        ]
        for e, code, name in rows
    ]  # fmt: skip
    click.echo(render_table([_word(app, k) for k in keys], body, right=(7,)))


@command(main, "run")
def run(app: App) -> None:
    """Start the reminder daemon in the foreground (stop it with Ctrl-C or SIGTERM)."""
    context = click.get_current_context()
    config = context.params.get("config")
    try:
        daemon.run(app.settings, Path(config) if config else None)
    except daemon.DaemonError as error:
        raise Failure(str(error)) from None


@command(main, "doctor")
def doctor_command(app: App) -> None:
    """Check the configuration, the database, the mail transport and the workday calendar."""
    findings = doctor.examine(app.settings, app.today())
    for finding in findings:
        click.echo(str(finding))
    if any(not finding.ok for finding in findings):
        raise SystemExit(1)
