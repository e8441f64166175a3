"""Commands of the calendar: ``huiqi meetings …``, ``huiqi feeds …`` and ``huiqi serve``."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scheduler.cli.kit import DAY, App, Failure, by_option, command, main, say
from scheduler.cli.textout import render_table
from scheduler.core.problems import Message, single
from scheduler.core.records import split_list
from scheduler.core.unittree import subtree as units_under
from scheduler.core.words import word, words
from scheduler.store.facts import unit_facts
from scheduler.store.models import Unit
from scheduler.store.models_calendar import Meeting, as_utc

if TYPE_CHECKING:
    from scheduler.calendar.meetings import Change

# The calendar's modules (icalendar, Jinja2) load inside the commands that use them, so that
# every other huiqi command starts without them.


@main.group("meetings")
def meetings_group() -> None:
    """Planned meetings: plan, update, cancel, list, mark held; invites go out by mail."""


def _meeting_options(function: Any) -> Any:
    options = [
        click.option("--kinds", default=None, help="Event kinds, ';'-separated (hearing;study)."),
        click.option("--start", default=None, help="Local start, 'YYYY-MM-DD HH:MM'."),
        click.option("--end", default=None, help="Local end, 'YYYY-MM-DD HH:MM' or 'HH:MM'."),
        click.option("--title", default=None, help="Title."),
        click.option("--location", default=None, help="Where."),
        click.option("--agenda", default=None, help="Agenda (shown in the invite)."),
        click.option(
            "--attendees",
            default=None,
            help="Roles at the unit and/or e-mail addresses, ',' or ';'-separated "
            "(default: the roles the meeting's rules name).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@command(meetings_group, "plan")
@click.option("--unit", required=True, help="Unit code.")
@_meeting_options
@by_option("Who plans it.")
def meetings_plan(app: App, by: str, **raw: str | None) -> None:
    """Plan a meeting and invite its attendees (nothing is sent for a meeting in the past)."""
    from scheduler.calendar import meetings

    fields = meetings.read_fields(raw, app.settings.zone, "meetings plan")
    now = app.now()
    with app.session() as session:
        change = meetings.plan(session, app.book, fields, by, now, app.settings.calendar.uid_domain)
    _report(app, change, Message("meeting_planned", id=change.meeting.id), now)


@command(meetings_group, "update")
@click.argument("meeting_id", metavar="ID", type=int)
@_meeting_options
@by_option("Who changes it.")
def meetings_update(app: App, meeting_id: int, by: str, **raw: str | None) -> None:
    """Change a planned meeting: SEQUENCE + 1 and updated invites (cancels to removed ones)."""
    from scheduler.calendar import meetings

    fields = meetings.read_fields(raw, app.settings.zone, "meetings update")
    now = app.now()
    with app.session() as session:
        change = meetings.update(session, app.book, meeting_id, fields, by, now)
    if change.unchanged:
        say(app, "meeting_unchanged", id=meeting_id)
        return
    _report(
        app,
        change,
        Message("meeting_updated", id=meeting_id, sequence=change.meeting.sequence),
        now,
    )


@command(meetings_group, "cancel")
@click.argument("meeting_id", metavar="ID", type=int)
@click.option("--reason", required=True, help="Why it is cancelled (told to the attendees).")
@by_option("Who cancels it.")
def meetings_cancel(app: App, meeting_id: int, reason: str, by: str) -> None:
    """Cancel a planned meeting; attendees get METHOD:CANCEL."""
    from scheduler.calendar import meetings

    now = app.now()
    with app.session() as session:
        change = meetings.cancel(session, meeting_id, reason, by, now)
    _report(app, change, Message("meeting_cancelled_now", id=meeting_id), now)


@command(meetings_group, "send")
@click.argument("meeting_id", metavar="ID", type=int)
def meetings_send(app: App, meeting_id: int) -> None:
    """Send the invites (or the cancellation) that did not get through before."""
    from scheduler.calendar import meetings

    now = app.now()
    with app.session() as session:
        change = meetings.pending(session, meeting_id, now)
    _report(app, change, Message("meeting_named", id=meeting_id), now)


@command(meetings_group, "held")
@click.argument("meeting_id", metavar="ID", type=int)
@click.option("--attended", default="", help="Roles whose holders attended, ';'-separated.")
@by_option("Who records it.")
def meetings_held(app: App, meeting_id: int, attended: str, by: str) -> None:
    """Record the meeting as held: an event of its kinds, linked to the meeting."""
    from scheduler.calendar import meetings

    with app.session() as session:
        change = meetings.held(session, app.book, meeting_id, split_list(attended), by, app.now())
    say(app, "meeting_held", id=meeting_id, event=change.meeting.event_id)


@command(meetings_group, "list")
@click.option("--unit", default=None, help="Only this unit.")
@click.option("--subtree", is_flag=True, help="With --unit: and every unit under it.")
@click.option("--from", "first", type=DAY, default=None, help="First day (default: today).")
@click.option("--to", "last", type=DAY, default=None, help="Last day (default: a year from today).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def meetings_list(
    app: App, unit: str | None, subtree: bool, first: date | None, last: date | None, fmt: str
) -> None:
    """Meetings starting between two days, by start time."""
    from scheduler.calendar import meetings

    zone = app.settings.zone
    first = first or app.today()
    last = last or max(first, app.today()) + timedelta(days=366)
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    with app.session() as session:
        unit_ids = _unit_ids(session, unit, subtree)
        rows = [_row(m, u, app) for m, u in meetings.listing(session, unit_ids, start, end)]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    lang = app.settings.language
    header = [word(f"cli.meetings_header.{key}", lang) for key in _HEADER]
    statuses = words(lang, "page.")
    shown = [{**row, "status": statuses.get(row["status"], row["status"])} for row in rows]
    body = [[str(row[key] if row[key] is not None else "") for key in _KEYS] for row in shown]
    no_meetings = word("cli.no_meetings", lang)
    click.echo(render_table(header, body, right=(0, 7, 8, 9)) if rows else no_meetings)


_KEYS = ("id", "start", "end", "unit", "title", "kinds", "status", "sequence", "invited", "event")
_HEADER = ("id", "start", "end", "unit", "title", "kinds", "status", "seq", "invited", "event")


def _row(meeting: Meeting, unit: Unit, app: App) -> dict[str, Any]:
    zone = app.settings.zone
    return {
        "id": meeting.id,
        "uid": meeting.uid,
        "start": f"{as_utc(meeting.starts_at).astimezone(zone):%Y-%m-%d %H:%M}",
        "end": f"{as_utc(meeting.ends_at).astimezone(zone):%Y-%m-%d %H:%M}",
        "unit": unit.code,
        "title": meeting.title,
        "kinds": ";".join(meeting.kinds),
        "status": meeting.status,
        "sequence": meeting.sequence,
        "invited": len(meeting.attendees),
        "attendees": [a.email for a in meeting.attendees],
        "event": meeting.event_id,
    }


def _unit_ids(session: Any, code: str | None, subtree: bool) -> list[int] | None:
    if code is None:
        return None
    units = unit_facts(session)
    root = next((unit for unit in units if unit.code == code), None)
    if root is None:
        unknown = Message("unknown_code", what=Message("unit"), value=code)
        raise single(unknown, "meetings list", field="--unit")
    return [unit.id for unit in (units_under(units, root) if subtree else [root])]


def _report(app: App, change: Change, done: Message, now: datetime) -> None:
    """Send the change's notices and say what happened; failed invites make the exit code 1."""
    from scheduler.calendar import invites
    from scheduler.transports.mail import make_mailer

    lang = app.settings.language
    what = done.said(lang)
    for name in change.skipped:
        click.echo(word("cli.not_invited", app.settings.language).format(name=name), err=True)
    if not change.notices:
        say(app, "no_invites", what=what)
        return
    mailer = make_mailer(app.settings)
    delivery = invites.deliver(app.engine, app.book, app.settings, mailer, change.notices, now)
    say(app, "invites_sent", what=what, sent=len(delivery.sent), failed=len(delivery.failed))
    if delivery.failed:
        failed = [Message("invite_failed", address=address, reason=reason)
                  for address, reason in delivery.failed]  # fmt: skip
        lines = [*failed, Message("retry_invites", id=change.meeting.id)]
        raise Failure("\n".join(line.said(lang) for line in lines))


