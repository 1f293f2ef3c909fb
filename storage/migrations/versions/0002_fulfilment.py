"""fulfilment: pickup points, members' choices, order confirmation/collection, export links

Revision ID: 0002
Revises: 0007
Create Date: 2026-12-02

Safe on a database that already holds orders: the new order columns are nullable; confirmed
orders get confirmed_at = created_at and group-buy orders their join number (跟团号).
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pickup_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_points")),
        sa.UniqueConstraint("group_id", "name", name="uq_pickup_points_group_name"),
    )
    op.create_table(
        "member_pickups",
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("pickup_point", sa.String(length=100), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_member_pickups")),
    )
    op.create_table(
        "export_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("groupbuy_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_links")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_export_links_token_sha256")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pickup_point", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("join_no", sa.Integer(), nullable=True))
        batch_op.create_index("ix_orders_group_status", ["group_id", "status"], unique=False)

    # Orders already there: confirmed ones (group-buy settlements) were confirmed when created.
    op.execute("UPDATE orders SET confirmed_at = created_at WHERE status = 'confirmed'")
    op.execute(
        "UPDATE orders SET join_no = (SELECT MIN(p.join_no) FROM groupbuy_participants p"
        " WHERE p.groupbuy_id = orders.groupbuy_id AND p.user_id = orders.user_id)"
        " WHERE groupbuy_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_group_status")
        batch_op.drop_column("join_no")
        batch_op.drop_column("pickup_point")
        batch_op.drop_column("collected_at")
        batch_op.drop_column("confirmed_at")
    op.drop_table("export_links")
    op.drop_table("member_pickups")
    op.drop_table("pickup_points")
