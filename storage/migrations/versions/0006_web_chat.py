"""web chat: what the /chat page shows (typed messages, replies, pushes to a `web` target), per-group seq

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Two new tables only: safe on a database that already holds rows.
    op.create_table('web_chat_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=True),
    sa.Column('sender_name', sa.String(length=200), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reply_to', sa.BigInteger(), nullable=True),
    sa.Column('client_msg_id', sa.String(length=64), nullable=True),
    sa.Column('delivery_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_chat_messages')),
    sa.UniqueConstraint('delivery_id', name=op.f('uq_web_chat_messages_delivery_id')),
    sa.UniqueConstraint('group_id', 'client_msg_id', name='uq_web_chat_messages_group_client_msg'),
    sa.UniqueConstraint('group_id', 'seq', name='uq_web_chat_messages_group_seq'),
    )
    op.create_table('web_chat_seqs',
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('group_id', name=op.f('pk_web_chat_seqs'))
    )


def downgrade() -> None:
    op.drop_table('web_chat_seqs')
    op.drop_table('web_chat_messages')
