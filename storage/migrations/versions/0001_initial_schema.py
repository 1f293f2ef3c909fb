"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa



revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('browse_cursors',
    sa.Column('chat_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('word', sa.String(length=100), nullable=False),
    sa.Column('next_offset', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'user_id', name=op.f('pk_browse_cursors'))
    )
    op.create_table('content_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_items'))
    )
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.create_index('ix_content_items_group', ['group_id', 'used_at', 'id'], unique=False)

    op.create_table('groups',
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('owners', sa.JSON(), nullable=False),
    sa.Column('push_target', sa.JSON(), nullable=True),
    sa.Column('nudge_after_hours', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_nudge_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('group_id', name=op.f('pk_groups'))
    )
    op.create_table('inbound_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('msg_id', sa.String(length=128), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=True),
    sa.Column('inviter_id', sa.String(length=128), nullable=True),
    sa.Column('is_command', sa.Boolean(), nullable=False),
    sa.Column('command', sa.String(length=32), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reply', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('channel', 'msg_id', name='uq_inbound_messages_channel_msg')
    )
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_group_time', ['group_id', 'received_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('delivery_id', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('delivery_id', name=op.f('uq_outbox_delivery_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_group_sent', ['group_id', 'sent_at'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('market_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_products_price_positive')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_products_stock_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('code', name=op.f('uq_products_code'))
    )
    op.create_table('pushes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cron', sa.String(length=64), nullable=True),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pushes'))
    )
    with op.batch_alter_table('pushes', schema=None) as batch_op:
        batch_op.create_index('ix_pushes_due', ['active', 'next_run_at'], unique=False)

    op.create_table('target_rates',
    sa.Column('target', sa.String(length=512), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_in_window', sa.Integer(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('target', name=op.f('pk_target_rates'))
    )
    op.create_table('deals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('limit_qty', sa.Integer(), nullable=True),
    sa.Column('sold_qty', sa.Integer(), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('limit_qty IS NULL OR sold_qty <= limit_qty', name=op.f('ck_deals_limit_not_exceeded')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_deals_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deals'))
    )
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.create_index('ix_deals_group_product', ['group_id', 'product_id'], unique=False)

    op.create_table('groupbuys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('final_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_groupbuys_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuys'))
    )
    with op.batch_alter_table('groupbuys', schema=None) as batch_op:
        batch_op.create_index('ix_groupbuys_group', ['group_id', 'status'], unique=False)
        batch_op.create_index('ix_groupbuys_status_deadline', ['status', 'deadline'], unique=False)

    op.create_table('product_tiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('min_qty', sa.Integer(), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_tiers_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_tiers')),
    sa.UniqueConstraint('product_id', 'min_qty', name='uq_product_tiers_product_qty')
    )
    op.create_table('groupbuy_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('groupbuy_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('price_fen', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['groupbuy_id'], ['groupbuys.id'], name=op.f('fk_groupbuy_events_groupbuy_id_groupbuys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_events'))
    )
    with op.batch_alter_table('groupbuy_events', schema=None) as batch_op:
        batch_op.create_index('ix_groupbuy_events_gb', ['groupbuy_id', 'id'], unique=False)

    op.create_table('groupbuy_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('groupbuy_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('join_no', sa.Integer(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_groupbuy_participants_quantity_positive')),
    sa.ForeignKeyConstraint(['groupbuy_id'], ['groupbuys.id'], name=op.f('fk_groupbuy_participants_groupbuy_id_groupbuys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_participants')),
    sa.UniqueConstraint('groupbuy_id', 'join_no', name='uq_groupbuy_participants_join_no'),
    sa.UniqueConstraint('groupbuy_id', 'user_id', name='uq_groupbuy_participants_user')
    )
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('price_source', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('groupbuy_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_orders_quantity_positive')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_orders_deal_id_deals')),
    sa.ForeignKeyConstraint(['groupbuy_id'], ['groupbuys.id'], name=op.f('fk_orders_groupbuy_id_groupbuys')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_orders_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_group_time', ['group_id', 'created_at'], unique=False)
        batch_op.create_index('ix_orders_group_user', ['group_id', 'user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_group_user')
        batch_op.drop_index('ix_orders_group_time')

    op.drop_table('orders')
    op.drop_table('groupbuy_participants')
    with op.batch_alter_table('groupbuy_events', schema=None) as batch_op:
        batch_op.drop_index('ix_groupbuy_events_gb')

    op.drop_table('groupbuy_events')
    op.drop_table('product_tiers')
    with op.batch_alter_table('groupbuys', schema=None) as batch_op:
        batch_op.drop_index('ix_groupbuys_status_deadline')
        batch_op.drop_index('ix_groupbuys_group')

    op.drop_table('groupbuys')
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_index('ix_deals_group_product')

    op.drop_table('deals')
    op.drop_table('target_rates')
    with op.batch_alter_table('pushes', schema=None) as batch_op:
        batch_op.drop_index('ix_pushes_due')

    op.drop_table('pushes')
    op.drop_table('products')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_group_sent')
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_group_time')

    op.drop_table('inbound_messages')
    op.drop_table('groups')
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.drop_index('ix_content_items_group')

    op.drop_table('content_items')
    op.drop_table('browse_cursors')
