"""The small county ready for reminders: settings, a sweep and a dispatch at fixed moments.

On Friday 2026-10-16 the townships' bimonthly hearing and research (Sep–Oct, due Saturday
2026-10-31) reach their "14 days before" stage (Saturday 10-17, moved to the Friday): 101's
party secretary 陈书记 and chair 刘主席 and 102's chair 周主席 each get one digest of two items.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update

from scheduler.config import MailSettings, ReminderSettings, Settings
from scheduler.core.rules import RuleBook
from scheduler.reminders.dispatch import DispatchResult, dispatch
from scheduler.reminders.sweep import SweepResult, sweep
from scheduler.store import registry
from scheduler.store.database import transaction
from scheduler.store.models import Unit
from scheduler.store.models_reminders import OutboxEntry
from scheduler.transports.delivery import make_transports
from tests.conftest import BUNDLED_RULES, PEOPLE_HEADER, ROOT
from tests.countyfacts import RECORDED, load_county, table

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 10, 16, 9, 0, tzinfo=SHANGHAI)


def settings_for(url: str, port: int = 25, language: str = "zh", **reminders: Any) -> Settings:
    """Settings on ``url`` sending by SMTP to 127.0.0.1:``port``, templates of the project."""
    return Settings(
        database_url=url,
        rules=[str(BUNDLED_RULES)],
        base_dir=str(ROOT),
        language=language,  # type: ignore[arg-type]
        mail=MailSettings(transport="smtp", port=port),
        reminders=ReminderSettings(**reminders),
    )


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def load(engine: Engine, book: RuleBook) -> None:
    load_county(engine, book)


def add_people(engine: Engine, book: RuleBook, *rows: tuple[str, ...]) -> None:
    with transaction(engine) as session:
        people = table("more.csv", PEOPLE_HEADER, rows)
        registry.import_people(session, book, people, "县妇联", RECORDED)


def rename_unit(engine: Engine, code: str, name: str) -> None:
    with transaction(engine) as session:
        session.execute(update(Unit).where(Unit.code == code).values(name=name))


def run_sweep(
    engine: Engine, book: RuleBook, settings: Settings, now: datetime = DAY, dry_run: bool = False
) -> SweepResult:
    with transaction(engine) as session:
        return sweep(session, book, settings, now.date(), now, dry_run=dry_run)


def run_dispatch(
    engine: Engine, book: RuleBook, settings: Settings, now: datetime = DAY
) -> DispatchResult:
    return dispatch(engine, book, settings, make_transports(settings), now)


def rows(engine: Engine) -> list[OutboxEntry]:
    with transaction(engine) as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))
