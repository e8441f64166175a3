"""scale: each event's content digest, so that a re-import compares a row by one column

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Events written before it have no digest; an import computes theirs from their rows when it
meets them (`scheduler.store.evidence`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # SQLite (3.35 and later) and PostgreSQL drop a column in place: no copy of the table that
    # would lose its partial unique index
    op.execute("ALTER TABLE events DROP COLUMN digest")
