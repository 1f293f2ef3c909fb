"""Variants (规格): product JSON and CSV shapes, the admin API, 下单/参团/+N with a size, 详情, orders and joins carrying it."""
import pytest
from sqlalchemy import select

from catalog.importer import import_file
from helpers import ADMIN_AUTH as AUTH
from helpers import SNEAKERS, T0, add_product
from storage.tables import groupbuy_participants, orders, product_variants, products

OWNER = {"user": "boss", "role": "owner"}
pytestmark = pytest.mark.anyio
SIZES = [{"name": "39码", "stock": 2}, {"name": "42码", "stock": 5}, {"name": "XL", "stock": 0}]


def sneakers_in_sizes(db, sizes=SIZES):
    return add_product(db, stock=sum(s["stock"] for s in sizes), variants=sizes)


def stocks(db):
    """(the product's stock, {variant: stock})."""
    with db.read() as c:
        total = c.execute(select(products.c.stock)).scalar_one()
        each = dict(c.execute(select(product_variants.c.name, product_variants.c.stock)).all())
    return total, each


def order_rows(db):
    with db.read() as c:
        return [tuple(r) for r in c.execute(select(orders.c.variant, orders.c.quantity, orders.c.status).order_by(orders.c.id))]


# ---- ordering ---------------------------------------------------------------------------------------

def test_an_order_names_its_size_and_takes_that_size_and_the_sum(chat, db):
    sneakers_in_sizes(db)
    reply = chat.send("下单 A12 42码 2", user="amy")
    assert reply.startswith("@amy 下单成功！订单号 D1：潮流男鞋 42码 ×2，单价 ¥189.00")
    assert stocks(db) == (5, {"39码": 2, "42码": 3, "XL": 0})
    assert order_rows(db) == [("42码", 2, "pending")]
    assert "D1 潮流男鞋 42码 ×2" in chat.send("我的订单", user="amy")


def test_size_names_match_case_insensitively_full_width_and_in_either_order(chat, db):
    sneakers_in_sizes(db, [{"name": "42码", "stock": 5}, {"name": "XL", "stock": 5}])
    assert "潮流男鞋 XL ×1" in chat.send("下单 A12 xl", user="amy")
    assert "潮流男鞋 42码 ×2" in chat.send("下单 A12 ４２码 ２", user="amy")
    assert "潮流男鞋 42码 ×1" in chat.send("buy a12 1 42码", user="amy")
    assert "潮流男鞋 42码 ×1" in chat.send("下单 A12 42 1", user="amy")  # the one size that begins with it
    assert stocks(db) == (5, {"42码": 1, "XL": 4})


def test_no_size_given_lists_the_sizes_in_stock_and_changes_nothing(chat, db):
    sneakers_in_sizes(db)
    reply = chat.send("下单 A12 2", user="amy")
    assert reply == ("@amy A12 潮流男鞋 有多个规格，请写上规格，例如：下单 A12 39码 1。有货：39码(2)、42码(5)。")
    assert chat.send("buy A12", user="amy") == (
        "@amy A12 潮流男鞋 comes in several variants; name one, e.g. buy A12 39码 1. In stock: 39码(2), 42码(5).")
    assert stocks(db)[0] == 7 and order_rows(db) == []


def test_a_mistyped_size_names_the_nearest(chat, db):
    sneakers_in_sizes(db)
    assert chat.send("下单 A12 43码 1", user="amy") == "@amy A12 没有“43码”这个规格。你是不是要：42码、39码？有货：39码(2)、42码(5)。"
    assert chat.send("buy A12 XXL 1", user="amy").startswith("@amy A12 has no variant \"XXL\". Did you mean: XL?")


def test_a_size_sold_out_or_short_is_refused_with_what_is_left(chat, db):
    sneakers_in_sizes(db)
    assert chat.send("下单 A12 XL 1", user="amy") == "@amy A12 XL 已经卖完了。"
    assert chat.send("下单 A12 39码 3", user="amy") == "@amy 库存不足：A12 39码 只剩 2 件。"
    assert stocks(db) == (7, {"39码": 2, "42码": 5, "XL": 0})


def test_a_product_without_sizes_refuses_a_size_and_a_bad_quantity_is_still_a_quantity(chat, db):
    add_product(db, stock=5)
    assert chat.send("下单 A12 红色 2", user="amy") == "@amy A12 没有可选的规格，直接写数量就行，例如：下单 A12 1"
    assert "数量要写 1 到 9999" in chat.send("下单 A12 0", user="amy")
    assert "×2" in chat.send("下单 A12 2", user="amy")


