"""variants, purchase limits, the waitlist and each group's shelf

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02

Safe on a database with rows: every new column is nullable or has a server default ("" is
"no variant", so existing orders and joins keep meaning what they meant), and the one
constraint replaced (a member's join per group buy becomes a join per variant of it) only
widens what is allowed.
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('product_variants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_product_variants_stock_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_variants_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_variants')),
    sa.UniqueConstraint('product_id', 'name', name='uq_product_variants_product_name')
    )
    op.create_table('group_shelf',
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_group_shelf_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'product_id', name=op.f('pk_group_shelf'))
    )
    op.create_table('groupbuy_waitlist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('groupbuy_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('variant', sa.String(length=32), server_default='', nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_groupbuy_waitlist_quantity_positive')),
    sa.ForeignKeyConstraint(['groupbuy_id'], ['groupbuys.id'], name=op.f('fk_groupbuy_waitlist_groupbuy_id_groupbuys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_waitlist')),
    sa.UniqueConstraint('groupbuy_id', 'user_id', 'variant', name='uq_groupbuy_waitlist_user_variant')
    )
    with op.batch_alter_table('groupbuy_waitlist', schema=None) as batch_op:
        batch_op.create_index('ix_groupbuy_waitlist_gb', ['groupbuy_id', 'variant', 'id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant', sa.String(length=32), server_default='', nullable=False))

    with op.batch_alter_table('groupbuys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('limit_qty', sa.Integer(), nullable=True))

    with op.batch_alter_table('groupbuy_participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant', sa.String(length=32), server_default='', nullable=False))
        batch_op.drop_constraint('uq_groupbuy_participants_user', type_='unique')
        batch_op.create_unique_constraint('uq_groupbuy_participants_user_variant', ['groupbuy_id', 'user_id', 'variant'])


def downgrade() -> None:
    # Back to one join per member: only possible while no member holds two variants of one group buy.
    with op.batch_alter_table('groupbuy_participants', schema=None) as batch_op:
        batch_op.drop_constraint('uq_groupbuy_participants_user_variant', type_='unique')
        batch_op.create_unique_constraint('uq_groupbuy_participants_user', ['groupbuy_id', 'user_id'])
        batch_op.drop_column('variant')
    # In place, not in batch mode: copying groupbuys on SQLite would delete its participants and events
    # through their ON DELETE CASCADE (SQLite 3.35+ drops a column in place).
    op.drop_column('groupbuys', 'limit_qty')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('variant')
    with op.batch_alter_table('groupbuy_waitlist', schema=None) as batch_op:
        batch_op.drop_index('ix_groupbuy_waitlist_gb')
    op.drop_table('groupbuy_waitlist')
    op.drop_table('group_shelf')
    op.drop_table('product_variants')
