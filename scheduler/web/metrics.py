"""``GET /metrics``: the state of huiqi in the Prometheus text format (prometheus-client).

Protected by a token from the environment: the route answers only when ``HUIQI_METRICS_TOKEN``
is set (at least 16 characters; 404 otherwise, as if it did not exist) and only to
``Authorization: Bearer <token>`` (401 otherwise). Prometheus sends it with
``authorization: {credentials_file: …}``; the shipped Caddy site refuses ``/metrics`` from
outside as well, so scrapes go to the app's loopback port.

Read from the database at each scrape, so every web process reports the same:
``huiqi_obligations{rule,status}`` (periods overlapping the current year, as of today; reused
while the facts stay the same, at most ``web.cache_seconds``), ``huiqi_outbox_messages{status}``,
``huiqi_outbox_oldest_pending_seconds``, and from the daemon's job log
``huiqi_job_last_duration_seconds{job}`` (sweep, dispatch, backup),
``huiqi_job_last_success_timestamp_seconds{job}`` and ``huiqi_job_last_failed{job}``.
Counted by this web process since it started: ``huiqi_feed_requests_total{answer}`` (200, 304,
404) and ``huiqi_login_failures_total{via}`` (form, token).
"""

from __future__ import annotations

import os
import secrets
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.config import ConfigError
from scheduler.core.problems import Message
from scheduler.store import jobs, obligations, reports, tallies
from scheduler.store.database import transaction
from scheduler.store.models_calendar import as_utc
from scheduler.store.models_operations import FAILED
from scheduler.store.models_reminders import PENDING, OutboxEntry
from scheduler.web.context import WebContext, web_context
from scheduler.web.memo import fingerprint, memo_of

TOKEN_VARIABLE = "HUIQI_METRICS_TOKEN"
MIN_TOKEN = 16


@dataclass(frozen=True)
class Counters:
    """What this web process counts, in a registry of its own (one per app)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    feeds: Counter = field(init=False)
    login_failures: Counter = field(init=False)

    def __post_init__(self) -> None:
        feeds = Counter(
            "huiqi_feed_requests",
            "Calendar feed requests by the answer given",
            ["answer"],
            registry=self.registry,
        )
        failures = Counter(
            "huiqi_login_failures",
            "Refused logins (form) and API tokens (token)",
            ["via"],
            registry=self.registry,
        )
        object.__setattr__(self, "feeds", feeds)
        object.__setattr__(self, "login_failures", failures)


def _counters(request: Request) -> Counters | None:
    found = getattr(request.app.state, "huiqi_counters", None)
    return found if isinstance(found, Counters) else None


def count_feed(request: Request, status: int) -> None:
    """Count one feed request answered ``status``."""
    counters = _counters(request)
    if counters is not None:
        counters.feeds.labels(answer=str(status)).inc()


def count_login_failure(request: Request, via: str) -> None:
    """Count one refused login (``form``) or API token (``token``)."""
    counters = _counters(request)
    if counters is not None:
        counters.login_failures.labels(via=via).inc()


def metrics_token() -> str | None:
    """The scrape token from the environment; a short one stops the app at start-up."""
    token = os.environ.get(TOKEN_VARIABLE) or None
    if token is not None and len(token) < MIN_TOKEN:
        raise ConfigError(Message("at_least_characters", least=MIN_TOKEN), TOKEN_VARIABLE)
    return token


def make_router(token: str | None) -> APIRouter:
    """The ``/metrics`` route, answering only with ``token``."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request, context: WebContext = Depends(web_context)) -> Response:  # noqa: B008
        if token is None:
            return PlainTextResponse("Not Found", status_code=404)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip(), token):
            return PlainTextResponse("Unauthorized", 401, {"WWW-Authenticate": "Bearer"})
        body = generate_latest(_Snapshot(database_metrics(context)))
        counters = _counters(request)
        if counters is not None:
            body += generate_latest(counters.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router


@dataclass(frozen=True)
class _Snapshot(Collector):
    """Metrics already read, collected once."""

    families: list[Metric]

    def collect(self) -> Iterable[Metric]:
        return self.families


def database_metrics(context: WebContext) -> list[Metric]:
    """Every metric read from the database, at ``context.now()``."""
    now = context.now()
    memo = memo_of(context, "metrics", context.settings.web.cache_seconds)
    with transaction(context.engine) as session:
        tally = memo.get(
            now.date(), fingerprint(session), lambda: _obligations(session, context, now.date())
        )
        return [_obligation_family(tally), *_outbox(session, now), *_jobs(session)]


def _obligations(session: Session, context: WebContext, today: date) -> Tally[tuple[str, str]]:
    """The year's obligations by rule and status: counted by SQL over the stored obligations
    while they are current, else evaluated."""
    book, selection = context.book, reports.year_selection(today.year, today)
    if obligations.current(session, book, selection.last):
        rule_ids = [rule.id for rule in book.rules]
        counted = tallies.status_counts(session, rule_ids, today, selection.first, selection.last)
        return Tally({(rule, status.value): n for (rule, status), n in counted.items()})
    _units, _rules, found = reports.evaluate_selection(session, book, selection)
    return Tally((o.rule_id, o.status.value) for o in found)


def _obligation_family(tally: Tally[tuple[str, str]]) -> Metric:
    family = GaugeMetricFamily(
        "huiqi_obligations",
        "Obligations of the current year by rule and status, as of today",
        labels=["rule", "status"],
    )
    for (rule, status), count in sorted(tally.items()):
        family.add_metric([rule, status], count)
    return family


def _outbox(session: Session, now: datetime) -> Iterator[Metric]:
    by_status = GaugeMetricFamily(
        "huiqi_outbox_messages", "Reminder outbox rows by status", labels=["status"]
    )
    rows = session.execute(select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status))
    for status, count in sorted((status, count) for status, count in rows):
        by_status.add_metric([status], count)
    yield by_status
    oldest = session.scalar(
        select(func.min(OutboxEntry.created_at)).where(OutboxEntry.status == PENDING)
    )
    age = (now.astimezone(UTC) - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
    yield GaugeMetricFamily(
        "huiqi_outbox_oldest_pending_seconds",
        "Age of the oldest pending reminder (0: none pending)",
        value=age,
    )


def _jobs(session: Session) -> Iterator[Metric]:
    duration = GaugeMetricFamily(
        "huiqi_job_last_duration_seconds",
        "Duration of the newest run of a daemon job",
        labels=["job"],
    )
    failed = GaugeMetricFamily(
        "huiqi_job_last_failed", "1 when the newest run of a daemon job failed", labels=["job"]
    )
    success = GaugeMetricFamily(
        "huiqi_job_last_success_timestamp_seconds",
        "When a daemon job last succeeded (Unix time)",
        labels=["job"],
    )
    for run in jobs.last_runs(session):
        if run.seconds is not None:
            duration.add_metric([run.job], run.seconds)
        failed.add_metric([run.job], 1.0 if run.status == FAILED else 0.0)
    for job, finished in sorted(jobs.last_successes(session).items()):
        success.add_metric([job], as_utc(finished).timestamp())
    yield from (duration, failed, success)
