"""The year plan from the database: propose (`propose`), render, and accept (`accept`).

`propose` loads the facts set-based (units, held events, waivers, planned meetings, the workday
calendar) and hands them to `scheduler.core.planner.plan_year`. `accept` plans each proposed
meeting through `scheduler.calendar.meetings.plan` in the caller's transaction (so the trail
and the invites are those of any planned meeting); since planned meetings count, a second
accept finds nothing left to propose and adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.calendar import meetings
from scheduler.config import Settings
from scheduler.core.compliance import UnitFacts
from scheduler.core.planner import (
    Plan,
    PlannedFacts,
    PlanOptions,
    Proposal,
    plan_year,
    plannable_rules,
)
from scheduler.core.rules import RuleBook
from scheduler.core.unittree import subtree as units_under
from scheduler.core.workdays import Workdays
from scheduler.store.facts import event_facts, unit_facts, waiver_facts
from scheduler.store.models_calendar import Meeting, as_utc
from scheduler.store.workdays import load_workdays


@dataclass(frozen=True)
class YearPlan:
    """A plan with what it was made from: the units by id, the year, the as-of day."""

    plan: Plan
    units: dict[int, UnitFacts]
    year: int
    as_of: date
    workdays: Workdays


def options_of(settings: Settings) -> PlanOptions:
    return PlanOptions(settings.planner.margin_days, settings.planner.per_day)


def propose(
    session: Session,
    book: RuleBook,
    settings: Settings,
    year: int,
    as_of: date,
    unit_ids: Sequence[int] | None = None,
) -> YearPlan:
    """The year plan for ``unit_ids`` (None: every unit), as of ``as_of``."""
    units = unit_facts(session)
    targets = [unit.id for unit in units] if unit_ids is None else list(unit_ids)
    rules, rolling = plannable_rules(book.rules)
    kinds = {rule.requirement.kind for rule in rules}
    earliest = min((rule.effective_from for rule in rules), default=as_of)
    scope = None if unit_ids is None else targets
    events = event_facts(session, kinds, earliest, as_of, scope)
    workdays = load_workdays(session, settings)
    planned = planned_facts(session, settings.zone, as_of)
    plan = plan_year(
        [*rules, *rolling],
        units,
        targets,
        events,
        waiver_facts(session),
        planned,
        workdays.is_workday,
        year,
        as_of,
        options_of(settings),
    )
    return YearPlan(plan, {unit.id: unit for unit in units}, year, as_of, workdays)


def planned_facts(session: Session, zone: ZoneInfo, since: date) -> list[PlannedFacts]:
    """Every planned meeting starting on or after ``since`` (local day), one statement."""
    start = datetime.combine(since, time(), zone)
    rows = session.execute(
        select(Meeting.id, Meeting.unit_id, Meeting.starts_at, Meeting.kinds).where(
            Meeting.status == "planned", Meeting.starts_at >= as_utc(start)
        )
    )
    return [
        PlannedFacts(mid, unit_id, as_utc(starts).astimezone(zone).date(), frozenset(kinds))
        for mid, unit_id, starts, kinds in rows
    ]


def scope_ids(session: Session, code: str | None, subtree: bool) -> list[int] | None:
    """``--unit CODE [--subtree]`` as unit ids; None for every unit; KeyError when unknown."""
    if code is None:
        return None
    units = unit_facts(session)
    root = next((unit for unit in units if unit.code == code), None)
    if root is None:
        raise KeyError(code)
    return [unit.id for unit in (units_under(units, root) if subtree else [root])]


# ----------------------------------------------------------------------------------------------
# Rendering


def to_json(year_plan: YearPlan, settings: Settings) -> dict[str, Any]:
    """``huiqi plan --format json``: the meetings, then the coverage."""
    units, plan = year_plan.units, year_plan.plan
    start, end = settings.planner.start, settings.planner.end
    return {
        "year": year_plan.year,
        "as_of": year_plan.as_of.isoformat(),
        "meetings": [_meeting_json(p, units, start, end) for p in plan.proposals],
        "coverage": {
            "served": [
                _obligation(units[unit_id], target.rule_id, target.period, target.due)
                for unit_id, target in plan.served()
            ],
            "planned": [
                {
                    **_obligation(units[c.unit_id], c.rule_id, c.period, c.due),
                    "meetings": list(c.meetings),
                }
                for c in plan.covered
            ],
            "unplaced": [
                {**_obligation(units[u.unit_id], u.rule_id, u.period, u.due), "reason": u.reason}
                for u in plan.unplaced
            ],
            "skipped_rules": list(plan.skipped),
        },
    }


def _meeting_json(
    proposal: Proposal, units: dict[int, UnitFacts], start: time, end: time
) -> dict[str, Any]:
    return {
        "unit": units[proposal.unit_id].code,
        "unit_name": units[proposal.unit_id].name,
        "date": proposal.day.isoformat(),
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
        "kinds": list(proposal.kinds),
        "serves": [{"rule": t.rule_id, "period": t.period.label} for t in proposal.serves],
        "notes": list(proposal.notes),
    }


def _obligation(unit: UnitFacts, rule_id: str, period: Any, due: date) -> dict[str, Any]:
    return {"unit": unit.code, "rule": rule_id, "period": period.label, "due": due.isoformat()}


def title_of(proposal: Proposal, book: RuleBook, language: str) -> str:
    """The meeting's title: the titles of its kinds (``听取妇联工作汇报、专题研究妇联工作``)."""
    separator = ", " if language == "en" else "、"
    return separator.join(book.event_kinds[kind](language) for kind in proposal.kinds)


