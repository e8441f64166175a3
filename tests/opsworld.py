"""A database with rows in every table, written through huiqi's own services: the small county,
replaced and voided events, a waiver, a unit whose parent came later, users with a session and
a token, a held meeting and a planned one, a feed, reminders in the outbox, a workday notice and
the job log. Backups and exports are tested on it."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from scheduler.calendar import feeds, meetings
from scheduler.config import Settings
from scheduler.core.rules import RuleBook
from scheduler.core.workdays import Notice
from scheduler.reminders.dispatch import dispatch
from scheduler.reminders.sweep import sweep
from scheduler.store import accounts, dump, jobs, registry, schema, waivers
from scheduler.store.database import make_engine, migrate, transaction
from scheduler.store.workdays import save_notice
from scheduler.transports.delivery import make_transports
from tests.calendarfacts import plan
from tests.conftest import EVENT_HEADER, ROOT, UNIT_HEADER, postgres_schema
from tests.countyfacts import SHANGHAI, load_county, table

NOW = datetime(2026, 10, 16, 9, 0, tzinfo=SHANGHAI)
PASSWORD = "correct horse"
EVENTS = [
    (
        "101",
        "hearing;study",
        "2026-02-10",
        "10:00",
        "党委听取妇联工作汇报",
        "fulian_chair",
        "",
        "h1",
    ),
    ("101", "funding", "2026-03-01", "", "工作经费", "", "12000.50", "f1"),
    ("102", "hearing", "2026-04-20", "", "西河乡党委会", "", "", "x1"),
]
EVERY_TABLE = (
    "units", "people", "role_assignments", "events", "event_kinds", "event_attendance",
    "waivers", "meetings", "meeting_attendees", "calendar_feeds", "web_users", "web_sessions",
    "web_tokens", "change_log", "reminder_outbox", "workday_notices", "workday_notice_days",
    "job_runs",
)  # fmt: skip


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in ``folder`` or a new PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def fresh_engine(backend: str, folder: Path, migrated: bool = False) -> Iterator[Engine]:
    with fresh_database(backend, folder) as url:
        engine = make_engine(url)
        if migrated:
            migrate(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def world_settings(database_url: str, mail_folder: Path) -> Settings:
    return Settings(
        database_url=database_url,
        rules=[str(ROOT / "rules" / "xihe-fulian.yaml")],
        base_dir=str(ROOT),
        mail={"transport": "folder", "folder": str(mail_folder)},  # type: ignore[arg-type]
    )


def fill(engine: Engine, book: RuleBook, settings: Settings) -> None:
    """Rows in every table of `EVERY_TABLE`, through the services."""
    load_county(engine, book, EVENTS)
    with transaction(engine) as session:
        _record(session, book)
        _accounts(session)
        feeds.create(session, settings, "subtree", "100", "孙主席", NOW)
        notice = Notice(2027, "国务院办公厅关于2027年部分节假日安排的通知",
                        frozenset({date(2027, 1, 1)}), frozenset({date(2027, 2, 7)}))  # fmt: skip
        save_notice(session, notice, "2027.yaml", "孙主席", NOW)
        jobs.note_run(session, "sweep", NOW.date(), NOW, NOW + timedelta(seconds=2), "3 written")
        jobs.claim(session, "backup", NOW.date(), NOW)
        jobs.finish(session, "backup", NOW.date(), NOW, NOW, True, "huiqi-2026-10-16.db")
    _calendar(engine, book)
    with transaction(engine) as session:
        sweep(session, book, settings, NOW.date(), NOW)
    dispatch(engine, book, settings, make_transports(settings), NOW)


def _record(session: Session, book: RuleBook) -> None:
    replaced = [("101", "hearing", "2026-02-11", "09:00", "党委会(更正)", "", "", "h1")]
    registry.import_events(session, book, table("fix.csv", EVENT_HEADER, replaced), "刘主席", NOW)
    registry.void_event(session, 3, "录入错误", "周主席", NOW)
    waivers.waive(session, book, "102", "township-hearing", "2026-B1", "乡镇合并", "孙主席", NOW)
    waivers.request(
        session, book, "101", "township-hearing", "2026-B2", "防汛", waivers.Actor("刘主席"), NOW
    )
    later = [("200", "新区", "township", "100", "2000-01-01", "", ""),
             ("10102", "西山村", "village", "200", "2000-01-01", "", "")]  # fmt: skip
    registry.import_units(session, book, table("more.csv", UNIT_HEADER, later), "孙主席", NOW)
    moved = [("10101", "东山村", "village", "200", "2000-01-01", "", "")]
    registry.import_units(session, book, table("moved.csv", UNIT_HEADER, moved), "孙主席", NOW)


def _accounts(session: Session) -> None:
    admin = accounts.add_user(session, "admin", "admin", None, PASSWORD, NOW, "县妇联", "管理员")
    accounts.add_user(session, "liu", "clerk", "101", PASSWORD, NOW, "县妇联", "刘主席")
    accounts.open_session(session, admin, NOW)
    accounts.create_token(session, "liu", "sync", NOW, "县妇联")


def _calendar(engine: Engine, book: RuleBook) -> None:
    planned = plan(engine, book, NOW - timedelta(days=30), start="2026-09-20 09:30", end="11:00")
    with transaction(engine) as session:
        meetings.held(session, book, planned.meeting.id, ["fulian_chair"], "刘主席", NOW)
    plan(engine, book, NOW, start="2026-10-26 09:30", end="11:30", title="十月党委会")


def exported(engine: Engine, with_secrets: bool = False) -> bytes:
    """The database's export, as bytes."""
    out = io.StringIO()
    dump.export(engine, out, with_secrets)
    return out.getvalue().encode("utf-8")


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return schema.row_counts(connection)


def users(engine: Engine) -> list[str]:
    from scheduler.store.models_accounts import User

    with transaction(engine) as session:
        return list(session.scalars(select(User.username).order_by(User.id)))
