"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from scheduler.store import (  # noqa: F401
    models_accounts,
    models_calendar,
    models_links,
    models_operations,
    models_reminders,
    models_waivers,
    models_workdays,
)
from scheduler.store.database import alembic_config, make_engine, migrate
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


def test_migrating_merges_current_events_a_concurrent_import_doubled(database_url: str) -> None:
    """A database from before one-current-event-per-key: the newest of each double stays
    current, the others are superseded by it, and the trail says so."""
    engine = make_engine(database_url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(
            text("INSERT INTO units (id, code, name, kind, attributes) "
                 "VALUES (1, '101', '东山镇', 'township', '{}')")
        )  # fmt: skip
        for event_id, ref in ((1, "h1"), (2, "h1"), (3, None), (4, None), (5, "h2")):
            connection.execute(
                text("INSERT INTO events (id, unit_id, date, title, ref, source, recorded_by, "
                     "recorded_at) VALUES (:id, 1, '2021-03-02', '党委会', :ref, 'f', 'x', "
                     "'2021-03-02 10:00:00')"),
                {"id": event_id, "ref": ref},
            )  # fmt: skip
            connection.execute(
                text("INSERT INTO event_kinds (event_id, kind) VALUES (:id, 'hearing')"),
                {"id": event_id},
            )
    migrate(engine)
    with engine.connect() as connection:
        superseded = dict(connection.execute(text("SELECT id, superseded_by FROM events")).all())
        merges = connection.execute(
            text("SELECT subject, after FROM change_log WHERE action = 'event.merge'")
        ).all()
    engine.dispose()
    assert superseded == {1: 2, 2: None, 3: 4, 4: None, 5: None}
    assert sorted(subject for subject, _ in merges) == [
        "2021-03-02 党委会 (#1)",
        "2021-03-02 党委会 (#3)",
    ]


def test_the_attachments_migration_goes_down_and_up_again(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    with engine.connect() as connection:
        assert not inspect(connection).has_table("attachments")
    migrate(engine)
    with engine.connect() as connection:
        assert inspect(connection).has_table("attachments")
    engine.dispose()


def test_the_phone_flows_migration_goes_down_and_up_again(database_url: str) -> None:
    """0013 (outbox held_until, record_links, meeting_signins) downgrades to 0012 and back."""
    engine = make_engine(database_url)
    migrate(engine)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
    with engine.connect() as connection:
        tables = set(
            connection.dialect.get_table_names(connection)  # type: ignore[attr-defined]
        )
    assert "record_links" not in tables and "meeting_signins" not in tables
    assert "attachments" in tables
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, *_: name != "apscheduler_jobs",
            },
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_the_stored_obligations_migration_goes_down_and_up_again(database_url: str) -> None:
    """0015 and 0016 (stored obligations, their index by unit) downgrade to 0014 and back."""
    engine = make_engine(database_url)
    migrate(engine)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
    with engine.connect() as connection:
        assert not inspect(connection).has_table("obligations")
        assert not inspect(connection).has_table("obligation_events")
    migrate(engine)
    with engine.connect() as connection:
        assert inspect(connection).has_table("obligations")
    engine.dispose()
