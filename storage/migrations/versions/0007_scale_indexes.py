"""text indexes for product search; an index for group health over a window

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Search is a substring search over a product's code, name, category and description. The indexes
here find candidates for it; catalog.products keeps the exact predicate and checks every candidate,
so an index may over-find but never miss.

SQLite: two FTS5 tables kept in step by triggers on products (the importer, the admin API and any
other writer alike), over the four columns joined by spaces:
- product_trigrams, trigram tokenizer: words of 3 or more characters (a phrase of trigrams);
- product_chars, every character one token (the text stored with a space after each character,
  spread over the positions of search_positions): words of 1 or 2 characters (a phrase of 1 or 2).
Both are contentless (content=''): they keep only the index, not another copy of the text.

PostgreSQL: GIN indexes on the same joined, lower-cased text: pg_trgm's gin_trgm_ops for words of 3
or more characters, and tuanbot_grams (the text's distinct 1- and 2-character substrings) for shorter.
"""
from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Longest joined text: code 32 + name 200 + category 100 + description 2000 + 3 separators.
MAX_TEXT = 2400

_JOINED = "{p}.code || ' ' || {p}.name || ' ' || {p}.category || ' ' || {p}.description"
_PG_TEXT = "lower(code || ' ' || name || ' ' || category || ' ' || description)"

PG_TRGM_MISSING = (
    "PostgreSQL's pg_trgm extension is not installed on the database server. Install the server's "
    "contrib package (Debian/Ubuntu: apt-get install postgresql-contrib; RHEL: dnf install "
    "postgresql-contrib; the official Docker images already have it), then run `tuanbot migrate` again."
)


def _spaced(p: str) -> str:
    """SQL for the joined text of row `p` (new/old) with a space after every character."""
    joined = _JOINED.format(p=p)
    return (
        f"(SELECT group_concat(substr(t.s, n, 1), ' ') FROM (SELECT {joined} AS s) AS t, search_positions "
        "WHERE n <= length(t.s))"
    )


def _sqlite_upgrade() -> None:
    op.execute("CREATE TABLE search_positions (n INTEGER PRIMARY KEY)")
    op.execute(
        f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {MAX_TEXT}) "
        "INSERT INTO search_positions (n) SELECT n FROM s"
    )
    op.execute("CREATE VIRTUAL TABLE product_trigrams USING fts5(body, tokenize='trigram', content='')")
    # Every character but spaces and control characters is a token of its own (they are spaced out).
    op.execute(
        "CREATE VIRTUAL TABLE product_chars USING fts5(body, content='', "
        "tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* Co M* P* S*'\")"
    )
    add = (
        "INSERT INTO product_trigrams (rowid, body) VALUES (new.id, {new_joined});"
        "INSERT INTO product_chars (rowid, body) VALUES (new.id, {new_spaced});"
    ).format(new_joined=_JOINED.format(p="new"), new_spaced=_spaced("new"))
    remove = (
        "INSERT INTO product_trigrams (product_trigrams, rowid, body) VALUES ('delete', old.id, {old_joined});"
        "INSERT INTO product_chars (product_chars, rowid, body) VALUES ('delete', old.id, {old_spaced});"
    ).format(old_joined=_JOINED.format(p="old"), old_spaced=_spaced("old"))
    op.execute(f"CREATE TRIGGER products_search_insert AFTER INSERT ON products BEGIN {add} END")
    op.execute(f"CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN {remove} END")
    # Only the searched columns: a stock UPDATE (every order) leaves the indexes alone.
    op.execute(
        "CREATE TRIGGER products_search_update AFTER UPDATE OF code, name, category, description ON products "
        f"BEGIN {remove} {add} END"
    )
    # Products already there.
    op.execute(f"INSERT INTO product_trigrams (rowid, body) SELECT p.id, {_JOINED.format(p='p')} FROM products AS p")
    op.execute(
        f"INSERT INTO product_chars (rowid, body) SELECT p.id, {_spaced('p')} FROM products AS p"
    )


def _postgres_upgrade() -> None:
    conn = op.get_bind()
    available = conn.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first()
    if available is None:
        raise RuntimeError(PG_TRGM_MISSING)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE FUNCTION tuanbot_grams(t text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT coalesce(array_agg(DISTINCT g), '{}') FROM ("
        " SELECT substr(t, i, 1) AS g FROM generate_series(1, length(t)) AS i"
        " UNION ALL SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i) AS s $$"
    )
    op.execute(f"CREATE INDEX ix_products_search_trgm ON products USING gin ({_PG_TEXT} gin_trgm_ops)")
    op.execute(f"CREATE INDEX ix_products_search_grams ON products USING gin (tuanbot_grams({_PG_TEXT}))")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()
    # Group health: a group's texts or events in a window, read from the index alone (catalog/stats.py).
    op.create_index(
        "ix_inbound_group_kind_time", "inbound_messages", ["group_id", "kind", "received_at", "sender_id", "is_command"]
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_group_kind_time", "inbound_messages")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_products_search_grams")
        op.execute("DROP INDEX ix_products_search_trgm")
        op.execute("DROP FUNCTION tuanbot_grams(text)")
        return  # pg_trgm stays: other objects may use it
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER products_search_{trigger}")
    op.execute("DROP TABLE product_chars")
    op.execute("DROP TABLE product_trigrams")
    op.execute("DROP TABLE search_positions")
