"""Group buys through the real router and database: tiers, joins, leaves, settlement, history, admin API."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.groupbuys import due_groupbuys, events, groupbuy_progress
from handlers.announcements import settle_groupbuy
from handlers.when import WhenError, parse_when
from helpers import SHANGHAI, T0, Chat, add_product, make_message
from pricing.groupbuy import PriceRuleError, parse_tiers
from storage.tables import groupbuy_events, groupbuy_participants, groupbuys, orders, outbox, products

CJK = re.compile(r"[\u3400-\u9fff]")
OWNER = {"user": "boss", "role": "owner"}


def stock(db):
    with db.read() as c:
        return c.execute(select(products.c.stock)).scalar_one()


def rows(db, table, order_by=None):
    with db.read() as c:
        return c.execute(select(table).order_by(order_by if order_by is not None else table.c.id)).mappings().all()


def count(db, table):
    with db.read() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def confirmed_orders(db):
    return [o for o in rows(db, orders) if o["status"] == "confirmed"]


# ---- the walkthrough ---------------------------------------------------------------------------

def test_chat_walkthrough_open_join_three_ways_progress_and_close(chat, db):
    add_product(db, stock=100)
    opened = chat.send("开团 A12 2:150 4:120 截止 明天 20:00", **OWNER)
    assert "团购 #1" in opened and "满 2 人 ¥150.00" in opened and "满 4 人 ¥120.00" in opened
    assert "截止 2026-11-25 20:00" in opened and "参团 1" in opened

    r1 = chat.send("参团 1", user="amy")
    assert "参团成功" in r1 and "跟团号 1" in r1 and "再 1 人降到 ¥150.00" in r1
    r2 = chat.send("+2", user="bob")
    assert "跟团号 2" in r2 and "×2" in r2 and "当前价 ¥150.00" in r2
    r3 = chat.send("join 1", user="cat")
    assert "join number 3" in r3 and "1 more person to ¥120.00" in r3
    assert stock(db) == 100 - 4

    listing = chat.send("团购", user="amy")
    assert "#1 A12 潮流男鞋：3 人 4 件，当前价 ¥150.00，再 1 人降到 ¥120.00" in listing
    assert "还剩 1 天 10 小时" in listing  # from 10:00 today until 20:00 tomorrow, Shanghai

    closed = chat.send("结束 1", **OWNER)
    assert "成团" in closed and "¥150.00/件" in closed
    assert "1. amy ×1 ¥150.00 跟团号 1（D1）" in closed and "2. bob ×2 ¥300.00 跟团号 2（D2）" in closed
    placed = confirmed_orders(db)
    assert [(o["user_id"], o["quantity"], o["unit_price_fen"], o["total_fen"]) for o in placed] == [
        ("amy", 1, 15000, 15000), ("bob", 2, 15000, 30000), ("cat", 1, 15000, 15000)]
    assert {(o["groupbuy_id"], o["price_source"]) for o in placed} == {(1, "groupbuy")}
    assert stock(db) == 96  # stock was taken at the joins; settling takes none again
    assert "没有进行中的团购" in chat.send("团购", user="amy")



def test_four_people_reach_the_second_tier_and_everyone_pays_it(chat, db, clock):
    add_product(db, stock=50)
    chat.send("开团 A12 2:150 4:120", **OWNER)
    for user in ("first", "second", "third", "fourth"):
        chat.send("参团 1", user=user)
    with db.begin() as c:
        text = settle_groupbuy(c, 1, clock())
    assert "成团" in text and "¥120.00" in text
    placed = confirmed_orders(db)
    assert len(placed) == 4 and {o["unit_price_fen"] for o in placed} == {12000}
    assert placed[0]["user_id"] == "first"  # the early joiner gets the final price too
    gb = rows(db, groupbuys)[0]
    assert (gb["status"], gb["final_price_fen"]) == ("succeeded", 12000)


def test_below_the_first_tier_fails_returns_all_stock_and_makes_no_order(chat, db, clock):
    add_product(db, stock=40)
    chat.send("开团 A12 3:150", **OWNER)
    chat.send("参团 1 5", user="amy")
    chat.send("+4", user="bob")
    assert stock(db) == 31
    clock.advance(hours=25)
    with db.begin() as c:
        assert due_groupbuys(c, clock()) == [1]
        text = settle_groupbuy(c, 1, clock())
    assert "未成团" in text and "2 人 9 件" in text and "最低一档要 3 人" in text
    assert stock(db) == 40
    assert count(db, orders) == 0
    assert rows(db, groupbuys)[0]["status"] == "failed"
    with db.begin() as c:
        assert due_groupbuys(c, clock()) == []
        assert settle_groupbuy(c, 1, clock()) is None  # settling twice settles once
    assert stock(db) == 40


def test_a_close_after_the_group_was_told_is_one_sentence_and_changes_nothing(chat, db):
    add_product(db)
    chat.send("开团 A12 1:150", **OWNER)
    chat.send("参团 1", user="amy")
    chat.send("结束 1", **OWNER)
    assert chat.send("结束 1", **OWNER) == "团购 #1 已经成团结束了。"
    assert chat.send("参团 1", user="bob") == "@bob 团购 #1 已经成团结束了。"
    assert chat.send("退团 1", user="amy") == "@amy 团购 #1 已经成团结束了。"
    assert len(confirmed_orders(db)) == 1 and stock(db) == 2999


def test_quantity_basis_counts_pieces(chat, db):
    add_product(db)
    reply = chat.send("开团 A12 5件：150 10pcs:120", **OWNER)
    assert "满 5 件 ¥150.00" in reply
    chat.send("参团 1 3", user="amy")
    assert "再 2 件降到 ¥150.00" in chat.send("团购")
    chat.send("参团 1 4", user="bob")
    with db.read() as c:
        assert groupbuy_progress(c, 1, "zh") == "再 3 件降到 ¥120.00"
        assert groupbuy_progress(c, 1, "en") == "3 more pieces to ¥120.00"
    assert "¥150.00/件" in chat.send("结束 1", **OWNER)
    assert rows(db, groupbuys)[0]["basis"] == "quantity"


def test_default_deadline_is_24_hours_and_joining_after_it_is_refused(chat, db, clock):
    add_product(db)
    chat.send("开团 A12 2:150", **OWNER)
    assert rows(db, groupbuys)[0]["deadline"] == T0 + timedelta(hours=24)
    clock.advance(hours=24)
    assert chat.send("参团 1", user="amy") == "@amy 团购 #1 已经截止，正在结算。"
    assert chat.send("+1", user="amy") == ""  # past the deadline nothing is open: "+1" is talk
    assert count(db, groupbuy_participants) == 0 and stock(db) == 3000


# ---- joins, changes, leaves and join numbers ----------------------------------------------------

def test_joining_again_changes_quantity_and_stock_by_the_difference(chat, db):
    add_product(db, stock=20)
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("参团 1 2", user="amy")
    assert stock(db) == 18
    r = chat.send("参团 1 5", user="amy")
    assert "从 2 改为 5" in r and "跟团号 1" in r
    assert stock(db) == 15
    r = chat.send("+1", user="amy")
    assert "从 5 改为 1" in r
    assert stock(db) == 19
    assert "数量 1，跟团号 1" in chat.send("参团 1 1", user="amy")
    assert stock(db) == 19
    assert [(p["user_id"], p["quantity"]) for p in rows(db, groupbuy_participants)] == [("amy", 1)]


def test_a_new_join_beyond_stock_is_waitlisted_and_a_raise_beyond_it_changes_nothing(chat, db):
    add_product(db, stock=3)
    chat.send("开团 A12 2:150", **OWNER)
    assert chat.send("参团 1 4", user="amy").startswith("@amy A12 只剩 3 件，已加入候补第 1 位")
    chat.send("退团 1", user="amy")
    chat.send("参团 1 2", user="amy")
    assert chat.send("参团 1 4", user="amy") == "@amy 库存不足：A12 只剩 1 件，数量没有改。"
    assert chat.send("join 1 2", user="bob").startswith("@bob Only 1 of A12 left: you are number 1 on the waitlist")
    chat.send("leave 1", user="bob")
    chat.send("+1", user="bob")
    assert chat.send("+1", user="cat").startswith("@cat A12 已经卖完了，已加入候补第 1 位")
    assert stock(db) == 0
    assert [(p["user_id"], p["quantity"]) for p in rows(db, groupbuy_participants)] == [("amy", 2), ("bob", 1)]


def test_leave_returns_stock_keeps_others_numbers_and_a_rejoin_gets_a_new_number(chat, db):
    add_product(db, stock=10)
    chat.send("开团 A12 2:150", **OWNER)
    for user in ("amy", "bob", "cat"):
        chat.send("参团 1 2", user=user)
    assert stock(db) == 4
    r = chat.send("退团 1", user="bob")
    assert "2 件已退回库存" in r and "2 人 4 件" in r
    assert stock(db) == 6
    assert chat.send("退团 1", user="bob") == "@bob 你没有参加团购 #1。"
    assert "跟团号 4" in chat.send("参团 1", user="bob")
    numbers = {p["user_id"]: p["join_no"] for p in rows(db, groupbuy_participants)}
    assert numbers == {"amy": 1, "cat": 3, "bob": 4}
    assert "跟团号 5" in chat.send("参团 1", user="dan")


def test_history_events_reconcile_with_orders(chat, db):
    add_product(db)
    chat.send("开团 A12 2:150 3:130", **OWNER)
    chat.send("参团 1 2", user="amy")
    chat.send("参团 1 1", user="bob")
    chat.send("参团 1 4", user="amy")
    chat.send("+3", user="cat")
    chat.send("退团 1", user="bob")
    chat.send("参团 1", user="dan")
    chat.send("参团 1 2", user="bob")
    chat.send("结束 1", **OWNER)
    with db.read() as c:
        history = events(c, 1)
    assert [e.kind for e in history] == [
        "opened", "joined", "joined", "changed", "joined", "left", "joined", "joined", "settled"]
    assert history[0].user_id == "boss"
    held: dict[str, int] = {}
    for e in history:
        if e.kind in ("joined", "changed"):
            held[e.user_id] = e.quantity
        elif e.kind == "left":
            assert held.pop(e.user_id) == e.quantity
    placed = confirmed_orders(db)
    assert {o["user_id"]: o["quantity"] for o in placed} == held == {"amy": 4, "cat": 3, "dan": 1, "bob": 2}
    settled = history[-1]
    assert settled.quantity == sum(o["quantity"] for o in placed) == 10
    assert {o["unit_price_fen"] for o in placed} == {settled.price_fen} == {13000}
    assert history[2].price_fen == 15000 and history[1].price_fen is None  # the price after each join
    assert stock(db) == 3000 - 10


# ---- refusals: one sentence each, nothing changes --------------------------------------------------

def test_a_members_owner_commands_change_nothing(chat, db):
    add_product(db)
    assert chat.send("开团 A12 2:150", user="amy") == "@amy 只有群主或管理员可以用“开团”。"
    assert chat.send("groupbuy A12 2:150", user="amy") == "@amy Only the group owner or an admin can use \"groupbuy\"."
    assert count(db, groupbuys) == 0 and count(db, groupbuy_events) == 0
    chat.send("开团 A12 1:150", user="adm", role="admin")  # an admin may
    chat.send("参团 1", user="amy")
    assert chat.send("结束 1", user="amy") == "@amy 只有群主或管理员可以用“结束”。"
    assert rows(db, groupbuys)[0]["status"] == "open" and count(db, orders) == 0


BAD_TIERS = [
    [], ["abc"], ["0:89"], ["10:0"], ["10:-5"], ["10:89", "5:79"], ["10:89", "20:99"], ["10:89", "100件:79"],
    [f"{n}:{100 - n}" for n in range(1, 12)], ["10:89.999"],
]


@pytest.mark.parametrize("tiers", BAD_TIERS, ids=lambda t: " ".join(t) or "none")
def test_every_malformed_tier_table_gets_its_sentence(chat, db, tiers):
    add_product(db)
    with pytest.raises(PriceRuleError) as expected:
        parse_tiers(tiers)
    assert chat.send(" ".join(["开团 A12", *tiers]), **OWNER) == expected.value.zh
    assert chat.send(" ".join(["groupbuy A12", *tiers]), **OWNER) == expected.value.en
    assert count(db, groupbuys) == 0


def test_a_tier_at_or_above_the_product_price_is_refused(chat, db):
    add_product(db)
    assert chat.send("开团 A12 2:199", **OWNER) == "团购价 ¥199.00 要低于原价 ¥199.00。"
    assert count(db, groupbuys) == 0


@pytest.mark.parametrize("when", ["25:00", "2020-01-01 10:00", "今天 09:00", "下周", "99d", "2026-02-30 10:00"])
def test_every_malformed_or_past_when_gets_its_sentence(chat, db, clock, when):
    add_product(db)
    with pytest.raises(WhenError) as expected:
        parse_when(when, clock(), SHANGHAI)
    assert chat.send(f"开团 A12 2:150 截止 {when}", **OWNER) == expected.value.zh
    assert chat.send(f"groupbuy A12 2:150 until {when}", **OWNER) == expected.value.en
    assert chat.send(f"发布 A12 99 截止 {when}", **OWNER) == expected.value.zh
    assert count(db, groupbuys) == 0


def test_until_with_no_time_and_glued_until_both_work_as_expected(chat, db):
    add_product(db)
    assert chat.send("开团 A12 2:150 截止", **OWNER) == "“截止”后面要写时间，例如：截止 明天 20:00"
    assert "截止 2026-11-24 20:00" in chat.send("开团 A12 2:150 截止20:00", **OWNER)


def test_unknown_code_names_the_nearest_codes(chat, db):
    add_product(db)
    assert chat.send("开团 A21 2:150", **OWNER) == "没有编码为 A21 的商品。你是不是要找：A12？"
    assert chat.send("开团 2:150", **OWNER).startswith("格式：开团 编码")


def test_unknown_foreign_and_malformed_group_buy_ids(chat, db):
    add_product(db)
    chat.send("开团 A12 2:150", **OWNER)
    assert chat.send("参团 9", user="amy") == "@amy 本群没有团购 #9。发“团购”看看进行中的团购。"
    assert chat.send("参团 1", user="amy", group="g2") == "@amy 本群没有团购 #1。发“团购”看看进行中的团购。"
    assert chat.send("结束 1", user="boss", role="owner", group="g2") == "本群没有团购 #1。发“团购”看看进行中的团购。"
    assert chat.send("参团 99999999999", user="amy").startswith("@amy “99999999999”不是团购编号")
    assert chat.send("leave x", user="amy").startswith("@amy \"x\" is not a group buy id")
    assert chat.send("参团", user="amy") == "@amy 格式：参团 编号 [规格] [数量]，例如：参团 3 2 或 参团 3 42码 2"
    assert chat.send("参团 1 0", user="amy").startswith("@amy 数量要写 1 到 9999")
    assert "跟团号 1" in chat.send("参团 #1", user="amy")
    assert rows(db, groupbuys)[0]["status"] == "open"


def test_plus_with_no_open_group_buy_here_is_talk(chat, db):
    add_product(db)
    assert chat.send("+1", user="amy") == ""  # "+1" also means "me too"
    chat.send("开团 A12 2:150", user="boss", role="owner", group="g2")
    assert chat.send("＋２ 我要", user="amy") == ""
    assert count(db, groupbuy_participants) == 0
    assert "跟团号 1" in chat.send("＋２ 我要", user="amy", group="g2")


def test_plus_joins_the_newest_open_group_buy(chat, db):
    add_product(db)
    add_product(db, code="B7", name="帽子", price_fen=5000, tiers=[])
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("开团 B7 2:40", **OWNER)
    assert "团购 #2 帽子 ×1" in chat.send("+1", user="amy")


def test_english_commands_get_english_replies(chat, db):
    add_product(db, name="Street Runner")
    replies = [
        chat.send("groupbuy A12 2:150 4:120 until tomorrow 20:00", **OWNER),
        chat.send("join 1 2", user="amy"),
        chat.send("join 1 3", user="amy"),
        chat.send("join 1 3", user="amy"),
        chat.send("join 1 1", user="bob"),
        chat.send("deals", user="amy"),
        chat.send("leave 1", user="bob"),
        chat.send("join 1 99999", user="bob"),
        chat.send("join 7", user="bob"),
        chat.send("close 1", **OWNER),
        chat.send("close 1", **OWNER),
        chat.send("groupbuy A12 2:150 until 25:00", **OWNER),
        chat.send("groupbuy A12", **OWNER),
    ]
    for reply in replies:
        assert reply and not CJK.search(reply), reply
    assert "Group buy #1 is open" in replies[0]
    assert "did not succeed" in replies[9] and "the first tier needs 2 people" in replies[9]


def test_a_private_chat_joins_by_id_and_a_global_owner_closes_from_there(db, clock):
    add_product(db)
    chat = Chat(db, clock, owners=frozenset({"shop"}))
    chat.send("开团 A12 1:150", **OWNER)
    private = {"channel": "wechat", "group": "wechat:amy", "is_private": True}
    assert "跟团号 1" in chat.handle(make_message("参团 1 2", user="amy", **private)).reply.text
    assert "没有进行中的团购" in chat.handle(make_message("+1", user="amy", **private)).reply.text
    reply = chat.handle(make_message("结束 1", user="shop", channel="wechat", group="wechat:shop", is_private=True))
    assert reply.reply.text == "团购 #1 已结算，群里已通知。"
    told = rows(db, outbox)
    assert [(m["group_id"], "成团" in m["text"]) for m in told] == [("g1", True)]
    assert [(o["group_id"], o["user_id"], o["quantity"]) for o in confirmed_orders(db)] == [("g1", "amy", 2)]


# ---- the admin API ---------------------------------------------------------------------------------

AUTH = {"Authorization": "Bearer tok"}


@pytest.mark.anyio
async def test_admin_lists_group_buys_exactly_as_spec_says(http, chat, db):
    add_product(db)
    chat.send("开团 A12 2:150 4:120", **OWNER)
    chat.send("开团 A12 3件:160", user="boss", role="owner", group="g2")
    chat.send("参团 1 2", user="amy")
    chat.send("参团 1", user="bob")
    r = await http.get("/admin/groupbuys", params={"group_id": "g1"}, headers=AUTH)
    assert r.status_code == 200
    [gb] = r.json()
    assert gb == {
        "id": 1, "group_id": "g1", "product_code": "A12", "basis": "people",
        "tiers": [{"threshold": 2, "price_fen": 15000}, {"threshold": 4, "price_fen": 12000}],
        "deadline": gb["deadline"], "status": "open", "participants": 2, "quantity": 3, "current_price_fen": 15000,
        "limit": None, "waitlist": 0,
    }
    deadline = datetime.fromisoformat(gb["deadline"])
    assert deadline.utcoffset() is not None and deadline == T0 + timedelta(hours=24)
    [other] = (await http.get("/admin/groupbuys", params={"group_id": "g2"}, headers=AUTH)).json()
    assert (other["basis"], other["current_price_fen"], other["participants"]) == ("quantity", None, 0)
    assert len((await http.get("/admin/groupbuys", headers=AUTH)).json()) == 2
    assert (await http.get("/admin/groupbuys", params={"status": "succeeded"}, headers=AUTH)).json() == []
    chat.send("结束 1", **OWNER)
    [done] = (await http.get("/admin/groupbuys", params={"status": "succeeded"}, headers=AUTH)).json()
    assert (done["id"], done["current_price_fen"]) == (1, 15000)
    r = await http.get("/admin/groupbuys", params={"status": "done"}, headers=AUTH)
    assert r.status_code == 422 and "status" in r.text


@pytest.mark.anyio
async def test_admin_one_group_buy_with_participants_and_its_history(http, chat, db):
    add_product(db)
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("参团 1 2", user="amy")
    chat.send("+1", user="bob")
    chat.send("退团 1", user="amy")
    one = (await http.get("/admin/groupbuys/1", headers=AUTH)).json()
    assert one["participants"] == 1 and one["status"] == "open" and one["product_name"] == "潮流男鞋"
    assert [(m["join_no"], m["user_id"], m["quantity"]) for m in one["members"]] == [(2, "bob", 1)]
    history = (await http.get("/admin/groupbuys/1/events", headers=AUTH)).json()
    assert [(e["kind"], e["user_id"], e["quantity"]) for e in history] == [
        ("opened", "boss", None), ("joined", "amy", 2), ("joined", "bob", 1), ("left", "amy", 2)]
    for path in ("/admin/groupbuys/9", "/admin/groupbuys/9/events"):
        assert (await http.get(path, headers=AUTH)).status_code == 404
    for path in ("/admin/groupbuys/x", "/admin/groupbuys/99999999999", "/admin/groupbuys/0/events"):
        assert (await http.get(path, headers=AUTH)).status_code == 422
    assert (await http.get("/admin/groupbuys/1")).status_code == 401

