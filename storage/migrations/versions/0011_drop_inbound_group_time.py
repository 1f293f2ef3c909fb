"""drop ix_inbound_group_time: ix_inbound_group_kind_time serves every query it served

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Every read of inbound_messages by group filters on kind as well (texts, or member_joined events) or
reads the whole group; the covering (group_id, kind, received_at, sender_id, is_command) index from 0007
serves them all, so (group_id, received_at) was one more index entry written with every message for nothing.
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_inbound_group_time", table_name="inbound_messages")


def downgrade() -> None:
    op.create_index("ix_inbound_group_time", "inbound_messages", ["group_id", "received_at"])
