"""Product search (商品 WORD, 更多) and the nearest codes to a mistyped one, through the text indexes.

A product matches a word when its code, name, category or description holds it (lower-cased; SQL
LIKE with the wildcards escaped): `_MATCHES` below is that definition and every query applies it.
The text indexes of migration 0007 only narrow the rows it is checked on, so an index that finds
too much costs time but never changes a result:
- SQLite: FTS5 `product_trigrams` for words of 3 or more characters, `product_chars` (one token a
  character) for 1 and 2; when the index finds many candidates, walking products in code order and
  stopping at the page's end is cheaper than sorting them all, so that plan is taken instead.
- PostgreSQL: pg_trgm GIN on the joined text for 3 or more characters, the `tuanbot_grams` GIN
  (distinct 1- and 2-character substrings) for shorter words; its planner picks between them and the
  code order itself.
"""
from __future__ import annotations

import difflib
import json
import string

from sqlalchemy import bindparam, column, exists, func, literal_column, or_, select, table
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.engine import Connection

from catalog.products import _COLUMNS, CODE_RE, Product, _product, normalize_code
from catalog.shelf import SHELF_IDS, has_shelf
from storage.prepared import Prepared
from storage.tables import group_shelf, products

# Candidates from an FTS5 index beyond which the plain walk in code order is taken instead: sorting
# candidates by code costs about a microsecond each, and a word this common usually fills a page
# within a few hundred rows of the walk (unless its products all sit at the end of the code order).
SQLITE_CANDIDATE_CAP = 5000
NEIGHBOURS = 10  # codes either side of a mistyped one, in code order, that nearest_codes considers

_LIKE = bindparam("like")
_MATCHES = or_(*(func.lower(c).like(_LIKE, escape="\\") for c in
                 (products.c.code, products.c.name, products.c.category, products.c.description)))
_ON_SALE = select(*_COLUMNS).where(products.c.active.is_(True))
# The catalog-wide pages carry "unless group :group_id has a shelf" (a constant to the database, checked
# once per statement; never true for group None), so the common case, a group without one, is a single
# statement. An empty page means no match or a shelf: only then is the shelf looked up.
_ACTIVE = _ON_SALE.where(~exists().where(group_shelf.c.group_id == bindparam("group_id")))


def _paged(query) -> Prepared:
    return Prepared(query.order_by(products.c.code).offset(bindparam("offset")).limit(bindparam("limit")))


_ALL = _paged(_ACTIVE)
_SCAN = _paged(_ACTIVE.where(_MATCHES))  # the code-ordered walk, checking each row


def _fts(name: str):
    index = table(name, column("rowid"))
    return select(index.c.rowid).where(literal_column(name).op("MATCH")(bindparam("match")))


_FTS_IDS = {  # candidate ids, up to the cap (read once: a phrase of common characters is not cheap)
    name: Prepared(_fts(name).limit(bindparam("cap"))) for name in ("product_trigrams", "product_chars")
}
_IDS = func.json_each(bindparam("ids")).table_valued("value")
_FTS_PAGE = _paged(_ACTIVE.where(products.c.id.in_(select(_IDS.c.value)), _MATCHES))

# PostgreSQL: the same expression as the migration's GIN indexes, so the planner can use them.
_PG_TEXT = func.lower(
    products.c.code + literal_column("' '") + products.c.name + literal_column("' '")
    + products.c.category + literal_column("' '") + products.c.description
)
_PG_TRGM = _paged(_ACTIVE.where(_PG_TEXT.like(_LIKE, escape="\\"), _MATCHES))
_PG_GRAMS = _paged(_ACTIVE.where(func.tuanbot_grams(_PG_TEXT).op("@>")(array([bindparam("gram")])), _MATCHES))


# A group with its own shelf (catalog.shelf): its few visible products, matched the same way.
_SHELVED = {has_word: _paged(_ON_SALE.where(products.c.id.in_(SHELF_IDS), *([_MATCHES] if has_word else [])))
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
    params = {"offset": offset, "limit": limit + 1, "group_id": group_id}
    low = word.lower()
    if word:
        params["like"] = "%" + low.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = _matching(conn, low, params) if word else _ALL.all(conn, params)
    if not rows and group_id is not None and has_shelf(conn, group_id):
        rows = _SHELVED[bool(word)].all(conn, {**params, "now": now})
    return [_product(r) for r in rows[:limit]], len(rows) > limit


def _matching(conn: Connection, low: str, params: dict) -> list[tuple]:
    if conn.dialect.name == "postgresql":
        if len(low) <= 2:
            return _PG_GRAMS.all(conn, {**params, "gram": low})
        return _PG_TRGM.all(conn, params)
    if len(low) >= 3:
        index, match = "product_trigrams", '"' + low.replace('"', '""') + '"'
    elif all(ch.isprintable() and not ch.isspace() for ch in low):
        index, match = "product_chars", '"' + " ".join(low).replace('"', '""') + '"'
    else:  # spaces and control characters are not tokens of product_chars: walk the catalog
        return _SCAN.all(conn, params)
    ids = _FTS_IDS[index].all(conn, {"match": match, "cap": SQLITE_CANDIDATE_CAP})
    if len(ids) >= SQLITE_CANDIDATE_CAP:
        return _SCAN.all(conn, params)
    return _FTS_PAGE.all(conn, {**params, "ids": json.dumps([i for i, in ids])})


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
