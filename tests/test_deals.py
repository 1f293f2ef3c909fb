"""Flash deals: posting (owner/admin), their price on this group's orders while they last, the 团购 listing."""
import re

import pytest
from sqlalchemy import func, select

from helpers import add_product
from storage.tables import deals, orders

CJK = re.compile(r"[\u3400-\u9fff]")
OWNER = {"user": "boss", "role": "owner"}


def stored(db, table):
    with db.read() as c:
        return c.execute(select(table).order_by(table.c.id)).mappings().all()


def test_a_deal_with_limit_2_sells_two_pieces_at_the_deal_price_then_the_normal_price(chat, db):
    add_product(db)
    told = chat.send("发布 A12 99 限量 2 截止 2h", **OWNER)
    assert told == ("限时特价！A12 潮流男鞋 ¥99.00（原价 ¥199.00），限量 2 件，截止 2026-11-24 12:00。"
                    "下单发“下单 A12 数量”。")
    for user in ("amy", "bob", "cat"):
        chat.send("下单 A12 1", user=user)
    assert [(o["user_id"], o["unit_price_fen"], o["price_source"]) for o in stored(db, orders)] == [
        ("amy", 9900, "deal"), ("bob", 9900, "deal"), ("cat", 19900, "price")]
    assert stored(db, deals)[0]["sold_qty"] == 2


def test_the_deal_price_applies_only_in_its_group_and_only_until_its_deadline(chat, db, clock):
    add_product(db)
    chat.send("deal A12 120.50 until 30m", **OWNER)
    assert "¥120.50" in chat.send("下单 A12", user="amy")
    assert "¥199.00" in chat.send("下单 A12", user="amy", group="g2")
    clock.advance(minutes=30)
    assert "¥199.00" in chat.send("下单 A12", user="amy")


def test_default_deal_lasts_24_hours_and_the_listing_shows_what_is_left(chat, db, clock):
    add_product(db)
    chat.send("发布 A12 99 限量 5", **OWNER)
    chat.send("下单 A12 2", user="amy")
    listing = chat.send("团购", user="amy")
    assert "限时特价：\nA12 潮流男鞋 ¥99.00（原价 ¥199.00），限量还剩 3 件，还剩 1 天 0 小时" in listing
    clock.advance(hours=24)
    assert chat.send("团购", user="amy") == "本群现在没有进行中的团购或特价。"


def test_a_new_deal_on_the_same_product_replaces_the_earlier_one(chat, db):
    add_product(db)
    chat.send("发布 A12 99", **OWNER)
    chat.send("发布 A12 150 限量 10", **OWNER)
    assert "¥150.00" in chat.send("下单 A12", user="amy")
    assert [d["active"] for d in stored(db, deals)] == [False, True]


@pytest.mark.parametrize("text, zh", [
    ("发布 A12 199", "特价 ¥199.00 要低于原价 ¥199.00。"),
    ("发布 A12 250", "特价 ¥250.00 要低于原价 ¥199.00。"),
    ("发布 A12 0", "特价要写成大于 0 的金额，例如 99、99.5、99元 或 ¥99，“0”不行。"),
    ("发布 A12 -5", "特价要写成大于 0 的金额，例如 99、99.5、99元 或 ¥99，“-5”不行。"),
    ("发布 A12 九十", "特价要写成大于 0 的金额，例如 99、99.5、99元 或 ¥99，“九十”不行。"),
    ("发布 A12", "格式：发布 编码 特价 [限量 数量] [截止 时间]，例如：发布 A12 99 限量 50 截止 20:00"),
    ("发布 A12 99 限量 0", "数量要写 1 到 9999 之间的数，例如 2、2件、两件，“0”不行。"),
    ("发布 A12 99 限量", "“限量”后面要写件数，例如：限量 50"),
    ("发布 A12 99 快来", "格式：发布 编码 特价 [限量 数量] [截止 时间]，例如：发布 A12 99 限量 50 截止 20:00"),
    ("发布 A21 99", "没有编码为 A21 的商品。你是不是要找：A12？"),
])
def test_a_bad_deal_gets_one_sentence_and_changes_nothing(chat, db, text, zh):
    add_product(db)
    assert chat.send(text, **OWNER) == zh
    assert stored(db, deals) == []


def test_options_in_either_order_and_glued(chat, db):
    add_product(db)
    assert "限量 3 件，截止 2026-11-24 20:00" in chat.send("发布 A12 99 截止 20:00 限量3", **OWNER)
    assert (stored(db, deals)[0]["limit_qty"], stored(db, deals)[0]["price_fen"]) == (3, 9900)


def test_a_member_cannot_post_a_deal(chat, db):
    add_product(db)
    assert chat.send("发布 A12 99", user="amy") == "@amy 只有群主或管理员可以用“发布”。"
    assert chat.send("deal A12 99", user="amy") == "@amy Only the group owner or an admin can use \"deal\"."
    with db.read() as c:
        assert c.execute(select(func.count()).select_from(deals)).scalar_one() == 0


def test_english_deal_commands_get_english_replies(chat, db):
    add_product(db, name="Street Runner")
    replies = [
        chat.send("deal A12 99 limit 2 until tomorrow 20:00", **OWNER),
        chat.send("deals", user="amy"),
        chat.send("deal A12 500", **OWNER),
        chat.send("deal A12 abc", **OWNER),
        chat.send("deal A12 99 limit", **OWNER),
    ]
    for reply in replies:
        assert reply and not CJK.search(reply), reply
    assert replies[0] == ("Flash deal! A12 Street Runner at ¥99.00 (usually ¥199.00), limited to 2, "
                          "until 2026-11-25 20:00. Order with \"buy A12 QTY\".")
    assert "Street Runner ¥99.00 (usually ¥199.00), 2 left at this price, 1d 10h left" in replies[1]
