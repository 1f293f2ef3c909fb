"""SQLite search indexes keyed in code order, and one token per 2-character piece

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02

Migration 0007's FTS5 tables (product_trigrams, product_chars) used the product's id as rowid, so
finding a word's first page in code order meant reading and sorting every candidate (thousands for a
common word). Here their rowid becomes the product's order key:

    key = prefix(code) * 2**31 + id

where prefix(code) reads the code's first 6 characters as digits of base 40: 0 for no character, 1
for any character below '0', 2-11 for '0'-'9', 12 for ':' to '@', 13-38 for 'A'-'Z', 39 for
anything above 'Z'; after the first character outside 0-9 and A-Z every further digit is 0. Codes
are compared as SQLite compares text (code points), and for any two codes a < b gives
prefix(a) <= prefix(b): so a larger prefix always means a larger code, and FTS5, which returns
rowids in order and stops at a LIMIT, hands out candidates in code order up to ties of prefix, which
catalog/search.py sorts. The id keeps the key unique; ids up to 2**31 - 1 are accepted (a larger one
is refused by the insert trigger rather than given a key that another product could share).

product_chars now holds every character and every pair of neighbouring characters as tokens
("k ke e et t ..."), so a 2-character word is one token, not a phrase of two common ones.

PostgreSQL: nothing here (its GIN indexes have no order to give).
"""
from alembic import op


revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None

ID_SPAN = 2**31  # catalog/search.py reads a rowid as prefix * ID_SPAN + id
PREFIX_CHARS = 6  # 40**6 * 2**31 < 2**63
ALNUM = "[0-9A-Z]"

_JOINED = "{p}.code || ' ' || {p}.name || ' ' || {p}.category || ' ' || {p}.description"


def _digit(ch: str) -> str:
    return (
        f"CASE WHEN {ch} = '' THEN 0 WHEN {ch} < '0' THEN 1 WHEN {ch} <= '9' THEN unicode({ch}) - 46 "
        f"WHEN {ch} < 'A' THEN 12 WHEN {ch} <= 'Z' THEN unicode({ch}) - 52 ELSE 39 END"
    )


def order_key(p: str) -> str:
    """SQL for the order key of row `p` (new/old/a table alias)."""
    terms = []
    for i in range(1, PREFIX_CHARS + 1):
        digit = _digit(f"substr({p}.code, {i}, 1)")
        if i > 1:  # only while every character before it is a letter or digit
            digit = f"CASE WHEN substr({p}.code, 1, {i - 1}) GLOB '{ALNUM * (i - 1)}' THEN {digit} ELSE 0 END"
        terms.append(f"({digit}) * {40 ** (PREFIX_CHARS - i)}")
    return f"(({' + '.join(terms)}) * {ID_SPAN} + {p}.id)"


def _pieces(p: str) -> str:
    """SQL for the joined text of row `p` as tokens: each character, then it and the next one."""
    return (
        f"(SELECT group_concat(substr(t.s, n, 1) || ' ' || substr(t.s, n, 2), ' ') FROM "
        f"(SELECT {_JOINED.format(p=p)} AS s) AS t, search_positions WHERE n <= length(t.s))"
    )


def _spaced(p: str) -> str:
    """SQL for the joined text of row `p` with a space after every character (as in 0007)."""
    return (
        f"(SELECT group_concat(substr(t.s, n, 1), ' ') FROM (SELECT {_JOINED.format(p=p)} AS s) AS t, "
        "search_positions WHERE n <= length(t.s))"
    )


def _triggers(key, chars) -> None:
    add = (
        f"INSERT INTO product_trigrams (rowid, body) VALUES ({key('new')}, {_JOINED.format(p='new')});"
        f"INSERT INTO product_chars (rowid, body) VALUES ({key('new')}, {chars('new')});"
    )
    remove = (
        f"INSERT INTO product_trigrams (product_trigrams, rowid, body) VALUES ('delete', {key('old')}, "
        f"{_JOINED.format(p='old')});"
        f"INSERT INTO product_chars (product_chars, rowid, body) VALUES ('delete', {key('old')}, {chars('old')});"
    )
    guard = ""
    if key is order_key:
        guard = (
            f"SELECT RAISE(ABORT, 'product ids above {ID_SPAN - 1} do not fit the search index') "
            f"WHERE new.id >= {ID_SPAN};"
        )
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER products_search_{trigger}")
    op.execute(f"CREATE TRIGGER products_search_insert AFTER INSERT ON products BEGIN {guard} {add} END")
    op.execute(f"CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN {remove} END")
    op.execute(
        "CREATE TRIGGER products_search_update AFTER UPDATE OF code, name, category, description ON products "
        f"BEGIN {remove} {add} END"
    )
    # The products already there, under their new rowids.
    for index in ("product_trigrams", "product_chars"):
        op.execute(f"INSERT INTO {index} ({index}) VALUES ('delete-all')")
    # In key order: FTS5 writes out what it holds whenever a rowid arrives out of order.
    op.execute(
        f"INSERT INTO product_trigrams (rowid, body) SELECT {key('p')}, {_JOINED.format(p='p')} FROM products AS p ORDER BY 1"
    )
    op.execute(f"INSERT INTO product_chars (rowid, body) SELECT {key('p')}, {chars('p')} FROM products AS p ORDER BY 1")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _triggers(order_key, _pieces)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _triggers(lambda p: f"{p}.id", _spaced)
