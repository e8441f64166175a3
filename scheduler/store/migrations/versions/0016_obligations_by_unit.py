"""scale: stored obligations read by unit, rule and start (the dashboard's counts of a scope)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

The dashboard counts the obligations of the units under the ones it shows
(`scheduler.store.tallies`): for a township of a province that is a few hundred units, read
through this index instead of the obligations of every unit under the rules.
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_obligations_unit_rule_start", "obligations", ["unit_id", "rule_id", "start"]
    )


def downgrade() -> None:
    op.drop_index("ix_obligations_unit_rule_start", table_name="obligations")
