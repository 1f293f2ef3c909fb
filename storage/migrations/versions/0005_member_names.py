"""member names: how each member is named in each group (latest sender_name / member_name)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new table: existing rows elsewhere are untouched; members without a row are named by their id.
    op.create_table(
        "members",
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_members")),
    )


def downgrade() -> None:
    op.drop_table("members")
