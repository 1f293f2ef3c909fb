"""The admin pick list and order spreadsheet, and 导出 links, over HTTP on both databases."""
import csv
import io
import re
from datetime import datetime

import httpx
import openpyxl
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.dispatch import Dispatcher
from bot.settings import load_settings
from helpers import ADMIN_AUTH as AUTH
from helpers import ADMIN_TOKEN, Chat, add_product, make_message
from storage.tables import export_links, orders
from test_cli import tuanbot

OWNER = {"user": "boss", "role": "owner"}
HEADER = "跟团号,订单号,下单人,商品编码,商品,规格,数量,单价,金额,状态,自提点,下单时间,取货时间"
PUBLIC = "https://shop.example.com"
pytestmark = pytest.mark.anyio


def fill(db, clock):
    """g1: pickup points, a group buy settled (amy #1, bob #2), a plain order confirmed, one pending, one cancelled."""
    chat = Chat(db, clock)
    add_product(db)
    add_product(db, code="B7", name="有机鸡蛋", price_fen=3990, tiers=[], stock=100)
    chat.send("自提点 添加 东门快递柜", **OWNER)
    chat.send("自提点 添加 3号楼大堂", **OWNER)
    chat.send("自提 3号楼大堂", user="bob")
    chat.send("自提 东门快递柜", user="cat")
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("+1", user="amy")
    chat.send("+2", user="bob")
    chat.send("结束 1", **OWNER)  # D1 amy ×1, D2 bob ×2 at ¥150
    chat.send("下单 B7 3", user="cat")  # D3
    chat.send("确认 D3", **OWNER)
    chat.send("下单 B7 1", user="dan")  # D4 pending
    chat.send("下单 B7 5", user="eve")  # D5 cancelled
    chat.send("取消 D5", user="eve")
    chat.send("下单 B7 1", user="zed", group="g2")  # D6 elsewhere
    chat.send("确认 D6", user="boss", role="owner", group="g2")
    return chat


async def test_admin_group_put_and_read_pickup_points(http):
    r = await http.put("/admin/groups/g1", json={"name": "潮鞋团", "pickup_points": ["东门快递柜", "3号楼大堂"]}, headers=AUTH)
    assert r.status_code == 200 and r.json()["pickup_points"] == ["东门快递柜", "3号楼大堂"]
    r = await http.put("/admin/groups/g1", json={"name": "潮鞋团"}, headers=AUTH)  # omitted: kept
    assert r.json()["pickup_points"] == ["东门快递柜", "3号楼大堂"]
    r = await http.put("/admin/groups/g1", json={"pickup_points": ["3号楼大堂", "西门"]}, headers=AUTH)
    assert r.json()["pickup_points"] == ["3号楼大堂", "西门"]
    assert (await http.get("/admin/groups/g1", headers=AUTH)).json()["pickup_points"] == ["3号楼大堂", "西门"]
    bad = await http.put("/admin/groups/g1", json={"pickup_points": [""]}, headers=AUTH)
    assert bad.status_code == 422 and "pickup_points" in bad.text
    bad = await http.put("/admin/groups/g1", json={"pickup_points": ["\ufdfa" * 10]}, headers=AUTH)  # 180 once read
    assert bad.status_code == 409 and "pickup_points" in bad.text
    bad = await http.put("/admin/groups/g1", json={"pickup_points": "东门"}, headers=AUTH)
    assert bad.status_code == 422 and "pickup_points" in bad.text
    assert (await http.get("/admin/groups/g1", headers=AUTH)).json()["pickup_points"] == ["3号楼大堂", "西门"]


async def test_admin_order_rows_gain_join_no_pickup_point_and_collection(http, db, clock):
    chat = fill(db, clock)
    chat.send("核销 D2", **OWNER)
    rows = {o["order_no"]: o for o in (await http.get("/admin/orders?group_id=g1", headers=AUTH)).json()}
    assert rows["D1"]["join_no"] == 1 and rows["D1"]["pickup_point"] is None and rows["D1"]["user_name"] == "amy"
    assert rows["D2"]["join_no"] == 2 and rows["D2"]["pickup_point"] == "3号楼大堂"
    assert datetime.fromisoformat(rows["D2"]["collected_at"]) == clock()
    assert rows["D3"]["join_no"] is None and rows["D3"]["pickup_point"] == "东门快递柜" and rows["D3"]["collected_at"] is None


