"""The scorecard page (年度考核) and its CSV and XLSX downloads, kept internal.

Admins read every unit's scores and ranks. With ``assessment.visible_to: clerks`` a clerk
reads the scores of her own subtree without ranks; anybody else is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from scheduler.assessment import sheets
from scheduler.assessment import workbook as score_workbook
from scheduler.core.assessment import Scorecard, may_read_scores, sees_ranks, without_ranks
from scheduler.core.problems import InputError, single
from scheduler.store import reports
from scheduler.store.database import transaction
from scheduler.web import views
from scheduler.web.kit import PageRoute, Refused, Visit, VisitDep, keep_day, page, scope_code
from scheduler.web.messages import problem_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Year = Annotated[int | None, Query(ge=2000, le=2100)]
CHART_UNITS = 40  # beyond this many units the quarterly chart would be a wall of bars
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/scorecard")
def scorecard(
    request: Request, visit: VisitDep, year: Year = None, kind: str = "", format: str = ""
) -> Response:
    if not may_read_scores(visit.user, visit.context.settings.assessment.visible_to):
        raise Refused
    year = year or visit.today.year
    context = visit.context
    try:
        with transaction(context.engine) as session:
            selection = reports.year_selection(year, visit.today, scope_code(session, visit.user))
            found = reports.scorecards(session, context.book, selection, every_kind=True)
        cards = _chosen(found.cards, kind or found.default_kind, format == "xlsx" and not kind)
    except InputError as error:
        return page(request, visit, context, "message.html", status_code=422,
                    heading=problem_text(error, visit.lang), back="/scorecard")  # fmt: skip
    if not sees_ranks(visit.user):
        cards = [without_ranks(card) for card in cards]
    if format in TYPES:
        return _download(visit, cards, year, format)
    card = cards[0] if cards else None
    units = [line.unit for line in card.lines] if card else []
    chart = views.quarter_rates(units, found.obligations, year) if len(units) <= CHART_UNITS else []
    return page(
        request,
        visit,
        context,
        "scorecard.html",
        card=card,
        kinds=[(each.kind, sheets.kind_name(each.kind, visit.lang)) for each in found.cards],
        explanation=sheets.explain(card, visit.lang) if card else [],
        s=sheets.labels(visit.lang),
        number=lambda value: str(reports.json_number(value)),
        percent=percent,
        points=points_text,
        heat=heat,
        chart=chart,
        year=year,
        as_of=visit.today,
        download_query=keep_day(
            f"?year={year}&kind={quote(card.kind) if card else ''}", visit.as_of
        )[1:],
    )


def percent(share: Decimal | float | None) -> str:
    """A share as people write it: ``90%``, ``48.7%`` (one decimal only when needed), — for
    none."""
    if share is None:
        return "—"
    value = round(Decimal(str(share)) * 100, 1)
    return f"{value.normalize():f}%" if value != value.to_integral_value() else f"{int(value)}%"


def points_text(value: Decimal) -> str:
    """Points to two decimals at most, trailing zeros dropped: ``5``, ``2.5``, ``1.67``."""
    rounded = round(value, 2)
    if rounded == rounded.to_integral_value():
        return str(int(rounded))
    return f"{rounded.normalize():f}"


def heat(share: Decimal | float | None) -> str:
    """The colour of a share on a scale from red (0%, the worst) through amber to green (100%);
    none for no share (nothing due), which stays white."""
    if share is None:
        return ""
    hue = round(120 * min(max(float(share), 0.0), 1.0))
    return f"background-color: hsl({hue} 65% 80%)"


def _chosen(cards: list[Scorecard], kind: str | None, every: bool) -> list[Scorecard]:
    """Every card (for a workbook without a kind), or the card of ``kind``."""
    if every or kind is None:
        return cards
    chosen = [card for card in cards if card.kind == kind]
    if not chosen:
        raise single(f"no unit of kind {kind!r} is assessed here", "kind")
    return chosen


def _download(visit: Visit, cards: list[Scorecard], year: int, fmt: str) -> Response:
    lang = visit.lang
    if fmt == "csv":
        data = sheets.to_csv(cards, lang)
    else:
        data = score_workbook.to_xlsx(cards, year, visit.today, lang)
    name = f"{sheets.labels(lang)['title']}-{year}.{fmt}"
    disposition = f"attachment; filename=\"scorecard-{year}.{fmt}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=TYPES[fmt], headers={"Content-Disposition": disposition})
