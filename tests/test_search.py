"""Product search through the text indexes finds exactly what substring search finds; SQLite and PostgreSQL.

Also: paging with 更多 is unchanged, the indexes follow inserts, updates and imports, migrations 0007
and 0008 fill them on a database that already has products, the SQLite indexes' order key never
contradicts code order, and nearest codes come from the indexed set.
"""
from __future__ import annotations


import pytest
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text

from catalog import importer, search
from catalog.importer import CSV_COLUMNS, import_file
from catalog.products import create_product, update_product, validate_product
from catalog.search import nearest_codes, search_products
from helpers import T0, add_product
from storage.migrate import alembic_config, upgrade
from storage.tables import products

# CJK, ASCII of both cases, digits, LIKE's wildcards and escape, FTS5's quote, a space.
ALPHABET = "牛肉干内蒙古茶红绿aAbBkKe19%_\\\" -"
texts = st.text(alphabet=ALPHABET, min_size=0, max_size=12)


class Rollback(Exception):
    pass


def substring_search(rows: list[dict], word: str) -> list[str]:
    """The definition: active products whose code, name, category or description holds the word, by code."""
    w = word.strip().lower()
    hit = [r for r in rows if r["active"] and any(w in r[f].lower() for f in ("code", "name", "category", "description"))]
    return sorted(r["code"] for r in hit)


catalogs = st.lists(
    st.fixed_dictionaries({
        "name": texts.filter(lambda s: s.strip()),
        "category": texts,
        "description": texts,
        "active": st.booleans(),
    }),
    min_size=1, max_size=8,
)


@st.composite
def catalog_and_word(draw):
    rows = draw(catalogs)
    for i, r in enumerate(rows):  # some codes share their first 6 characters (one order-key prefix on SQLite)
        r["code"] = f"{draw(st.sampled_from(['A', 'K', 'B1', 'AAAAAA', 'AAAAAZ', 'AAAAA', 'Z9']))}{9 - i}"
    joined = [r[f] for r in rows for f in ("name", "category", "description")]
    # Often a piece of some product's text (1 to 4 characters), otherwise any short word.
    piece = st.sampled_from(joined).flatmap(
        lambda s: st.integers(0, max(len(s) - 1, 0)).flatmap(lambda i: st.integers(1, 4).map(lambda n: s[i:i + n]))
    )
    word = draw(st.one_of(piece, st.text(alphabet=ALPHABET, min_size=1, max_size=4)).filter(lambda w: w.strip()))
    return rows, word


def search_pages(conn, word: str, limit: int) -> list[str]:
    """Every page of the search, one after the other (as 更多 asks for them)."""
    codes: list[str] = []
    while True:
        page, more = search_products(conn, word, offset=len(codes), limit=limit)
        codes += [p.code for p in page]
        assert len(page) == limit or not more
        if not more:
            return codes