def fields_of(
    proposal: Proposal, units: dict[int, UnitFacts], book: RuleBook, settings: Settings
) -> meetings.MeetingFields:
    zone = settings.zone
    return meetings.MeetingFields(
        unit=units[proposal.unit_id].code,
        kinds=proposal.kinds,
        start=datetime.combine(proposal.day, settings.planner.start, zone),
        end=datetime.combine(proposal.day, settings.planner.end, zone),
        title=title_of(proposal, book, settings.language),
    )


# ----------------------------------------------------------------------------------------------
# Accepting


def accept(
    session: Session,
    book: RuleBook,
    settings: Settings,
    year: int,
    as_of: date,
    unit_ids: Sequence[int] | None,
    by: str,
    now: datetime,
) -> tuple[YearPlan, list[meetings.Change]]:
    """Plan every proposed meeting (in the caller's transaction); the changes carry the invites
    to send once it commits."""
    year_plan = propose(session, book, settings, year, as_of, unit_ids)
    domain = settings.calendar.uid_domain
    changes = [
        meetings.plan(session, book, fields_of(p, year_plan.units, book, settings), by, now, domain)
        for p in year_plan.plan.proposals
    ]
    return year_plan, changes


def to_ics(year_plan: YearPlan, book: RuleBook, settings: Settings, stamp: datetime) -> str:
    """The proposal as a PUBLISH calendar (one VEVENT per proposed meeting, no attendees)."""
    from scheduler.calendar import ics
    from scheduler.calendar.entries import organizer

    lang, zone = settings.language, settings.zone
    header = ics.FeedHeader(
        uid=f"plan-{year_plan.year}@{settings.calendar.uid_domain}",
        name=f"{year_plan.year} {settings.calendar.organizer_name}",
        zone=settings.timezone,
        organizer=organizer(settings),
    )
    entries = []
    for proposal in year_plan.plan.proposals:
        unit = year_plan.units[proposal.unit_id]
        lines = [
            f"{book.rule(t.rule_id).title(lang)} {t.period.label}（{book.rule(t.rule_id).cite}）"
            for t in proposal.serves
        ]
        entries.append(
            ics.Meeting(
                uid=f"plan-{unit.code}-{proposal.day:%Y%m%d}@{settings.calendar.uid_domain}",
                sequence=0,
                start=datetime.combine(proposal.day, settings.planner.start, zone),
                end=datetime.combine(proposal.day, settings.planner.end, zone),
                summary=f"{unit.name} {title_of(proposal, book, lang)}",
                location="",
                description="\n".join(lines),
                organizer=organizer(settings),
                alarm_before=None,
            )
        )
    return ics.feed(header, entries, [], stamp)


# ----------------------------------------------------------------------------------------------
# Moving a planned meeting


def check_move(
    session: Session,
    book: RuleBook,
    settings: Settings,
    meeting: Meeting,
    day: date,
    as_of: date,
) -> list[tuple[str, str]]:
    """Why ``meeting`` may not move to ``day`` (`scheduler.core.planner.move_problems`)."""
    from scheduler.core.planner import move_problems

    units = unit_facts(session)
    rules, _ = plannable_rules(book.rules)
    kinds = {rule.requirement.kind for rule in rules}
    earliest = min((rule.effective_from for rule in rules), default=as_of)
    events = event_facts(session, kinds, earliest, as_of, [meeting.unit_id])
    planned = planned_facts(session, settings.zone, as_of)
    if not any(p.id == meeting.id for p in planned):
        return [("past", as_utc(meeting.starts_at).astimezone(settings.zone).date().isoformat())]
    workdays = load_workdays(session, settings)
    return move_problems(
        rules, units, events, waiver_facts(session), planned, meeting.id, day,
        workdays.is_workday, as_of, options_of(settings),
    )  # fmt: skip


def move(
    session: Session,
    book: RuleBook,
    settings: Settings,
    meeting_id: int,
    day: date,
    by: str,
    now: datetime,
) -> tuple[list[tuple[str, str]], meetings.Change | None]:
    """Move a planned meeting to ``day`` at the same times, when the constraints allow it:
    the problems (nothing changed) or the change (invites re-sent after commit)."""
    meeting = meetings.find(session, meeting_id)
    problems = check_move(session, book, settings, meeting, day, now.date())
    if problems:
        return problems, None
    zone = settings.zone
    start = as_utc(meeting.starts_at).astimezone(zone)
    end = as_utc(meeting.ends_at).astimezone(zone)
    fields = meetings.MeetingFields(
        start=datetime.combine(day, start.time(), zone),
        end=datetime.combine(day + (end.date() - start.date()), end.time(), zone),
    )
    return [], meetings.update(session, book, meeting_id, fields, by, now)
