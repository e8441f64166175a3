"""Join the reminders, calendar and web branches into one head

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-11-30
"""

revision = "0005"
down_revision = ("0002", "0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the three branches only added their own tables."""


def downgrade() -> None:
    """Nothing to change."""
