"""the per-hour rollup of group talk (activity_hours, activity_hour_rollups)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

Only the tables: the scheduler's job rolls up the closed hours of the last weeks (catalog/activity.py), and
until an hour is rolled up the figures read it from the day's rollup or from inbound_messages as before, so
they are the same before, during and after the fill.
"""
from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity_hours",
        sa.Column("start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("texts", sa.Integer(), nullable=False),
        sa.Column("senders", sa.LargeBinary(), nullable=False),
        sa.Column("talk1", sa.LargeBinary(), nullable=False),
        sa.Column("talk2", sa.LargeBinary(), nullable=False),
        sa.Column("talk3", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("start", "group_id", name="pk_activity_hours"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "activity_hour_rollups",
        sa.Column("start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("start", name="pk_activity_hour_rollups"),
    )


def downgrade() -> None:
    op.drop_table("activity_hour_rollups")
    op.drop_table("activity_hours")
