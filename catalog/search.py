"""Product search (商品 WORD, 更多) and the nearest codes to a mistyped one, through the text indexes.

A product matches a word when its code, name, category or description holds it (lower-cased; SQL
LIKE with the wildcards escaped): `_MATCHES` below is that definition and every query applies it, or
on PostgreSQL, for a word without a space, the same check on the four fields joined by spaces (such a
word cannot straddle two of them). The text indexes only narrow the rows it is checked on, so an index that finds too much costs time
but never changes a result:
- SQLite: FTS5 `product_trigrams` for words of 3 or more characters, `product_chars` (each character
  and each pair of neighbouring characters a token) for 1 and 2. Their rowid is the product's order
  key (migration 0008: the code's first 6 characters, then the id), so FTS5 hands out candidates in
  code order up to ties of those 6 characters: a page reads candidates in key order, stops once it
  holds the page and every candidate that could tie with its last row, and sorts only those. A
  common word costs what a rare one does, wherever its products sit in the code order.
- PostgreSQL: pg_trgm GIN on the joined text for 3 or more characters, the `tuanbot_grams` GIN
  (distinct 1- and 2-character substrings) for shorter words and for longer ones pg_trgm cannot
  narrow. A GIN index has no order, so the first products in code order are tried first (a common
  word fills its page there), then every candidate the index finds is sorted: a plan fixed here, not
  left to the planner's guess of how common the word is.
"""
from __future__ import annotations

import difflib
import re
import string

from sqlalchemy import Text, and_, bindparam, column, func, literal_column, or_, select, table, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from catalog.products import _COLUMNS, CODE_RE, Product, _product, normalize_code
from catalog.shelf import SHELF_IDS, has_shelf
from storage.db import Database
from storage.prepared import Prepared
from storage.tables import products

# Candidates read from an FTS5 index beyond which the plain walk in code order is taken instead: only
# reached when many candidates share their code's first 6 characters (codes like SKU000001...) or
# are inactive or over-found, since a page otherwise stops after a few dozen.
SQLITE_CANDIDATE_CAP = 5000
SQLITE_SLACK = 5  # candidates read at first beyond the rows a page needs (the read doubles after that)
NEIGHBOURS = 10  # codes either side of a mistyped one, in code order, that nearest_codes considers

_LIKE = bindparam("like")
_MATCHES = or_(*(func.lower(c).like(_LIKE, escape="\\") for c in
                 (products.c.code, products.c.name, products.c.category, products.c.description)))
_ACTIVE = select(*_COLUMNS).where(products.c.active.is_(True))


def _paged(query) -> Prepared:
    return Prepared(query.order_by(products.c.code).offset(bindparam("offset")).limit(bindparam("limit")))


_ALL = _paged(_ACTIVE)
_SCAN = _paged(_ACTIVE.where(_MATCHES))  # the code-ordered walk, checking each row


# An FTS5 rowid is prefix * ID_SPAN + product id (storage/migrations/versions/0008_search_order.py).
ID_SPAN = 2**31
_KEY_END = 2**63 - 1


def _in_key_order(name: str) -> Prepared:
    """Candidates with keys in (after, before) in key order, at most n, each with its row and whether it matches."""
    index = table(name, column("rowid"))
    found = (
        select(index.c.rowid.label("k"))
        .where(literal_column(name).op("MATCH")(bindparam("match")),
               index.c.rowid > bindparam("after"), index.c.rowid < bindparam("before"))
        .order_by(index.c.rowid).limit(bindparam("n")).subquery("c")
    )
    return Prepared(
        select(*_COLUMNS, and_(products.c.active.is_(True), _MATCHES).label("hit"), found.c.k)
        .select_from(found.join(products, products.c.id == found.c.k % ID_SPAN))
        .order_by(found.c.k)
    )


_FTS = {name: _in_key_order(name) for name in ("product_trigrams", "product_chars")}

# PostgreSQL: the same expression as the migration's GIN indexes, so the planner can use them.
_PG_TEXT = func.lower(
    products.c.code + literal_column("' '") + products.c.name + literal_column("' '")
    + products.c.category + literal_column("' '") + products.c.description
)
_PG_JOINED_LIKE = _PG_TEXT.like(_LIKE, escape="\\")
_PG_GRAMS_HELD = func.tuanbot_grams(_PG_TEXT).op("@>")(bindparam("grams", type_=ARRAY(Text)))
_PG_HOLDS_WORD = func.strpos(_PG_TEXT, bindparam("word")) > 0
# The plans: "grams" for words of 1 or 2 characters (the GIN index on tuanbot_grams is exact for them:
# they never hold a space, being stripped); "trigrams" for longer words with 3 letters or digits in a
# row (pg_trgm makes its trigrams from runs of those); "pairs" for other longer words (`0%_`, `a-b`),
# whose pg_trgm trigrams would match most products: products holding each of the word's 2-character
# pieces, then the word itself (strpos, not LIKE, so that pg_trgm's index is not mixed in).
_PG_FOUND = {
    ("grams", False): [_PG_GRAMS_HELD],
    ("trigrams", False): [_PG_JOINED_LIKE],
    ("trigrams", True): [_PG_JOINED_LIKE, _MATCHES],
    ("pairs", False): [_PG_HOLDS_WORD, _PG_GRAMS_HELD],
    ("pairs", True): [_MATCHES, _PG_GRAMS_HELD],
}


