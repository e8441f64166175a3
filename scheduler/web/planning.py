"""The "plan the year" page of a unit (its whole subtree: the county's page plans every
township), accepting the proposal, and moving a planned meeting to another day.

The page is a server-rendered month calendar: each day shows the proposed meetings and the
meetings already planned, days off are shaded. Reading needs the unit in the user's scope;
accepting and moving need the right to change it (a clerk of the subtree, an admin). Moving is
a form per planned meeting with a date field; the new day is checked as the planner places
(`scheduler.calendar.plans.check_move`) and refused, with the reasons, when it breaks a rule.
The meeting service writes the trail and the invites go out as for any change.
"""

from __future__ import annotations

import calendar as month_calendar
from collections import defaultdict
from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheduler.calendar import meetings, plans
from scheduler.core.problems import InputError, message_of
from scheduler.core.records import parse_day
from scheduler.core.unittree import subtree
from scheduler.core.words import words
from scheduler.store.database import transaction
from scheduler.store.facts import unit_facts
from scheduler.store.models import Unit
from scheduler.store.models_calendar import as_utc
from scheduler.web.forms import _send
from scheduler.web.kit import (
    NotFound,
    PageRoute,
    Refused,
    Visit,
    VisitDep,
    checked_form,
    local_path,
    page,
    unit_for,
)
from scheduler.web.messages import form_message

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _year(text: str | None, today: date) -> int:
    try:
        year = int(text) if text else today.year
    except ValueError:
        raise NotFound from None
    if not 2000 <= year <= 2100:
        raise NotFound
    return year


def _subtree_ids(session: Any, unit: Unit) -> list[int]:
    units = unit_facts(session)
    root = next(u for u in units if u.id == unit.id)
    return [u.id for u in subtree(units, root)]


@router.get("/units/{code}/plan")
def plan_page(
    request: Request, visit: VisitDep, code: str, year: str | None = None
) -> HTMLResponse:
    context = visit.context
    chosen = _year(year, visit.today)
    with transaction(context.engine) as session:
        unit = unit_for(session, visit.user, code)
        ids = _subtree_ids(session, unit)
        year_plan = plans.propose(session, context.book, context.settings, chosen, visit.today, ids)
        zone = context.settings.zone
        first = datetime.combine(date(chosen, 1, 1), time(), zone)
        planned = meetings.listing(session, ids, first, first.replace(year=chosen + 1))
        rows = [
            (m.id, m.title, as_utc(m.starts_at).astimezone(zone), u)
            for m, u in planned
            if m.status == "planned"
        ]
        may_change = _may_change(session, visit, code)
    return page(
        request,
        visit,
        context,
        "plan.html",
        unit=unit,
        year=chosen,
        months=_months(chosen, year_plan, rows),
        plan=year_plan.plan,
        units=year_plan.units,
        book=context.book,
        title_of=lambda p: plans.title_of(p, context.book, visit.lang),
        planned=rows,
        may_change=may_change,
        p=words(visit.lang, "plan."),
    )


def _may_change(session: Any, visit: Visit, code: str) -> bool:
    try:
        unit_for(session, visit.user, code, change=True)
    except Refused:
        return False
    return True


def _months(
    year: int,
    year_plan: plans.YearPlan,
    planned: list[tuple[int, str, datetime, Unit]],
) -> list[dict[str, Any]]:
    """Twelve months of weeks (Monday first); each day its proposals and planned meetings."""
    proposed: dict[date, list[Any]] = defaultdict(list)
    for proposal in year_plan.plan.proposals:
        proposed[proposal.day].append(proposal)
    held: dict[date, list[Any]] = defaultdict(list)
    for row in planned:
        held[row[2].date()].append(row)
    months = []
    grid = month_calendar.Calendar(firstweekday=0)
    for month in range(1, 13):
        weeks = []
        for week in grid.monthdatescalendar(year, month):
            weeks.append(
                [
                    {
                        "day": day,
                        "inside": day.month == month,
                        "workday": year_plan.workdays.is_workday(day),
                        "proposed": proposed.get(day, []) if day.month == month else [],
                        "planned": held.get(day, []) if day.month == month else [],
                    }
                    for day in week
                ]
            )
        months.append({"month": month, "weeks": weeks})
    return months


@router.post("/units/{code}/plan/accept")
async def accept_plan(request: Request, visit: VisitDep, code: str) -> Response:
    form = await checked_form(request, visit)
    context = visit.context
    chosen = _year(str(form.get("year", "")), visit.today)
    with transaction(context.engine) as session:
        unit = unit_for(session, visit.user, code, change=True)
        ids = _subtree_ids(session, unit)
        _, changes = plans.accept(
            session, context.book, context.settings, chosen, visit.today, ids, visit.user.label,
            visit.now,
        )  # fmt: skip
    _send(visit, [notice for change in changes for notice in change.notices])
    return RedirectResponse(f"/units/{code}/plan?year={chosen}", status_code=303)


@router.post("/meetings/{meeting_id}/move")
async def move_meeting(request: Request, visit: VisitDep, meeting_id: int) -> Response:
    form = await checked_form(request, visit)
    context = visit.context
    back = str(form.get("back", ""))
    with transaction(context.engine) as session:
        try:
            meeting = meetings.find(session, meeting_id)
        except InputError:
            raise NotFound from None
        unit = session.get_one(Unit, meeting.unit_id)
        unit_for(session, visit.user, unit.code, change=True)
        back = local_path(back, f"/units/{unit.code}/plan")
        try:
            day = parse_day(str(form.get("date", "")).strip())
        except ValueError as error:
            return _refused(request, visit, [form_message(message_of(error), visit.lang)], back)
        problems, change = plans.move(
            session, context.book, context.settings, meeting_id, day, visit.user.label, visit.now
        )
    if problems:
        names = words(visit.lang, "plan.")
        lines = [f"{names[f'move.{reason}']}：{detail}" for reason, detail in problems]
        return _refused(request, visit, lines, back)
    if change is not None:
        _send(visit, change.notices)
    return RedirectResponse(back, status_code=303)


def _refused(request: Request, visit: Visit, lines: list[str], back: str) -> HTMLResponse:
    heading = words(visit.lang, "plan.")["move.refused"] + " " + "；".join(lines)
    return page(
        request, visit, visit.context, "message.html", status_code=422, heading=heading, back=back
    )
