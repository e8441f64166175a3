"""What a calendar feed holds: its units, their meetings, and the deadlines still open.

A feed covers a unit, a unit and every unit under it (``subtree``), or a person (the units where
the person holds a role today, and the meetings they are invited to). It holds the planned and
held meetings that started at most ``calendar.feed_past_days`` ago, and, as all-day events on
their due date, the deadlines of the open and overdue obligations, summarised as
``【待办】东山镇 听取妇联工作汇报 2021-B2``: status, unit, what is still required, period. UIDs
are stable (``meeting-…``, ``obligation-UNIT-RULE-PERIOD@…``) so clients update entries in place,
and DTSTAMPs come from the facts, so the same facts give the same bytes and the same ETag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from scheduler.calendar import ics
from scheduler.calendar.entries import calendar_meeting, organizer, unit_url
from scheduler.config import Settings
from scheduler.core import unittree
from scheduler.core.compliance import Obligation, Status, UnitFacts, evaluate
from scheduler.core.rules import AttendRequirement, Rule, RuleBook, SumRequirement
from scheduler.core.words import format_date, status_name, word
from scheduler.store.facts import event_facts, unit_facts, waiver_facts
from scheduler.store.models import Person, RoleAssignment, Unit
from scheduler.store.models_calendar import CalendarFeed, Meeting, MeetingAttendee, as_utc


def render(
    session: Session, book: RuleBook, settings: Settings, feed: CalendarFeed, now: datetime
) -> str:
    """The iCalendar text of ``feed`` on ``now`` (local time of the configured zone)."""
    local = now.astimezone(settings.zone)
    units, person = _scope(session, feed, local.date())
    meetings = _meetings(session, book, settings, units, person, local)
    deadlines = deadlines_of(session, book, settings, units, local.date())
    header = ics.FeedHeader(
        uid=f"feed-{feed.id}@{settings.calendar.uid_domain}",
        name=_name(feed, units, person, settings.language),
        zone=settings.timezone,
        organizer=organizer(settings),
        refresh=timedelta(minutes=settings.calendar.feed_refresh_minutes),
    )
    return ics.feed(header, meetings, deadlines, now)


def _scope(
    session: Session, feed: CalendarFeed, day: date
) -> tuple[list[UnitFacts], Person | None]:
    """The units a feed covers (only those are loaded, but a subtree needs the whole tree)."""
    if feed.scope == "subtree":
        everybody = unit_facts(session)
        return unittree.subtree(everybody, next(u for u in everybody if u.id == feed.unit_id)), None
    if feed.scope == "unit":
        return _units_where(session, Unit.id == feed.unit_id), None
    person = session.get_one(Person, feed.person_id)
    held = select(RoleAssignment.unit_id).where(
        RoleAssignment.person_id == person.id,
        or_(RoleAssignment.valid_from.is_(None), RoleAssignment.valid_from <= day),
        or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to >= day),
    )
    return _units_where(session, Unit.id.in_(held)), person


def _units_where(session: Session, condition: ColumnElement[bool]) -> list[UnitFacts]:
    columns = (Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.active_from,
               Unit.active_to, Unit.attributes)  # fmt: skip
    rows = session.execute(select(*columns).where(condition).order_by(Unit.code))
    return [UnitFacts(*row) for row in rows]


def _name(feed: CalendarFeed, units: list[UnitFacts], person: Person | None, lang: str) -> str:
    if person is not None:
        subject = person.name
    else:
        root = next(unit for unit in units if unit.id == feed.unit_id)
        below = {"zh": "（含下级）", "en": " and below"}[lang] if feed.scope == "subtree" else ""
        subject = f"{root.name}{below}"
    return f"{subject} 会期" if lang == "zh" else f"{subject} — huiqi"


def _meetings(
    session: Session,
    book: RuleBook,
    settings: Settings,
    units: Sequence[UnitFacts],
    person: Person | None,
    now: datetime,
) -> list[ics.Meeting]:
    since = as_utc(now) - timedelta(days=settings.calendar.feed_past_days)
    wanted: ColumnElement[bool] = Meeting.unit_id.in_([unit.id for unit in units])
    if person is not None:
        mine: ColumnElement[bool] = MeetingAttendee.person_id == person.id
        if person.email:
            mine = or_(mine, MeetingAttendee.email == person.email)
        invited = select(MeetingAttendee.meeting_id).where(mine)
        wanted = or_(wanted, Meeting.id.in_(invited))
    rows = session.execute(
        select(Meeting, Unit)
        .join(Unit, Unit.id == Meeting.unit_id)
        .where(wanted, Meeting.status != "cancelled", Meeting.starts_at >= since)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    items = []
    for meeting, unit in rows:
        item = calendar_meeting(meeting, unit, book, settings)
        title = meeting.title if unit.name in meeting.title else f"{unit.name} {meeting.title}"
        items.append(replace(item, summary=title, alarm_before=None))
    return items


def deadlines_of(
    session: Session,
    book: RuleBook,
    settings: Settings,
    units: Sequence[UnitFacts],
    day: date,
) -> list[ics.Deadline]:
    """All-day entries for the open and overdue obligations of ``units`` on ``day``."""
    if not units:
        return []
    rules = list(book.rules)
    kinds = {rule.requirement.kind for rule in rules}
    earliest = min((rule.effective_from for rule in rules), default=day)
    reviewed = book.review_mode != "off"
    events = event_facts(session, kinds, earliest, day, [unit.id for unit in units], reviewed)
    waivers, since = waiver_facts(session), day - timedelta(366)
    found = evaluate(rules, units, events, waivers, day, since, day, book.review_mode)
    by_unit = {unit.id: unit for unit in units}
    by_rule = {rule.id: rule for rule in rules}
    current = [o for o in found if o.status in (Status.OPEN, Status.OVERDUE)]
    current.sort(key=lambda o: (o.due, by_unit[o.unit_id].code, o.rule_id, o.period.start))
    return [deadline(book, settings, by_rule[o.rule_id], by_unit[o.unit_id], o) for o in current]


def deadline(
    book: RuleBook, settings: Settings, rule: Rule, unit: UnitFacts, obligation: Obligation
) -> ics.Deadline:
    """One obligation as an all-day entry on its due date."""
    lang = settings.language
    label = obligation.period.label
    tag = word(f"feed.tag.{obligation.status.value}", lang)
    need = still_required(book, rule, obligation, lang)
    if lang == "zh":
        summary = f"【{tag}】{unit.name} {need} {label}"
    else:
        summary = f"[{tag}] {unit.name}: {need} {label}"
    uid = f"obligation-{unit.code}-{rule.id}-{label}@{settings.calendar.uid_domain}"
    stamp = datetime.combine(obligation.period.start, time(), settings.zone)
    return ics.Deadline(
        uid=re.sub(r"[^\w.@-]", "_", uid),
        day=obligation.due,
        summary=summary,
        description=_deadline_text(rule, unit, obligation, settings),
        url=unit_url(settings, unit.code),
        stamp=stamp,
    )


def still_required(book: RuleBook, rule: Rule, obligation: Obligation, lang: str) -> str:
    """What the obligation still needs, e.g. ``听取妇联工作汇报`` or ``工作经费拨付 还差500元``."""
    requirement = rule.requirement
    kind = book.event_kinds[requirement.kind](lang)
    if isinstance(requirement, AttendRequirement):
        role = book.roles[requirement.role](lang)
        return f"{role}参加{kind}" if lang == "zh" else f"{role} attends {kind}"
    if obligation.required is None:
        return kind
    left = obligation.required - obligation.actual
    if isinstance(requirement, SumRequirement):
        amount = _amount(left)
        return f"{kind} 还差{amount}元" if lang == "zh" else f"{kind} ({amount} yuan short)"
    if left > 1:
        return f"{kind} 还差{_amount(left)}次" if lang == "zh" else f"{kind} ({left} more)"
    return kind


def _amount(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def _deadline_text(rule: Rule, unit: UnitFacts, obligation: Obligation, settings: Settings) -> str:
    lang = settings.language
    period, when, status, required, actual, page = (
        word(f"feed.{key}", lang)
        for key in ("period", "due", "status", "required", "actual", "page")
    )
    span = (
        f"{format_date(obligation.period.start, lang)}–{format_date(obligation.period.end, lang)}"
    )
    needed = "?" if obligation.required is None else _amount(obligation.required)
    lines = [
        rule.title(lang),
        rule.cite,
        f"{period}{obligation.period.label} ({span})",
        f"{when}{format_date(obligation.due, lang)}",
        f"{status}{status_name(obligation.status, lang)}",
        f"{required}{needed}{actual}{_amount(obligation.actual)}",
        f"{page}{unit_url(settings, unit.code)}",
    ]
    return "\n".join(lines)