def _pg_candidates(conditions) -> Prepared:
    """The page among the products the GIN index finds: the id and code of all of them
    (MATERIALIZED, so the planner cannot turn it into a walk of the code order that reads every
    product for a word whose products sit at its end), sorted by code, then the page's rows.

    A word without a space that the joined text holds lies inside one field (they are joined by
    spaces), so there the joined text's check is the definition (pg_trgm's LIKE is rechecked by
    PostgreSQL on each row; tuanbot_grams is exact for 1 and 2 characters). Migration 0009 tells
    the planner what tuanbot_grams costs a row and keeps parallel workers off products."""
    found = (select(products.c.id, products.c.code).where(products.c.active.is_(True), *conditions)
             .cte("found").prefix_with("MATERIALIZED"))
    page = select(*found.c).order_by(found.c.code).offset(bindparam("offset")).limit(bindparam("limit")).subquery("page")
    return Prepared(select(*_COLUMNS).select_from(page.join(products, products.c.id == page.c.id)).order_by(page.c.code))


_PG_INDEXED = {key: _pg_candidates(conditions) for key, conditions in _PG_FOUND.items()}
_TRIGRAM_RUN = re.compile(r"[^\W_]{3}")  # 3 letters or digits in a row
# The first PG_WALK_ROWS active products in code order, those that match: a word common among them fills
# its page here (reading all its products from the GIN index would cost more); else the GIN index.
PG_WALK_ROWS = 256
_PG_FIRST = select(*_COLUMNS).where(products.c.active.is_(True)).order_by(products.c.code).limit(
    bindparam("walk")).subquery("first")
_PG_WALK = Prepared(
    select(*_PG_FIRST.c)
    .where(or_(*(func.lower(_PG_FIRST.c[c]).like(_LIKE, escape="\\") for c in ("code", "name", "category", "description"))))
    .order_by(_PG_FIRST.c.code).offset(bindparam("offset")).limit(bindparam("limit"))
)


# A group with its own shelf (catalog.shelf): its few visible products, matched the same way.
_SHELVED = {has_word: _paged(_ACTIVE.where(products.c.id.in_(SHELF_IDS), *([_MATCHES] if has_word else [])))
            for has_word in (False, True)}


def search_products(
    conn: Connection, word: str, *, offset: int, limit: int, group_id: str | None = None, now=None
) -> tuple[list[Product], bool]:
    """Active products whose code, name, category or description holds the word, by code; (page, more after it).
    With `group_id` (and `now`) of a group that has a shelf: only what that group sells."""
    word = word.strip()
    if "\x00" in word:
        # No product text holds a NUL (PostgreSQL cannot store one), so nothing matches; SQLite's FTS5
        # and LIKE would read the word only up to it (an error, or everything).
        return [], False
    params = {"offset": offset, "limit": limit + 1}
    if group_id is not None and has_shelf(conn, group_id):
        params.update(group_id=group_id, now=now)
        if word:
            params["like"] = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = _SHELVED[bool(word)].all(conn, params)
    elif not word:
        rows = _ALL.all(conn, params)
    else:
        low = word.lower()
        params["like"] = "%" + low.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = _matching(conn, low, params)
    return [_product(r) for r in rows[:limit]], len(rows) > limit


def _matching(conn: Connection, low: str, params: dict) -> list[tuple]:
    if conn.dialect.name == "postgresql":
        rows = _PG_WALK.all(conn, {**params, "walk": PG_WALK_ROWS})
        if len(rows) == params["limit"]:
            return rows  # the page and the row after it, all among the first products in code order
        if len(low) <= 2:
            return _PG_INDEXED["grams", False].all(conn, {**params, "grams": [low]})
        if _TRIGRAM_RUN.search(low):
            return _PG_INDEXED["trigrams", " " in low].all(conn, params)
        pairs = sorted({low[i:i + 2] for i in range(len(low) - 1)})
        return _PG_INDEXED["pairs", " " in low].all(conn, {**params, "grams": pairs, "word": low})
    if len(low) >= 3:
        index, match = "product_trigrams", '"' + low.replace('"', '""') + '"'
    elif all(ch.isprintable() and not ch.isspace() for ch in low):
        index, match = "product_chars", '"' + low.replace('"', '""') + '"'  # one token
    else:  # spaces and control characters are not tokens of product_chars: walk the catalog
        return _SCAN.all(conn, params)
    return _from_index(conn, _FTS[index], match, params)


