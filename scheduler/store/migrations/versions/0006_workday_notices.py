"""workdays: imported official holiday arrangements, one notice per year with its days

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workday_notices",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_workday_notices")),
    )
    op.create_table(
        "workday_notice_days",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["year"],
            ["workday_notices.year"],
            name=op.f("fk_workday_notice_days_year_workday_notices"),
        ),
        sa.PrimaryKeyConstraint("year", "day", name=op.f("pk_workday_notice_days")),
    )


def downgrade() -> None:
    op.drop_table("workday_notice_days")
    op.drop_table("workday_notices")
