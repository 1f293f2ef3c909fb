"""member_totals: everyone seen in a group, folded, so the member list does not read the group's history

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

Only the tables and the mark's one row (nothing folded yet): the scheduler's job folds a database's
existing messages an hour at a time (catalog/member_totals.py), and until then the member list reads them
from inbound_messages as before, so it is the same before, during and after the fill.
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_totals",
        sa.Column("group_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("texts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_member_totals"),
        sqlite_with_rowid=False,
    )
    mark = op.create_table(
        "member_totals_mark",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("through", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_member_totals_mark"),
    )
    op.bulk_insert(mark, [{"id": 1, "through": None}])


def downgrade() -> None:
    op.drop_table("member_totals_mark")
    op.drop_table("member_totals")
