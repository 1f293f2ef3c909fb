"""groupbuys.lang: the language a group buy was opened in, for its announcement and reminder

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-02

Existing rows were all announced in Chinese: the server default 'zh' fills them.
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groupbuys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lang", sa.String(length=8), nullable=False, server_default="zh"))


def downgrade() -> None:
    # In place, not in batch mode: on SQLite that copies groupbuys and drops the old table, which deletes
    # every participant and event through their ON DELETE CASCADE (SQLite 3.35+ drops a column in place).
    op.drop_column("groupbuys", "lang")
