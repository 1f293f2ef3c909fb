"""Ordering through the real router and database: ladder prices, cancel, refusals that change nothing."""
import re

from sqlalchemy import select

from helpers import add_product
from storage.tables import orders, products

CJK = re.compile(r"[\u3400-\u9fff]")


def stock(db, code="A12"):
    with db.read() as c:
        return c.execute(select(products.c.stock).where(products.c.code == code)).scalar_one()


def stored_orders(db):
    with db.read() as c:
        return c.execute(select(orders).order_by(orders.c.id)).mappings().all()


def test_ladder_price_in_reply_and_in_the_stored_order(chat, db):
    add_product(db)
    reply = chat.send("下单 A12 2")
    assert "订单号 D1" in reply and "单价 ¥189.00" in reply and "合计 ¥378.00" in reply and "省 ¥20.00" in reply
    reply = chat.send("buy a12 5", user="u2")
    assert "D2" in reply and "¥169.00 each" in reply and "total ¥845.00" in reply and "save ¥150.00" in reply
    rows = stored_orders(db)
    assert [(r["quantity"], r["unit_price_fen"], r["total_fen"], r["status"]) for r in rows] == [
        (2, 18900, 37800, "pending"),
        (5, 16900, 84500, "pending"),
    ]
    assert stock(db) == 3000 - 7


def test_below_the_first_tier_pays_the_product_price(chat, db):
    add_product(db)
    assert "单价 ¥199.00" in chat.send("下单 A12")
    assert stored_orders(db)[0]["unit_price_fen"] == 19900


def test_cancel_returns_stock_once(chat, db):
    add_product(db)
    chat.send("下单 A12 3")
    assert stock(db) == 2997
    assert "已取消订单 D1" in chat.send("取消 D1")
    assert stock(db) == 3000
    assert "cannot be cancelled" in chat.send("cancel d1")
    assert stock(db) == 3000
    assert stored_orders(db)[0]["status"] == "cancelled"


def test_cannot_cancel_someone_elses_order(chat, db):
    add_product(db)
    chat.send("下单 A12 1", user="alice")
    assert "你没有订单 D1" in chat.send("取消 D1", user="mallory")
    assert stored_orders(db)[0]["status"] == "pending"


def test_my_orders_lists_only_mine_in_this_group(chat, db):
    add_product(db)
    chat.send("下单 A12 1", user="alice")
    chat.send("下单 A12 2", user="bob")
    chat.send("下单 A12 3", user="alice", group="g2")
    mine = chat.send("我的订单", user="alice")
    assert "D1" in mine and "D2" not in mine and "D3" not in mine
    assert "no orders" in chat.send("orders", user="carol")


def test_refusals_change_nothing(chat, db):
    add_product(db, stock=5)
    assert "数量要写 1 到 9999" in chat.send("下单 A12 0")
    assert "whole number" in chat.send("buy A12 two")
    assert "只剩 5 件" in chat.send("下单 A12 6")
    assert "only 5 of A12 left" in chat.send("buy A12 6")
    assert "A12" in chat.send("下单 A21")  # nearest code named
    assert stock(db) == 5 and stored_orders(db) == []


def test_unknown_code_names_the_nearest_codes(chat, db):
    add_product(db)
    add_product(db, code="B7", name="龙井茶")
    assert "你是不是要找：A12" in chat.send("详情 A21")
    assert "Did you mean: A12?" in chat.send("info a21")


def test_inactive_products_are_not_sold_or_listed(chat, db):
    add_product(db, active=False)
    assert "已下架" in chat.send("下单 A12")
    assert "还没有在售" in chat.send("商品")


def test_english_commands_get_no_chinese_but_the_data(chat, db):
    add_product(db, name="Sneakers", description="Breathable", category="Shoes")
    for text in ["help", "browse", "info A12", "buy A12 2", "orders", "cancel D1", "cancel D9", "buy A12 x", "/hepl"]:
        reply = chat.send(text)
        assert reply and not CJK.search(reply), (text, reply)


def test_browse_pages_with_more(chat, db):
    for i in range(23):
        add_product(db, code=f"P{i:02d}", name=f"商品{i}")
    first = chat.send("商品")
    assert "P00" in first and "P09" in first and "P10" not in first and "更多" in first
    second = chat.send("更多")
    assert "P10" in second and "P19" in second and "P09" not in second
    third = chat.send("more")
    assert "P20" in third and "P22" in third and "more" not in third.lower().split("\n")[-1]
    assert "No more products" in chat.send("more")
    assert "P05" in chat.send("browse 商品5") and "P06" not in chat.send("browse 商品5")


def test_unknown_command_suggests_the_nearest_and_help(chat, db):
    reply = chat.send("#帮组")
    assert "帮助" in reply and "没有“帮组”这个命令" in reply
    assert chat.send("大家好") == ""  # talk: silence


def test_help_shows_owner_commands_only_to_owners(chat, db):
    member = chat.send("帮助")
    assert "下单" in member
