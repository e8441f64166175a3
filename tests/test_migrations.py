"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from scheduler.store import (  # noqa: F401
    models_accounts,
    models_calendar,
    models_reminders,
    models_workdays,
)
from scheduler.store.database import alembic_config, migrate
from scheduler.store.models import Base


def test_the_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _: name != "apscheduler_jobs",
            },
        )
        assert compare_metadata(context, Base.metadata) == []


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as connection:
        heads = set(MigrationContext.configure(connection).get_current_heads())
    assert heads == set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