def _from_index(conn: Connection, statement: Prepared, match: str, params: dict) -> list[tuple]:
    """The page through an FTS5 index whose rowids are order keys: read candidates in key order until
    the page is held, then the rest of the last needed row's prefix (which may sort before it), and
    sort what was read by code."""
    offset, need = params["offset"], params["offset"] + params["limit"]
    hits: list[tuple] = []
    after, before, n, read = -1, _KEY_END, need + SQLITE_SLACK, 0
    while True:
        rows = statement.all(conn, {"match": match, "like": params["like"], "after": after, "before": before, "n": n})
        hits += [r for r in rows if r[-2]]
        read += len(rows)
        if len(rows) < n:
            break  # nothing left in (after, before)
        if read > SQLITE_CANDIDATE_CAP:
            return _SCAN.all(conn, params)
        after = rows[-1][-1]
        if before == _KEY_END and len(hits) >= need:
            # Every later candidate of a higher prefix has a higher code than these `need` hits.
            before = (hits[need - 1][-1] // ID_SPAN + 1) * ID_SPAN
        if after >= before - 1:
            break
        n *= 2
    hits.sort(key=lambda r: r[1])  # by code, as ORDER BY code compares text in SQLite
    return [r[:-2] for r in hits[offset:need]]


# Pages of FTS5 merge work per transaction in tidy_indexes: the write lock is held for one step only.
MERGE_STEP_PAGES = 100


def tidy_indexes(db: Database) -> None:
    """After a big import, leave the search indexes as quick to read as after a rebuild.

    SQLite: the inserts left each FTS5 index in many segments, and a query reads one b-tree per
    token per segment; they are merged into one, a step per transaction (FTS5's incremental
    'merge'; a step that changes nothing means it is done). PostgreSQL: rows inserted since the last
    vacuum wait in each GIN index's pending list, which every search reads in full; they are moved
    into the index."""
    if db.is_postgres:
        with db.begin() as conn:
            for index in ("ix_products_search_trgm", "ix_products_search_grams"):
                conn.execute(text(f"SELECT gin_clean_pending_list('{index}'::regclass)"))
        return
    for index in ("product_trigrams", "product_chars"):
        while True:
            with db.begin() as conn:
                before = conn.execute(text("SELECT total_changes()")).scalar_one()
                conn.execute(text(f"INSERT INTO {index} ({index}, rank) VALUES ('merge', -{MERGE_STEP_PAGES})"))
                if conn.execute(text("SELECT total_changes()")).scalar_one() - before < 2:
                    break


# ---- nearest codes ----------------------------------------------------------------------------------

_CODE_CHARS = string.ascii_uppercase + string.digits


def nearest_codes(conn: Connection, code: str, n: int = 3) -> list[str]:
    """Codes that look like a mistyped one (A21 for A12), for the "did you mean" sentence.

    Ranked by difflib among an indexed candidate set, not every code: active codes one edit away
    (a letter dropped, added, changed, or two neighbours swapped), looked up on the code's unique
    index, and the codes just before and after it in code order (a shared beginning).
    """
    typed = normalize_code(code)
    if not typed:
        return []
    active = products.c.active.is_(True)
    candidates: set[str] = set()
    if CODE_RE.match(typed):
        candidates.update(conn.execute(
            select(products.c.code).where(active, products.c.code.in_(sorted(_one_edit(typed))))
        ).scalars())
    for query in (
        select(products.c.code).where(active, products.c.code < typed).order_by(products.c.code.desc()),
        select(products.c.code).where(active, products.c.code > typed).order_by(products.c.code),
    ):
        candidates.update(conn.execute(query.limit(NEIGHBOURS)).scalars())
    return difflib.get_close_matches(typed, sorted(candidates), n=n, cutoff=0.4)


def _one_edit(code: str) -> set[str]:
    """Every code of 1 to 32 letters and digits one edit from `code` (Damerau: swaps count as one)."""
    splits = [(code[:i], code[i:]) for i in range(len(code) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _CODE_CHARS}
    if len(code) < 32:
        out |= {a + c + b for a, b in splits for c in _CODE_CHARS}
    out.discard(code)
    out.discard("")
    return out
