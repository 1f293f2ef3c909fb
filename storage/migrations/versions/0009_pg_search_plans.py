"""PostgreSQL: the planner is told what tuanbot_grams costs, and scans products without parallel workers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

tuanbot_grams (migration 0007) lists a text's 1- and 2-character pieces with generate_series, about
a thousand times the work of a simple operator, where the planner assumed a default function's
cost; it would then compute it for every product of a scan rather than read the GIN index built on
it (seconds, not milliseconds, for a common word). With its real cost a search's plan over products
grows costly enough for parallel workers, whose start-up cost more than they shared (and a parallel
bitmap scan recomputed the function for each row): nothing on products gains from them, so they are
off for that table. SQLite: nothing.
"""
from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER FUNCTION tuanbot_grams(text) COST 1000")
        op.execute("ALTER TABLE products SET (parallel_workers = 0)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE products RESET (parallel_workers)")
        op.execute("ALTER FUNCTION tuanbot_grams(text) COST 100")
