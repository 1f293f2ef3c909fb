"""PostgreSQL: the planner is told what tuanbot_grams costs a row

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

tuanbot_grams (migration 0007) lists a text's 1- and 2-character pieces with generate_series: tens of
microseconds a row, where the planner assumed the default cost of a function. With that default it
would sometimes compute it for every product (a scan of the table, or of the code order) instead of
reading the GIN index built on it. SQLite: nothing.
"""
from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER FUNCTION tuanbot_grams(text) COST 10000")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER FUNCTION tuanbot_grams(text) COST 100")