async def test_picklist_sums_equal_the_orders(http, db, clock):
    chat = fill(db, clock)
    r = await http.get("/admin/groups/g1/picklist", headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["products"] == [
        {"product_code": "A12", "name": "潮流男鞋", "quantity": 3},
        {"product_code": "B7", "name": "有机鸡蛋", "quantity": 3},
    ]
    assert [p["name"] for p in body["pickup_points"]] == ["东门快递柜", "3号楼大堂", ""]
    assert body["pickup_points"][1]["orders"] == [{
        "order_no": "D2", "join_no": 2, "user_id": "bob", "user_name": "bob", "product_code": "A12",
        "quantity": 2, "total_fen": 30000,
    }]
    with db.read() as c:  # the sums are those of the confirmed, uncollected orders of g1
        waiting = c.execute(select(orders.c.id, orders.c.quantity, orders.c.product_id).where(
            orders.c.group_id == "g1", orders.c.status == "confirmed", orders.c.collected_at.is_(None))).all()
    listed = [o for p in body["pickup_points"] for o in p["orders"]]
    assert sorted(o["order_no"] for o in listed) == sorted(f"D{w.id}" for w in waiting)
    assert sum(p["quantity"] for p in body["products"]) == sum(w.quantity for w in waiting) == sum(o["quantity"] for o in listed)
    one = (await http.get("/admin/groups/g1/picklist?groupbuy=1", headers=AUTH)).json()
    assert one["products"] == [{"product_code": "A12", "name": "潮流男鞋", "quantity": 3}]
    chat.send("核销 D1 D2", **OWNER)
    assert (await http.get("/admin/groups/g1/picklist?groupbuy=1", headers=AUTH)).json() == {"products": [], "pickup_points": []}
    assert (await http.get("/admin/groups/g1/picklist?groupbuy=99", headers=AUTH)).status_code == 404
    assert (await http.get("/admin/groups/nope/picklist", headers=AUTH)).status_code == 404
    assert (await http.get("/admin/groups/g1/picklist?groupbuy=x", headers=AUTH)).status_code == 422
    assert (await http.get("/admin/groups/g1/picklist")).status_code == 401


async def test_orders_csv_has_the_header_word_for_word_and_one_row_per_order(http, db, clock):
    chat = fill(db, clock)
    clock.advance(minutes=30)
    chat.send("核销 D2", **OWNER)
    r = await http.get("/admin/groups/g1/orders.csv", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.decode("utf-8").split("\r\n")[0] == HEADER
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))[1:]
    assert [row[1] for row in rows] == ["D1", "D2", "D3", "D4", "D5"]
    assert rows[1] == ["2", "D2", "bob", "A12", "潮流男鞋", "", "2", "150.00", "300.00", "已取货", "3号楼大堂",
                       "2026-11-24 10:00", "2026-11-24 10:30"]
    assert rows[2][0] == "" and rows[2][9:11] == ["已确认", "东门快递柜"] and rows[2][12] == ""
    assert [row[9] for row in rows[3:]] == ["待付款", "已取消"]
    only = await http.get("/admin/groups/g1/orders.csv?groupbuy=1&status=collected", headers=AUTH)
    assert [row[1] for row in list(csv.reader(io.StringIO(only.text)))[1:]] == ["D2"]
    assert (await http.get("/admin/groups/g1/orders.csv?status=shipped", headers=AUTH)).status_code == 422