def test_cancelling_returns_the_pieces_to_their_size(chat, db):
    sneakers_in_sizes(db)
    chat.send("下单 A12 42码 4", user="amy")
    assert chat.send("取消 D1", user="amy") == "@amy 已取消订单 D1（潮流男鞋 42码 ×4），库存已退回。"
    assert stocks(db) == (7, {"39码": 2, "42码": 5, "XL": 0})


def test_info_shows_every_size_with_its_stock(chat, db):
    sneakers_in_sizes(db)
    reply = chat.send("详情 A12")
    assert "规格：39码 库存 2；42码 库存 5；XL 已售罄" in reply
    assert "下单：下单 A12 规格 数量" in reply
    assert "Variants: 39码 stock 2; 42码 stock 5; XL sold out" in chat.send("info A12")


# ---- group buys ---------------------------------------------------------------------------------------

def test_a_member_joins_several_sizes_each_a_join_and_the_tiers_count_them_all(chat, db):
    sneakers_in_sizes(db)
    opened = chat.send("开团 A12 3件:150 6件:120", **OWNER)
    assert "规格：39码、42码、XL" in opened and "参团 1 规格 数量" in opened
    assert "跟团号 1" in chat.send("参团 1 42码 2", user="amy")
    assert "跟团号 2" in chat.send("+1 39码", user="amy")
    assert "已把团购 #1 潮流男鞋 42码 的数量从 2 改为 3" in chat.send("参团 1 42码 3", user="amy")
    reply = chat.send("+2 42码", user="bob")
    assert "跟团号 3" in reply and "2 人 6 件，当前价 ¥120.00" in reply  # people count once each
    assert stocks(db) == (1, {"39码": 1, "42码": 0, "XL": 0})
    with db.read() as c:
        joins = c.execute(select(groupbuy_participants.c.user_id, groupbuy_participants.c.variant,
                                 groupbuy_participants.c.quantity).order_by(groupbuy_participants.c.join_no)).all()
    assert [tuple(j) for j in joins] == [("amy", "42码", 3), ("amy", "39码", 1), ("bob", "42码", 2)]
    done = chat.send("结束 1", **OWNER)
    assert "2 人 6 件" in done
    assert "1. amy 42码 ×3 ¥360.00 跟团号 1（D1）" in done and "2. amy 39码 ×1 ¥120.00 跟团号 2（D2）" in done
    assert "3. bob 42码 ×2 ¥240.00 跟团号 3（D3）" in done
    with db.read() as c:  # an order per join, each stamped with its own join number
        made = c.execute(select(orders.c.id, orders.c.user_id, orders.c.variant, orders.c.quantity, orders.c.join_no)
                         .order_by(orders.c.id)).all()
    assert [tuple(m) for m in made] == [(1, "amy", "42码", 3, 1), (2, "amy", "39码", 1, 2), (3, "bob", "42码", 2, 3)]


def test_a_join_without_a_size_lists_them_and_leave_takes_one_size_or_all(chat, db):
    sneakers_in_sizes(db)
    chat.send("开团 A12 2:150", **OWNER)
    assert chat.send("参团 1 2", user="amy").startswith("@amy A12 潮流男鞋 有多个规格，请写上规格，例如：参团 1 39码 1。")
    chat.send("参团 1 42码 2", user="amy")
    chat.send("参团 1 39码 1", user="amy")
    assert chat.send("退团 1 39码", user="amy").startswith("@amy 已退出团购 #1，1 件已退回库存")
    assert stocks(db) == (5, {"39码": 2, "42码": 3, "XL": 0})
    assert chat.send("退团 1", user="amy").startswith("@amy 已退出团购 #1，2 件已退回库存")
    assert stocks(db) == (7, {"39码": 2, "42码": 5, "XL": 0})
    assert chat.send("退团 1 44码", user="amy").startswith("@amy A12 没有“44码”这个规格。")


def test_a_failed_group_buy_returns_every_size(chat, db):
    sneakers_in_sizes(db)
    chat.send("开团 A12 5:150", **OWNER)
    chat.send("参团 1 42码 3", user="amy")
    chat.send("参团 1 39码 2", user="bob")
    assert "未成团" in chat.send("结束 1", **OWNER)
    assert stocks(db) == (7, {"39码": 2, "42码": 5, "XL": 0})


# ---- admin API and import -------------------------------------------------------------------------------

