"""record: one current event per (unit, key), waiver requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Every event gets a ``key``: a SHA-256 of its ref, or without one of its date, time, kinds and
title (the rule of `scheduler.core.records.event_key`, copied here as it stood). A partial unique
index then keeps one current event per (unit, key). Current events that an earlier concurrent
import doubled are merged first: the newest stays current, the others are marked superseded by
it, and the change trail says so. SQLite keeps an empty server default on the new column (it
cannot drop one without rebuilding the table); every writer sets the key.

The change trail becomes append-only in the database itself: a trigger refuses every UPDATE and
DELETE of ``change_log`` (and TRUNCATE on PostgreSQL), whatever code or tool sends it.
"""

import hashlib
import json
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CURRENT = "superseded_by IS NULL AND voided_at IS NULL"
events = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("unit_id", sa.Integer),
    sa.column("date", sa.Date),
    sa.column("time", sa.String),
    sa.column("title", sa.String),
    sa.column("ref", sa.String),
    sa.column("key", sa.String),
    sa.column("superseded_by", sa.Integer),
    sa.column("voided_at", sa.DateTime(timezone=True)),
)
event_kinds = sa.table("event_kinds", sa.column("event_id", sa.Integer), sa.column("kind"))
change_log = sa.table(
    "change_log",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("unit_id", sa.Integer),
    sa.column("subject", sa.Text),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)


def event_key(ref, day, time, kinds, title):
    parts = ["ref", ref] if ref else ["row", day.isoformat(), time or "", *sorted(set(kinds))]
    parts += [] if ref else [title.strip()]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def upgrade() -> None:
    op.add_column(
        "events", sa.Column("key", sa.String(length=64), nullable=False, server_default="")
    )
    connection = op.get_bind()
    current = _fill_keys(connection)
    _merge_doubles(connection, current)
    if connection.dialect.name != "sqlite":
        op.alter_column("events", "key", server_default=None)
    op.create_index(
        "uq_events_current_key",
        "events",
        ["unit_id", "key"],
        unique=True,
        sqlite_where=sa.text(CURRENT),
        postgresql_where=sa.text(CURRENT),
    )
    _waiver_requests()
    _append_only(connection.dialect.name)


APPEND_ONLY = "the change trail is append-only"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER change_log_no_{verb.lower()} BEFORE {verb} ON change_log "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    for verb in ("UPDATE", "DELETE")
]
POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION change_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$",
    "CREATE TRIGGER change_log_append_only BEFORE UPDATE OR DELETE ON change_log "
    "FOR EACH ROW EXECUTE FUNCTION change_log_append_only()",
    "CREATE TRIGGER change_log_no_truncate BEFORE TRUNCATE ON change_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION change_log_append_only()",
]


def _append_only(dialect):
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def _fill_keys(connection):
    """Write every event's key; return the current events' (id, unit, key, date, title)."""
    kinds = defaultdict(list)
    for event_id, kind in connection.execute(sa.select(event_kinds.c.event_id, event_kinds.c.kind)):
        kinds[event_id].append(kind)
    rows = connection.execute(
        sa.select(
            events.c.id, events.c.unit_id, events.c.date, events.c.time, events.c.title,
            events.c.ref, events.c.superseded_by, events.c.voided_at,
        )
    ).all()  # fmt: skip
    updates, current = [], []
    for row in rows:
        key = event_key(row.ref, row.date, row.time, kinds[row.id], row.title or "")
        updates.append({"event_id": row.id, "key": key})
        if row.superseded_by is None and row.voided_at is None:
            current.append((row.id, row.unit_id, key, row.date, row.title or ""))
    if updates:
        connection.execute(events.update().where(events.c.id == sa.bindparam("event_id")), updates)
    return current


def _merge_doubles(connection, current):
    """Keep the newest of current events sharing (unit, key); supersede the rest by it."""
    groups = defaultdict(list)
    for event_id, unit_id, key, day, title in current:
        groups[(unit_id, key)].append((event_id, day, title))
    zone = ZoneInfo(op.get_context().config.attributes.get("timezone", "Asia/Shanghai"))
    now = datetime.now(zone)
    for (unit_id, _), found in groups.items():
        if len(found) < 2:
            continue
        found.sort()
        keep = found[-1][0]
        for event_id, day, title in found[:-1]:
            connection.execute(
                events.update().where(events.c.id == event_id).values(superseded_by=keep)
            )
            connection.execute(
                change_log.insert().values(
                    at=now, actor="huiqi init", action="event.merge", unit_id=unit_id,
                    subject=f"{day.isoformat()} {title} (#{event_id})".replace("  ", " "),
                    before=None, after={"merged_into": f"#{keep}"},
                )
            )  # fmt: skip


def _waiver_requests():
    op.create_table(
        "waiver_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("period_label", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_user", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_by_user", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_waiver_requests_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_user"],
            ["web_users.id"],
            name=op.f("fk_waiver_requests_requested_by_user_web_users"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user"],
            ["web_users.id"],
            name=op.f("fk_waiver_requests_decided_by_user_web_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiver_requests")),
    )
    op.create_index(
        op.f("ix_waiver_requests_unit_id"), "waiver_requests", ["unit_id"], unique=False
    )
    op.create_index(
        "uq_waiver_requests_pending",
        "waiver_requests",
        ["unit_id", "rule_id", "period_label"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER change_log_no_update")
        op.execute("DROP TRIGGER change_log_no_delete")
    else:
        op.execute("DROP TRIGGER change_log_no_truncate ON change_log")
        op.execute("DROP TRIGGER change_log_append_only ON change_log")
        op.execute("DROP FUNCTION change_log_append_only()")
    op.drop_index("uq_waiver_requests_pending", table_name="waiver_requests")
    op.drop_index(op.f("ix_waiver_requests_unit_id"), table_name="waiver_requests")
    op.drop_table("waiver_requests")
    op.drop_index("uq_events_current_key", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("key")