def read_xlsx(content: bytes):
    wb = openpyxl.load_workbook(io.BytesIO(content))
    return wb, [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


async def test_orders_xlsx_reads_back_with_both_sheets(http, db, clock):
    fill(db, clock)
    r = await http.get("/admin/groups/g1/orders.xlsx", headers=AUTH)
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    wb, rows = read_xlsx(r.content)
    assert wb.sheetnames == ["订单", "汇总"]
    first = wb.worksheets[0]
    assert ",".join(rows[0]) == HEADER
    assert first.freeze_panes == "A2" and first["A1"].font.b
    assert rows[2][:9] == [2, "D2", "bob", "A12", "潮流男鞋", None, 2, 150, 300]
    assert first["H3"].number_format == "0.00" and first["I3"].number_format == "0.00"
    assert rows[2][11] == datetime(2026, 11, 24, 10, 0)  # a real date, in Asia/Shanghai
    assert first.column_dimensions["E"].width >= 10  # 潮流男鞋: four wide characters
    assert [row[1] for row in rows[1:]] == ["D1", "D2", "D3", "D4", "D5"]
    summary = [list(r) for r in wb["汇总"].iter_rows(values_only=True)]
    assert summary[0] == ["商品编码", "商品", "规格", "数量", "金额"]
    assert summary[1:] == [["A12", "潮流男鞋", None, 3, 450], ["B7", "有机鸡蛋", None, 4, 159.6]]  # cancelled D5 left out


# ---- 导出 links ---------------------------------------------------------------------------------

@pytest.fixture
async def public(db, clock):
    """An app with TUANBOT_PUBLIC_URL set, and a chat typing through its own dispatcher."""
    settings = load_settings(database_url=db.url, admin_token=ADMIN_TOKEN, public_url=PUBLIC + "/")
    app = create_app(settings, db=db, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        yield client, app.state.dispatcher


def say(dispatcher: Dispatcher, text: str, **kw) -> str:
    return dispatcher.handle(make_message(text, **kw)).reply.text


async def test_export_link_opens_without_the_admin_token_then_expires(public, db, clock):
    client, dispatcher = public
    fill(db, clock)
    reply = say(dispatcher, "导出", **OWNER)
    url = re.search(r"https://\S+\.xlsx", reply).group(0)
    assert url.startswith(PUBLIC + "/exports/") and "24 小时内有效（到 2026-11-25 10:00）" in reply
    token = url.rsplit("/", 1)[1].removesuffix(".xlsx")
    assert len(token) >= 22  # at least 128 bits
    with db.read() as c:
        stored = c.execute(select(export_links.c.token_sha256)).scalars().all()
    assert token not in stored and len(stored) == 1
    r = await client.get(url.removeprefix(PUBLIC))
    assert r.status_code == 200
    wb, rows = read_xlsx(r.content)
    assert [row[1] for row in rows[1:]] == ["D1", "D2", "D3", "D4", "D5"]  # this group's only
    made_up = await client.get("/exports/" + "A" * len(token) + ".xlsx")
    clock.advance(hours=24, seconds=1)
    expired = await client.get(url.removeprefix(PUBLIC))
    assert made_up.status_code == expired.status_code == 404
    assert made_up.content == expired.content  # no hint which
    assert (await client.get("/exports/x.xlsx")).status_code == 404


async def test_export_of_one_group_buy_holds_its_orders_only(public, db, clock):
    client, dispatcher = public
    fill(db, clock)
    url = re.search(r"https://\S+\.xlsx", say(dispatcher, "export 1", **OWNER)).group(0)
    _, rows = read_xlsx((await client.get(url.removeprefix(PUBLIC))).content)
    assert [row[1] for row in rows[1:]] == ["D1", "D2"]
    assert say(dispatcher, "export 9", **OWNER) == "There is no group buy #9 in this group."
    assert say(dispatcher, "导出 1", user="amy") == "@amy 只有群主或管理员可以用“导出”。"
    with db.read() as c:
        assert len(c.execute(select(export_links)).all()) == 1


def test_export_without_public_url_says_it_must_be_set(chat, db):
    reply = chat.send("导出", **OWNER)
    assert "TUANBOT_PUBLIC_URL" in reply and "http" not in reply
    with db.read() as c:
        assert c.execute(select(export_links)).all() == []


@pytest.mark.parametrize("value", ["shop.example.com", "ftp://shop.example.com", "https://", "https://x.com/?a=1"])
def test_a_malformed_public_url_stops_start_up_naming_it(value, tmp_path):
    r = tuanbot("serve", "--no-scheduler", env={"TUANBOT_PUBLIC_URL": value, "TUANBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "TUANBOT_PUBLIC_URL" in lines[0]


def test_public_url_is_kept_without_its_trailing_slash():
    assert load_settings(public_url="https://shop.example.com/tuan/").public_url == "https://shop.example.com/tuan"
    assert load_settings(public_url="").public_url is None


async def test_variants_fill_the_spec_column_the_summary_and_the_picklist(http, db, clock):
    chat = Chat(db, clock)
    add_product(db, stock=10, variants=[{"name": "39码", "stock": 5}, {"name": "42码", "stock": 5}])
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("参团 1 42码 2", user="amy")
    chat.send("+1 39码", user="bob")
    chat.send("+1 42码", user="bob")
    chat.send("结束 1", **OWNER)
    csv_rows = list(csv.reader(io.StringIO((await http.get("/admin/groups/g1/orders.csv", headers=AUTH)).text)))[1:]
    assert [(r[0], r[2], r[5], r[6]) for r in csv_rows] == [("1", "amy", "42码", "2"), ("2", "bob", "39码", "1"),
                                                            ("3", "bob", "42码", "1")]
    wb, rows = read_xlsx((await http.get("/admin/groups/g1/orders.xlsx", headers=AUTH)).content)
    assert [r[5] for r in rows[1:]] == ["42码", "39码", "42码"]
    summary = [list(r) for r in wb["汇总"].iter_rows(values_only=True)][1:]
    assert summary == [["A12", "潮流男鞋", "39码", 1, 150], ["A12", "潮流男鞋", "42码", 3, 450], ["A12", "潮流男鞋", "合计", 4, 600]]
    picked = (await http.get("/admin/groups/g1/picklist", headers=AUTH)).json()["products"]
    assert picked == [{"product_code": "A12", "name": "潮流男鞋", "quantity": 4,
                       "variants": [{"name": "42码", "quantity": 3}, {"name": "39码", "quantity": 1}]}]
    assert "D2 #2 bob 潮流男鞋 39码 ×1" in chat.send("未取", **OWNER)
    assert "D2 bob 潮流男鞋 39码 ×1" in chat.send("核销 D2", **OWNER)


async def test_members_names_show_in_rows_picklist_and_replies(http, db, clock):
    chat = Chat(db, clock)
    add_product(db)
    chat.send("下单 A12 1", user="u42", sender_name="小王")
    assert "D1 小王 潮流男鞋 ×1" in chat.send("确认 D1", **OWNER)
    row = list(csv.reader(io.StringIO((await http.get("/admin/groups/g1/orders.csv", headers=AUTH)).text)))[1]
    assert row[1:3] == ["D1", "小王"]
    listed = (await http.get("/admin/groups/g1/picklist", headers=AUTH)).json()["pickup_points"][0]["orders"][0]
    assert (listed["user_id"], listed["user_name"]) == ("u42", "小王")
    assert "D1 小王 潮流男鞋 ×1" in chat.send("未取", **OWNER)
