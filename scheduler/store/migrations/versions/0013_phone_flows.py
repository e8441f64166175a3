"""phone flows: quiet-hours holds in the outbox, reminder record links, meeting sign-ins

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reminder_outbox") as batch:
        batch.add_column(sa.Column("held_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "record_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_uses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_record_links_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_record_links_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_record_links_token_hash")),
    )
    op.create_index(op.f("ix_record_links_person_id"), "record_links", ["person_id"], unique=False)
    op.create_table(
        "meeting_signins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("signed_by", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_signins_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_meeting_signins_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_signins")),
        sa.UniqueConstraint("meeting_id", "name", name=op.f("uq_meeting_signins_meeting_id")),
    )
    op.create_index(
        op.f("ix_meeting_signins_meeting_id"), "meeting_signins", ["meeting_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_meeting_signins_meeting_id"), table_name="meeting_signins")
    op.drop_table("meeting_signins")
    op.drop_index(op.f("ix_record_links_person_id"), table_name="record_links")
    op.drop_table("record_links")
    with op.batch_alter_table("reminder_outbox") as batch:
        batch.drop_column("held_until")
