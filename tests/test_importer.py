"""Catalog import: CSV and JSON upserts, rejected rows by line and field, whole-file errors; SQLite and PostgreSQL."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.importer import BATCH_ROWS, CSV_COLUMNS, ImportFailed, import_file
from catalog.products import get_product
from helpers import T0, add_product
from storage.tables import product_tiers, products

DATA = Path(__file__).parent / "data"
HEADER = ",".join(CSV_COLUMNS) + "\n"


def product(db, code):
    with db.read() as conn:
        return get_product(conn, code)


def count(db, table=products):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_csv_happy_path_with_yuan_prices_ladders_and_chinese(db):
    calls = []
    report = import_file(db, DATA / "catalog.csv", T0, progress=lambda done, total: calls.append((done, total)))
    assert (report.added, report.updated, report.rejected) == (5, 0, [])
    shoes = product(db, "a12")
    assert (shoes.name, shoes.category, shoes.price_fen, shoes.market_price_fen, shoes.stock, shoes.active) == (
        "潮流男鞋", "鞋", 19900, 39900, 3000, True)
    assert shoes.ladder == [(2, 18900), (5, 16900)]
    oranges = product(db, "B01")
    assert (oranges.price_fen, oranges.ladder) == (3990, [(3, 3590), (10, 3290)])
    tissues = product(db, "E02")
    # a quoted comma, an empty market price, an empty active (true) and empty tiers
    assert (tissues.description, tissues.market_price_fen, tissues.active, tissues.ladder) == (
        "3 层 120 抽, 整箱发货", None, True, [])
    assert product(db, "C03").active is True  # "1"
    assert calls[0] == (0, 5) and calls[-1] == (5, 5)


def test_every_kind_of_rejected_row_is_named_by_line_and_field_and_writes_nothing(db):
    report = import_file(db, DATA / "rejects.csv", T0)
    reasons = dict(report.rejected)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17, 19]
    assert reasons[3].startswith("code:")
    assert reasons[4] == "name: is required"
    assert reasons[5] == "price: is required"
    assert reasons[6].startswith("price: '十块' is not an amount in yuan")
    assert reasons[7] == "price: must be above zero"
    assert reasons[8].startswith("market_price: 'abc'")
    assert reasons[9] == "stock must be 0 or more"
    assert reasons[10].startswith("active: 'maybe'")
    assert reasons[11].startswith("tiers: Cannot read the ladder tier \"2-9\"")
    assert reasons[12] == "tiers: The ladder price ¥11.00 must be below the product price ¥10.00."
    assert reasons[13] == "has 10 cells but the header has 9"
    assert reasons[14] == "code: G1 already appears on line 2 of this file"
    assert reasons[17].startswith("stock: '3000.5'")
    assert reasons[19].startswith("is not valid CSV (',' expected after '\"')")
    # the good rows landed (one after a quoted two-line cell), the rejected ones left no trace
    assert (report.added, report.updated) == (4, 0)
    assert product(db, "G16").name == "坏行之后"  # the reader goes on after a broken record
    assert product(db, "G1").name == "好的一行"  # the first G1, not the duplicate
    assert product(db, "G12").name == "跨两行的\n名字"
    last = product(db, "G14")
    assert (last.price_fen, last.market_price_fen, last.stock, last.active, last.ladder) == (1250, 2000, 7, False, [(2, 1150)])
    for code in ("G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "G10", "G11", "G13", "G15"):
        assert product(db, code) is None
    assert count(db) == 4
    assert count(db, product_tiers) == 1


def test_csv_upsert_updates_an_existing_product_and_empty_stock_keeps_it(db, tmp_path):
    add_product(db, stock=3000)
    path = write(tmp_path, "update.csv", HEADER + "a12,潮流男鞋 新款,,鞋,179,399,,false,3:159\nN1,新品,,,9.9,,,,\n")
    report = import_file(db, path, T0)
    assert (report.added, report.updated, report.rejected) == (1, 1, [])
    shoes = product(db, "A12")
    assert (shoes.name, shoes.price_fen, shoes.stock, shoes.active, shoes.ladder) == (
        "潮流男鞋 新款", 17900, 3000, False, [(3, 15900)])
    assert product(db, "N1").stock == 0  # a new product with no stock given starts at 0
    assert count(db) == 2


def test_only_code_name_price_stock_are_required_columns_the_others_default_or_keep(db, tmp_path):
    add_product(db, stock=3000)  # A12 with a description, category, market price, ladder
    path = write(tmp_path, "short.csv", "stock,price,name,code\n5,195,潮流男鞋 新款,A12\n8,9.9,新品,N1\n")
    report = import_file(db, path, T0)
    assert (report.added, report.updated, report.rejected) == (1, 1, [])
    shoes = product(db, "A12")
    assert (shoes.name, shoes.price_fen, shoes.stock, shoes.category, shoes.market_price_fen, shoes.ladder) == (
        "潮流男鞋 新款", 19500, 5, "鞋", 39900, [(2, 18900), (5, 16900)])
    new = product(db, "N1")
    assert (new.description, new.category, new.market_price_fen, new.stock, new.active, new.ladder) == (
        "", "", None, 8, True, [])


def test_a_re_import_sets_stock_to_the_files_figure(db, tmp_path):
    add_product(db, stock=3000)
    path = write(tmp_path, "stock.csv", "code,name,price,stock\nA12,潮流男鞋,199,40\n")
    assert import_file(db, path, T0).rejected == []
    assert product(db, "A12").stock == 40  # set, not added to


def test_a_negative_stock_says_it_must_be_0_or_more_in_csv_and_json(db, tmp_path):
    csv_report = import_file(db, write(tmp_path, "neg.csv", "code,name,price,stock\nA1,x,1,-3\n"), T0)
    assert csv_report.rejected == [(2, "stock must be 0 or more")]
    json_report = import_file(db, write(tmp_path, "neg.json", '[{"code": "A1", "name": "x", "price_fen": 100, "stock": -3}]'), T0)
    assert "must be 0 or more" in json_report.rejected[0][1]
    assert count(db) == 0


def test_importing_the_same_file_twice_updates_instead_of_adding(db):
    import_file(db, DATA / "catalog.csv", T0)
    again = import_file(db, DATA / "catalog.csv", T0)
    assert (again.added, again.updated, again.rejected) == (0, 5, [])
    assert count(db) == 5
    assert count(db, product_tiers) == 7  # ladders replaced, not appended


def test_json_happy_path_and_rejected_items_by_line_and_index(db):
    report = import_file(db, DATA / "catalog.json", T0)
    assert (report.added, report.updated) == (2, 0)
    assert [line for line, _ in report.rejected] == [6, 7, 8, 10]
    reasons = [reason for _, reason in report.rejected]
    assert reasons[0] == "item 3: price_fen: must be a whole number"
    assert reasons[1] == 'item 4: must be an object like {"code": "A12", "name": …, "price_fen": 19900}'
    assert reasons[2].startswith("item 5: tiers: ") and "¥9.50" in reasons[2]  # the ladder rule's own sentence
    assert reasons[3] == "item 6: colour: is not a product field"
    assert product(db, "A12").ladder == [(2, 18900), (5, 16900)]
    oranges = product(db, "B01")
    assert (oranges.name, oranges.price_fen, oranges.stock, oranges.active, oranges.ladder) == ("赣南脐橙", 3990, 0, True, [])
    assert count(db) == 2


def test_json_update_leaves_fields_it_does_not_name(db, tmp_path):
    add_product(db)
    path = write(tmp_path, "p.json", json.dumps([{"code": "A12", "name": "潮流男鞋", "price_fen": 19500}]))
    report = import_file(db, path, T0)
    assert (report.added, report.updated, report.rejected) == (0, 1, [])
    shoes = product(db, "A12")
    assert (shoes.price_fen, shoes.stock, shoes.market_price_fen, shoes.ladder) == (19500, 3000, 39900, [(2, 18900), (5, 16900)])


def test_json_price_below_the_kept_ladder_is_rejected_and_changes_nothing(db, tmp_path):
    add_product(db)
    items = [{"code": "A12", "name": "潮流男鞋", "price_fen": 15000}, {"code": "N2", "name": "新品", "price_fen": 500}]
    path = write(tmp_path, "p.json", json.dumps(items, indent=1))
    report = import_file(db, path, T0)
    [(line, reason)] = report.rejected
    assert line == 2 and reason.startswith("item 1: tiers: ") and "¥150.00" in reason
    assert product(db, "A12").price_fen == 19900
    assert product(db, "N2").price_fen == 500


def test_bom_and_crlf_and_uppercase_true_are_read(db):
    report = import_file(db, DATA / "bom.csv", T0)
    assert (report.added, report.rejected) == (1, [])
    assert product(db, "A12").ladder == [(2, 18900), (5, 16900)]


def test_format_is_sniffed_when_the_extension_says_nothing(db, tmp_path):
    path = write(tmp_path, "catalog.txt", '  [{"code": "S1", "name": "嗅探", "price_fen": 100}]')
    assert import_file(db, path, T0).added == 1
    path = write(tmp_path, "catalog.dat", HEADER + "S2,嗅探二,,,1,,,,\n")
    assert import_file(db, path, T0).added == 1


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("nope.csv", None, "no such file"),
        ("empty.csv", "  \n", "is empty"),
        ("short.csv", "code,name,price\nA1,x,1\n", "lacks the column stock; it needs code,name,price,stock"),
        ("typo.csv", HEADER.strip() + ",colour\n", "unknown column 'colour'"),
        ("gbk.csv", "gbk", "is not UTF-8 text (line 2)"),
        ("bad.json", '[{"code": "A1",}]', "is not valid JSON: Expecting property name enclosed in double quotes at line 1"),
        ("obj.json", '{"code": "A1"}', "a JSON catalog must be a list of products"),
        ("sheet.xlsx", "PK", "save it as CSV (UTF-8) first"),
    ],
)
def test_an_unusable_file_is_one_clear_error_and_writes_nothing(db, tmp_path, name, content, message):
    path = tmp_path / name
    if content == "gbk":
        path.write_bytes((HEADER + "A1,潮流男鞋,,,1,,,,\n").encode("gbk"))
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFailed) as e:
        import_file(db, path, T0)
    assert message in str(e.value)
    assert str(path) in str(e.value)
    assert count(db) == 0


def test_a_large_file_imports_in_batches_with_a_bad_row_in_the_middle(db, tmp_path):
    rows = [f"P{i},商品{i},,类{i % 7},{10 + i % 50}.50,99,{i},true,{'2:9.5' if i % 2 else ''}" for i in range(1200)]
    rows[700] = "P700,坏行,,,free,,,,"  # line 702
    calls = []
    report = import_file(db, write(tmp_path, "big.csv", HEADER + "\n".join(rows) + "\n"), T0,
                         progress=lambda done, total: calls.append((done, total)))
    assert (report.added, report.updated) == (1199, 0)
    assert report.rejected == [(702, "price: 'free' is not an amount in yuan (write 199 or 199.00)")]
    assert calls == [(0, 1200), (BATCH_ROWS, 1200), (2 * BATCH_ROWS, 1200), (1200, 1200)]
    p = product(db, "P1199")
    assert (p.price_fen, p.stock, p.category, p.ladder) == (5950, 1199, "类2", [(2, 950)])
    assert product(db, "P700") is None
    again = import_file(db, write(tmp_path, "big.csv", HEADER + "\n".join(rows) + "\n"), T0)
    assert (again.added, again.updated, len(again.rejected)) == (0, 1199, 1)
    assert count(db, product_tiers) == 600


def test_two_imports_of_the_same_new_codes_at_once_both_finish_without_rejections(db, tmp_path):
    import threading

    rows = [f"Q{i},并发{i},,,{10 + i % 5},,{i},,2:9" for i in range(600)]
    path = write(tmp_path, "both.csv", HEADER + "\n".join(rows) + "\n")
    reports, errors = [], []

    def run():
        try:
            reports.append(import_file(db, path, T0))
        except Exception as e:  # surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r.rejected for r in reports] == [[], []]
    assert sum(r.added for r in reports) == 600  # each code added once, by one of them
    assert sum(r.added + r.updated for r in reports) == 1200
    assert count(db) == 600
    assert count(db, product_tiers) == 600