# ----------------------------------------------------------------------------------------------
# Feeds


@main.group("feeds")
def feeds_group() -> None:
    """Calendar feeds to subscribe to (webcal): one secret URL per unit, subtree or person."""


@command(feeds_group, "create")
@click.option("--unit", default=None, help="Unit code.")
@click.option("--subtree", is_flag=True, help="With --unit: and every unit under it.")
@click.option("--person", default=None, help="A person's id or e-mail address.")
@by_option("Who creates it.")
def feeds_create(app: App, unit: str | None, subtree: bool, person: str | None, by: str) -> None:
    """Create a feed and print its URL (shown once: only a hash of the token is kept)."""
    from scheduler.calendar import feeds

    if (unit is None) == (person is None) or (subtree and person):
        raise single(Message("feed_scope_needed"), "feeds create")
    scope = "person" if person else ("subtree" if subtree else "unit")
    with app.session() as session:
        created = feeds.create(session, app.settings, scope, person or unit or "", by, app.now())
    scope_word = word(f"cli.feed_scope.{scope}", app.settings.language)
    say(app, "feed_created", id=created.feed.id, scope=scope_word, of=person or unit)
    click.echo(f"url:    {created.url}")
    click.echo(f"webcal: {created.webcal}")
    click.echo(f"token:  {created.token}")