# index: the defaults; pages: small pages read from the index a few candidates at a time (PostgreSQL:
# straight from the GIN index); walk: every SQLite search that reads more than one candidate takes the
# code-ordered walk instead (PostgreSQL: its first walk of the code order answers whenever it can).
@pytest.mark.parametrize("cap, slack, pg_walk, limit", [
    (search.SQLITE_CANDIDATE_CAP, search.SQLITE_SLACK, search.PG_WALK_ROWS, 100),
    (search.SQLITE_CANDIDATE_CAP, 0, 0, 1),
    (1, 0, search.PG_WALK_ROWS, 2),
], ids=["index", "pages", "walk"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=catalog_and_word())
def test_search_finds_exactly_what_substring_search_finds(db, monkeypatch, cap, slack, pg_walk, limit, case):
    rows, word = case
    monkeypatch.setattr(search, "SQLITE_CANDIDATE_CAP", cap)
    monkeypatch.setattr(search, "SQLITE_SLACK", slack)
    monkeypatch.setattr(search, "PG_WALK_ROWS", pg_walk)
    try:
        with db.begin() as conn:
            if db.is_postgres:  # take the GIN indexes (bitmap scans), not a walk of the table
                conn.execute(text("SET LOCAL enable_seqscan = off"))
                conn.execute(text("SET LOCAL enable_indexscan = off"))
            conn.execute(insert(products), [
                {**r, "price_fen": 100, "stock": 1, "created_at": T0, "updated_at": T0} for r in rows
            ])
            assert search_pages(conn, word, limit) == substring_search(rows, word)
            raise Rollback
    except Rollback:
        pass


@pytest.mark.parametrize("word", ["牛肉", "牛", "beef", "e"])
def test_browse_pages_with_more_through_the_index(chat, db, word):
    for i in range(23):
        add_product(db, code=f"P{22 - i:02d}", name=f"内蒙古牛肉干 beef {i}")
        add_product(db, code=f"Q{i:02d}", name="龙井茶")
    first = chat.send(f"商品 {word}")
    assert [f"P{i:02d}" in first for i in range(11)] == [True] * 10 + [False] and "更多" in first
    second = chat.send("更多")
    assert "P10" in second and "P19" in second and "P09" not in second and "P20" not in second
    third = chat.send("更多")
    assert "P20" in third and "P22" in third and "Q" not in third and "更多" not in third
    assert "没有更多商品" in chat.send("更多")


def test_the_index_follows_updates_and_imports(db, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "TIDY_AFTER_ROWS", 2)  # the import below tidies the indexes afterwards
    add_product(db, code="A1", name="内蒙古牛肉干")
    with db.begin() as conn:
        update_product(conn, "A1", {"name": "云南红茶"}, T0)
    with db.read() as conn:
        assert search_products(conn, "牛肉", offset=0, limit=10)[0] == []
        assert [p.code for p in search_products(conn, "红茶", offset=0, limit=10)[0]] == ["A1"]
    csv = tmp_path / "c.csv"
    header = ",".join(CSV_COLUMNS) + "\n"
    csv.write_text(header + "A1,四川腊肠,,,10,,1,true,\nB2,潮汕鱼丸,,,10,,1,true,\n", encoding="utf-8")
    import_file(db, csv, T0)
    with db.read() as conn:
        assert search_products(conn, "红茶", offset=0, limit=10)[0] == []
        assert [p.code for p in search_products(conn, "腊", offset=0, limit=10)[0]] == ["A1"]
        assert [p.code for p in search_products(conn, "鱼丸", offset=0, limit=10)[0]] == ["B2"]


@pytest.mark.parametrize("word", ["00\x00", "牛\x00肉干", "\x00"])
def test_a_word_with_a_nul_character_is_searched_not_an_error(db, word):
    """FTS5 reads its query string only up to a NUL; such a word walks the catalog instead."""
    add_product(db, code="A1", name="内蒙古牛肉干")
    with db.read() as conn:
        assert search_products(conn, word, offset=0, limit=10)[0] == []


def test_nearest_codes_come_from_one_edit_and_code_order_neighbours(db):
    with db.begin() as conn:
        for i in range(60):
            create_product(conn, validate_product({"code": f"K{i:03d}", "name": "x", "price_fen": 1}), T0)
        create_product(conn, validate_product({"code": "A12", "name": "x", "price_fen": 1}), T0)
        assert nearest_codes(conn, "a21") == ["A12"]  # two letters swapped
        assert nearest_codes(conn, "K0405")[0] == "K045"  # one letter too many
        near = nearest_codes(conn, "K04")  # a letter missing: each candidate is K04 with one more
        assert len(near) == 3 and all(any(c[:i] + c[i + 1:] == "K04" for i in range(4)) for c in near)
        assert nearest_codes(conn, "ZZZZZZ") == []


# ---- migration 0007 on a database that already holds products -----------------------------------------

def test_migration_fills_the_indexes_of_existing_products(empty_db):
    db = empty_db
    before = ScriptDirectory.from_config(alembic_config(db.url)).get_revision("0007").down_revision
    upgrade(db, before)
    with db.begin() as conn:
        conn.execute(insert(products), [
            {"code": f"P{i}", "name": name, "description": "", "category": "", "price_fen": 100, "stock": 1,
             "active": True, "created_at": T0, "updated_at": T0}
            for i, name in enumerate(["内蒙古牛肉干", "云南红茶", "Beef Jerky"])
        ])
    upgrade(db)
    with db.read() as conn:
        for word, codes in (("牛肉干", ["P0"]), ("牛", ["P0"]), ("茶", ["P1"]), ("jerky", ["P2"]), ("EF", ["P2"])):
            assert [p.code for p in search_products(conn, word, offset=0, limit=10)[0]] == codes
    if db.is_sqlite:  # the rows were indexed (under their order keys), not found by a walk of the table
        with db.read() as conn:
            found = conn.execute(text("SELECT rowid FROM product_chars WHERE product_chars MATCH '\"茶\"'")).all()
            assert [k % search.ID_SPAN for k, in found] == [2]


# ---- SQLite: the FTS rowid is an order key -----------------------------------------------------------

CODE_CHARS = "09AZaz:@/~ -_牛\x7f"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(codes=st.lists(st.text(alphabet=CODE_CHARS, min_size=1, max_size=9), min_size=2, max_size=12, unique=True))
def test_the_order_key_never_contradicts_code_order(sqlite_db, codes):
    """A higher key prefix means a higher code (as SQLite compares text), and the key holds the product's id."""
    try:
        with sqlite_db.begin() as conn:
            conn.execute(insert(products), [
                {"code": c, "name": "同一个", "description": "", "category": "", "price_fen": 100, "stock": 1,
                 "active": True, "created_at": T0, "updated_at": T0} for c in codes
            ])
            ids = dict(conn.execute(text("SELECT id, code FROM products")).all())
            keys = [k for k, in conn.execute(text(
                "SELECT rowid FROM product_trigrams WHERE product_trigrams MATCH '\"同一个\"'"))]
            assert sorted(ids[k % search.ID_SPAN] for k in keys) == sorted(codes)
            by_key = [(k // search.ID_SPAN, ids[k % search.ID_SPAN]) for k in keys]
            assert all(ca < cb for pa, ca in by_key for pb, cb in by_key if pa < pb)
            raise Rollback
    except Rollback:
        pass


def test_a_page_of_codes_that_share_their_first_characters_is_sorted_by_code(db):
    """300 products whose codes begin alike (one key prefix), inserted out of order, some inactive: 更多 pages
    through them in code order."""
    rows = []
    for i in reversed(range(300)):
        rows.append({"code": f"SKU000{i:03d}", "name": "牛肉干" if i % 3 else "红茶", "description": "",
                     "category": "", "price_fen": 100, "stock": 1, "active": i % 7 != 0,
                     "created_at": T0, "updated_at": T0})
    with db.begin() as conn:
        conn.execute(insert(products), rows)
    with db.read() as conn:
        for word in ("牛肉干", "牛", "sku0001", "1"):
            assert search_pages(conn, word, 10) == substring_search(rows, word)


def test_a_common_word_whose_products_sit_at_the_end_of_the_code_order(db):
    rows = [{"code": f"{letter}{i:04d}", "name": "牛肉干" if letter == "Z" else "红茶", "description": "",
             "category": "", "price_fen": 100, "stock": 1, "active": True, "created_at": T0, "updated_at": T0}
            for letter in "ZAM" for i in range(150)]
    with db.begin() as conn:
        conn.execute(insert(products), rows)
    with db.read() as conn:
        for word in ("牛肉干", "牛肉", "牛", "z01"):
            assert search_pages(conn, word, 10) == substring_search(rows, word)


def test_a_word_that_spans_two_fields_is_not_found(db):
    """The indexes see the four fields joined by spaces; a word with a space that only the joining made
    (the end of one field, the start of the next) is not in any field, so nothing is found."""
    add_product(db, code="A1", name="内蒙古牛肉干", category="零食", description="jerky pack")
    with db.read() as conn:
        for word in ("牛肉干 零", "干 零食", "a1 内", "食 jer"):
            assert search_products(conn, word, offset=0, limit=10)[0] == []
        for word in ("牛肉干", "jerky pack", "y p"):
            assert [p.code for p in search_products(conn, word, offset=0, limit=10)[0]] == ["A1"]
