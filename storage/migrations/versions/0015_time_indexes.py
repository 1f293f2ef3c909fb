"""indexes that lead with time, for group health over every group: orders, and member_joined events

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

`GET /admin/stats` reads the window's orders and joins of every group. Through the (group, time) indexes
that is one probe per group; these give the window as one range, and hold every column the statements
read. The events' index is partial (member_joined events only), so a text, the bulk of inbound_messages,
never writes it; the orders' index is written once per order.
"""
from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_JOINED = sa.text("event = 'member_joined'")


def upgrade() -> None:
    op.create_index("ix_orders_time", "orders", ["created_at", "group_id", "user_id", "status", "total_fen"])
    op.create_index("ix_inbound_joins_time", "inbound_messages", ["received_at", "group_id", "sender_id", "inviter_id", "event"],
                    sqlite_where=_JOINED, postgresql_where=_JOINED)


def downgrade() -> None:
    op.drop_index("ix_inbound_joins_time", table_name="inbound_messages")
    op.drop_index("ix_orders_time", table_name="orders")
