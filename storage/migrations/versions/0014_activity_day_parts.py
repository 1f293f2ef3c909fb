"""parts of the days of group talk (activity_day_parts, activity_part_rollups)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

Only the tables: the scheduler's job writes the parts of the last two weeks' days (catalog/activity.py),
and until a part is written the figures read that time from the messages as before, so they are the same
before, during and after the fill.
"""
from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity_day_parts",
        sa.Column("edge", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("texts", sa.Integer(), nullable=False),
        sa.Column("senders", sa.LargeBinary(), nullable=False),
        sa.Column("talk1", sa.LargeBinary(), nullable=False),
        sa.Column("talk2", sa.LargeBinary(), nullable=False),
        sa.Column("talk3", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("edge", "kind", "group_id", name="pk_activity_day_parts"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "activity_part_rollups",
        sa.Column("edge", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("edge", "kind", name="pk_activity_part_rollups"),
    )


def downgrade() -> None:
    op.drop_table("activity_part_rollups")
    op.drop_table("activity_day_parts")