@command(feeds_group, "list")
def feeds_list(app: App) -> None:
    """Every feed: id, what it covers, token hint, created and revoked dates."""
    from scheduler.calendar import feeds

    zone = app.settings.zone
    lang = app.settings.language
    with app.session() as session:
        rows = feeds.listing(session)
    body = [
        [
            str(feed.id),
            word(f"cli.feed_scope.{feed.scope}", lang),
            target,
            f"{feed.hint}…",
            f"{as_utc(feed.created_at).astimezone(zone):%Y-%m-%d %H:%M}",
            f"{as_utc(feed.revoked_at).astimezone(zone):%Y-%m-%d %H:%M}" if feed.revoked_at else "",
        ]
        for feed, target in rows
    ]
    header = [word(f"cli.feeds_header.{key}", lang) for key in FEED_COLUMNS]
    click.echo(render_table(header, body, right=(0,)) if body else word("cli.no_feeds", lang))


FEED_COLUMNS = ("id", "scope", "covers", "token", "created", "revoked")


@command(feeds_group, "revoke")
@click.argument("token", metavar="TOKEN")
@by_option("Who revokes it.")
def feeds_revoke(app: App, token: str, by: str) -> None:
    """Revoke a feed by its token (or its id from 'huiqi feeds list'): its URL stops working."""
    from scheduler.calendar import feeds

    with app.session() as session:
        feed = feeds.revoke(session, token, by, app.now())
    say(app, "feed_revoked", id=feed.id)


@command(feeds_group, "export")
@click.argument("token", metavar="TOKEN")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True)
def feeds_export(app: App, token: str, output: Path) -> None:
    """Write the feed's calendar to a file, as the URL would serve it now."""
    from scheduler.calendar import feeds

    with app.session() as session:
        feed = feeds.active(session, token)
        if feed is None:
            raise single(Message("unknown_token"), "feeds export", field="TOKEN")
        body = feeds.render(session, app.book, app.settings, feed, app.now()).encode("utf-8")
    _write(output, body)
    say(app, "feed_exported", file=output, events=body.count(b"BEGIN:VEVENT"))


def _write(path: Path, data: bytes) -> None:
    if not path.resolve().parent.is_dir():
        raise single(Message("no_such_folder"), str(path.resolve().parent), field="--output")
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
