"""the per-day rollup of group talk (activity_days, activity_senders, activity_rollups)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Only the tables: a database with history gets its closed days rolled up by the scheduler's job
(catalog.activity.roll_up_closed_days, newest first), and until a day is rolled up the figures read it
from inbound_messages as before, so the figures are the same before, during and after the fill.
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity_days",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("texts", sa.Integer(), nullable=False),
        sa.Column("senders", sa.LargeBinary(), nullable=False),
        sa.Column("talk1", sa.LargeBinary(), nullable=False),
        sa.Column("talk2", sa.LargeBinary(), nullable=False),
        sa.Column("talk3", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "day", name="pk_activity_days"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "activity_senders",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("bit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "sender_id", name="pk_activity_senders"),
        sa.UniqueConstraint("group_id", "bit", name="uq_activity_senders_group_bit"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "activity_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_activity_rollups"),
    )


def downgrade() -> None:
    op.drop_table("activity_rollups")
    op.drop_table("activity_senders")
    op.drop_table("activity_days")
