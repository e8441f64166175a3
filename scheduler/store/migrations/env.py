"""Alembic environment: runs on the connection huiqi hands over, or on sqlalchemy.url."""

from alembic import context
from sqlalchemy import create_engine

# Model modules of other capabilities register their tables on Base when imported here.
from scheduler.store import (  # noqa: F401
    models_accounts,
    models_calendar,
    models_links,
    models_operations,
    models_reminders,
    models_waivers,
    models_workdays,
)
from scheduler.store.models import Base

config = context.config


def _include_name(name, type_, parent_names):
    return not (type_ == "table" and name == "apscheduler_jobs")


def _run(connection):
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=_include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as new_connection:
        _run(new_connection)
