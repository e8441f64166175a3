"""stored obligations: the engine's obligations kept for every as-of day, with their allocation

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

The tables start empty; the first refresh with a rulebook fills them
(`scheduler.store.obligations`), and until then reads evaluate from the facts as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "obligation_rules",
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("horizon", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_obligation_rules")),
    )
    op.create_table(
        "obligation_dirty",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_obligation_dirty_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_obligation_dirty")),
    )
    op.create_table(
        "obligation_sources",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_obligation_sources_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("unit_id", "rule_id", name=op.f("pk_obligation_sources")),
    )
    op.create_table(
        "obligations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("grace_end", sa.Date(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=True),
        sa.Column("required", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("actual", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("satisfied_on", sa.Date(), nullable=True),
        sa.Column("hopeful_on", sa.Date(), nullable=True),
        sa.Column("waiver_reason", sa.Text(), nullable=True),
        sa.Column("waiver_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_obligations_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
        sa.UniqueConstraint("unit_id", "rule_id", "position", name=op.f("uq_obligations_unit_id")),
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.create_index("ix_obligations_rule_start", ["rule_id", "start"], unique=False)

    op.create_table(
        "obligation_events",
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_obligation_events_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name=op.f("fk_obligation_events_obligation_id_obligations"),
        ),
        sa.PrimaryKeyConstraint("obligation_id", "position", name=op.f("pk_obligation_events")),
    )
    with op.batch_alter_table("obligation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_obligation_events_event_id"), ["event_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("obligation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obligation_events_event_id"))

    op.drop_table("obligation_events")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_index("ix_obligations_rule_start")

    op.drop_table("obligations")
    op.drop_table("obligation_sources")
    op.drop_table("obligation_dirty")
    op.drop_table("obligation_rules")
