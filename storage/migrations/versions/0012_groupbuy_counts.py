"""groupbuys' counts kept on their row: people, pieces, waitlisted joins and the last join number

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

A join read these by counting the group buy's participants, waitlist and join events, three times a
join: its cost grew with the group buy (bench/README.md). Now every join, change, leave, promotion and
settlement updates them in the same transaction (catalog/groupbuys.py). The rows already there get the
counts their participants, waitlist and events give.
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ("people_count", "piece_count", "waiting_count", "last_join_no")


def upgrade() -> None:
    with op.batch_alter_table("groupbuys", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE groupbuys SET"
        " people_count = (SELECT count(DISTINCT p.user_id) FROM groupbuy_participants p WHERE p.groupbuy_id = groupbuys.id),"
        " piece_count = (SELECT coalesce(sum(p.quantity), 0) FROM groupbuy_participants p WHERE p.groupbuy_id = groupbuys.id),"
        " waiting_count = (SELECT count(*) FROM groupbuy_waitlist w WHERE w.groupbuy_id = groupbuys.id),"
        " last_join_no = (SELECT count(*) FROM groupbuy_events e WHERE e.groupbuy_id = groupbuys.id"
        " AND e.kind IN ('joined', 'promoted'))"
    )


def downgrade() -> None:
    # Not in batch mode: on SQLite that copies the table and drops the old one, and dropping it would
    # delete every participant, waitlisted join and event through their ON DELETE CASCADE. SQLite 3.35
    # and newer drop a column in place.
    for name in COLUMNS:
        op.drop_column("groupbuys", name)