async def test_admin_creates_reads_patches_and_lists_variants(http, db):
    body = {**SNEAKERS, "stock": 7, "variants": SIZES}
    r = await http.post("/admin/products", json=body, headers=AUTH)
    assert r.status_code == 201 and r.json()["variants"] == SIZES and r.json()["stock"] == 7
    assert (await http.get("/admin/products/A12", headers=AUTH)).json()["variants"] == SIZES
    r = await http.patch("/admin/products/A12", json={"variants": [{"name": "42码", "stock": 9},
                                                                   {"name": "44码", "stock": 1}]}, headers=AUTH)
    assert r.status_code == 200
    assert (r.json()["stock"], r.json()["variants"]) == (10, [{"name": "42码", "stock": 9}, {"name": "44码", "stock": 1}])
    [listed] = (await http.get("/admin/products", headers=AUTH)).json()
    assert listed["variants"] == r.json()["variants"]
    assert stocks(db) == (10, {"42码": 9, "44码": 1})


async def test_admin_refuses_bad_variants_naming_the_field_and_changes_nothing(http, db):
    await http.post("/admin/products", json={**SNEAKERS, "stock": 7, "variants": SIZES}, headers=AUTH)
    bad = [
        {"variants": [{"name": "42码", "stock": 1}, {"name": "42码", "stock": 2}]},  # twice
        {"variants": [{"name": "42 码", "stock": 1}]},  # a space
        {"variants": [{"name": "42码", "stock": -1}]},
        {"variants": [{"name": "42码"}, "x"]},
        {"stock": 100},  # the sum of the variants is not set by hand
    ]
    for patch in bad:
        r = await http.patch("/admin/products/A12", json=patch, headers=AUTH)
        assert 400 <= r.status_code < 500, patch
        assert r.json()["detail"][0]["loc"][-1] in ("variants", "stock") or "variants" in r.json()["detail"][0]["loc"]
    mismatch = await http.post("/admin/products", json={**SNEAKERS, "code": "B1", "stock": 3, "variants": SIZES},
                               headers=AUTH)
    assert mismatch.status_code in (409, 422) and mismatch.json()["detail"][0]["loc"] == ["body", "stock"]
    assert stocks(db) == (7, {"39码": 2, "42码": 5, "XL": 0})


async def test_admin_orders_carry_the_variant(http, chat, db):
    sneakers_in_sizes(db)
    chat.send("下单 A12 42码 2", user="amy")
    [row] = (await http.get("/admin/orders", headers=AUTH)).json()
    assert row["variant"] == "42码"


def test_csv_import_reads_the_variants_column_and_json_the_variants_list(db, tmp_path):
    csv_file = tmp_path / "c.csv"
    csv_file.write_text(
        "code,name,description,category,price,market_price,stock,active,tiers,variants\n"
        "A12,潮流男鞋,,鞋,199,,,true,,39码:100;40码:200\n"
        "B02,芒果,,水果,29.9,,50,true,,\n"
        "C1,坏的,,,10,,,true,,39码=1\n",
        encoding="utf-8",
    )
    report = import_file(db, csv_file, T0)
    assert (report.added, report.updated) == (2, 0)
    assert report.rejected == [(4, "variants: '39码=1' is not NAME:STOCK (write 39码:100;40码:200)")]
    with db.read() as c:
        assert c.execute(select(products.c.stock).where(products.c.code == "A12")).scalar_one() == 300
    json_file = tmp_path / "c.json"
    json_file.write_text('[{"code": "A12", "name": "潮流男鞋", "price_fen": 19900, '
                         '"variants": [{"name": "39码", "stock": 1}, {"name": "41码", "stock": 4}]}]', encoding="utf-8")
    assert import_file(db, json_file, T0).updated == 1
    with db.read() as c:
        a12 = c.execute(select(products.c.id, products.c.stock).where(products.c.code == "A12")).one()
        sizes = c.execute(select(product_variants.c.name, product_variants.c.stock)
                          .where(product_variants.c.product_id == a12.id).order_by(product_variants.c.position)).all()
    assert a12.stock == 5 and [tuple(s) for s in sizes] == [("39码", 1), ("41码", 4)]


def test_a_csv_stock_for_a_product_with_variants_is_refused_naming_the_column(db, tmp_path):
    sneakers_in_sizes(db)
    csv_file = tmp_path / "c.csv"
    csv_file.write_text("code,name,description,category,price,market_price,stock,active,tiers\n"
                        "A12,潮流男鞋,,鞋,199,,50,true,\n", encoding="utf-8")
    report = import_file(db, csv_file, T0)
    assert report.updated == 0 and report.rejected[0][0] == 2 and report.rejected[0][1].startswith("stock:")
    assert stocks(db)[0] == 7


def test_the_demo_sneakers_come_in_sizes_39_to_45():
    from catalog.demo import demo_products

    a12 = next(p for p in demo_products() if p["code"] == "A12")
    assert [name for name, _ in a12["variants"]] == [f"{n}码" for n in range(39, 46)]
    assert a12["stock"] == sum(stock for _, stock in a12["variants"])
