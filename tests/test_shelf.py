"""Each group's own shelf: 上架/下架 in the chat, `shelf` in the admin API, and what 商品, 详情 and 下单 then see."""
import pytest

from helpers import ADMIN_AUTH as AUTH
from helpers import add_product, make_message

OWNER = {"user": "boss", "role": "owner"}
pytestmark = pytest.mark.anyio


def catalog(db):
    add_product(db, code="A12", name="潮流男鞋")
    add_product(db, code="B01", name="脐橙", price_fen=3990, tiers=[])
    add_product(db, code="C03", name="铁观音", price_fen=8800, tiers=[])
    add_product(db, code="D07", name="牛肉干", price_fen=6990, tiers=[])


def codes_browsed(chat, **kw):
    return [line.split()[0] for line in chat.send("商品", **kw).splitlines()[1:]]


def test_an_empty_shelf_sells_the_whole_catalog(chat, db):
    catalog(db)
    assert chat.send("上架", **OWNER).startswith("本群货架是空的：群里能看到并购买全部商品。")
    assert codes_browsed(chat) == ["A12", "B01", "C03", "D07"]


def test_a_shelf_limits_browse_info_and_buy_to_its_products(chat, db):
    catalog(db)
    reply = chat.send("上架 A12 b01", **OWNER)
    assert reply.startswith("已上架：A12、B01。\n本群货架（2 件商品")
    assert codes_browsed(chat) == ["A12", "B01"]
    assert codes_browsed(chat, group="g2") == ["A12", "B01", "C03", "D07"]  # another group: its own (empty) shelf
    assert chat.send("下单 C03 1") == "@u1 本群不卖 C03 铁观音。发“商品”看看本群在售的商品。"
    assert chat.send("info C03") == "This group does not sell C03 铁观音. Send \"browse\" to see what it sells."
    assert "下单成功" in chat.send("下单 B01 1")
    assert "下单成功" in chat.send("下单 C03 1", group="g2")


def test_an_open_group_buy_or_deal_keeps_its_product_visible_off_the_shelf(chat, db):
    catalog(db)
    chat.send("上架 A12", **OWNER)
    chat.send("开团 C03 2:80", **OWNER)
    chat.send("发布 D07 59 截止 2h", **OWNER)
    assert codes_browsed(chat) == ["A12", "C03", "D07"]
    assert "下单成功" in chat.send("下单 D07 1")
    assert "C03 铁观音" in chat.send("详情 C03")


def test_unlisting_and_refusals(chat, db):
    catalog(db)
    chat.send("上架 A12 B01", **OWNER)
    assert chat.send("上架 A12", **OWNER).startswith("这些商品已经在本群货架上了。")
    assert chat.send("上架 A12 ZZ9", **OWNER) == "没有编码为 ZZ9 的商品，货架没有改动。发送“商品”看看有什么。"
    assert chat.send("下架 B01", **OWNER).startswith("已下架：B01。\n本群货架（1 件商品")
    assert chat.send("下架 C03", **OWNER).startswith("这些商品本来就不在本群货架上。")
    assert chat.send("下架", **OWNER) == "请写上要下架的商品编码，例如：下架 C05"
    assert chat.send("上架 C03", user="amy") == "@amy 只有群主或管理员可以用“上架”。"
    assert chat.send("unlist A12", **OWNER).startswith("Taken off this group's shelf: A12.\nThis group's shelf is empty")
    assert codes_browsed(chat) == ["A12", "B01", "C03", "D07"]


def test_a_private_chat_sees_the_whole_catalog(chat, db):
    catalog(db)
    chat.send("上架 A12", **OWNER)
    msg = make_message("下单 C03 1", user="amy", channel="wechat", group="wechat:amy", is_private=True)
    assert "下单成功" in chat.handle(msg).reply.text


async def test_admin_puts_patches_and_reads_the_shelf(http, db, chat):
    catalog(db)
    r = await http.put("/admin/groups/g1", json={"owners": ["boss"], "shelf": ["a12", "C03"]}, headers=AUTH)
    assert r.status_code == 200 and r.json()["shelf"] == ["A12", "C03"]
    assert codes_browsed(chat) == ["A12", "C03"]
    r = await http.put("/admin/groups/g1", json={"owners": ["boss", "x"]}, headers=AUTH)
    assert r.json()["shelf"] == ["A12", "C03"]  # a PUT without shelf leaves it
    r = await http.patch("/admin/groups/g1", json={"shelf": ["B01"]}, headers=AUTH)
    assert r.json()["shelf"] == ["B01"] and r.json()["owners"] == ["boss", "x"]
    assert (await http.get("/admin/groups/g1", headers=AUTH)).json()["shelf"] == ["B01"]
    bad = await http.patch("/admin/groups/g1", json={"shelf": ["B01", "ZZ9"]}, headers=AUTH)
    assert bad.status_code == 409 and bad.json()["detail"][0]["loc"] == ["body", "shelf"]
    bad = await http.patch("/admin/groups/g1", json={"shelf": ["not a code"]}, headers=AUTH)
    assert bad.status_code == 422 and "shelf" in bad.json()["detail"][0]["loc"]
    assert (await http.get("/admin/groups/g1", headers=AUTH)).json()["shelf"] == ["B01"]
    r = await http.patch("/admin/groups/g1", json={"shelf": []}, headers=AUTH)
    assert r.json()["shelf"] == [] and codes_browsed(chat) == ["A12", "B01", "C03", "D07"]
