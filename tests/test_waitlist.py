"""限购, the waitlist (候补) and its promotions, and 复团, through the real router and the admin API."""
import pytest
from sqlalchemy import select

from bot.jobs import settle_due_groupbuys
from helpers import ADMIN_AUTH as AUTH
from helpers import add_product
from storage.tables import groupbuy_participants, groupbuy_waitlist, groupbuys, outbox, products

OWNER = {"user": "boss", "role": "owner"}
pytestmark = pytest.mark.anyio


def sizes(db, **stock):
    """The sneakers in the sizes given: sizes(db, s42=1) -> 42码 with 1 piece."""
    variants = [{"name": f"{k[1:]}码", "stock": v} for k, v in stock.items()]
    return add_product(db, stock=sum(stock.values()), variants=variants)


def joined(db):
    with db.read() as c:
        return [tuple(r) for r in c.execute(
            select(groupbuy_participants.c.user_id, groupbuy_participants.c.variant, groupbuy_participants.c.quantity,
                   groupbuy_participants.c.join_no).order_by(groupbuy_participants.c.join_no))]


def waiting(db):
    with db.read() as c:
        return [tuple(r) for r in c.execute(
            select(groupbuy_waitlist.c.user_id, groupbuy_waitlist.c.variant, groupbuy_waitlist.c.quantity)
            .order_by(groupbuy_waitlist.c.id))]


def told(db):
    """What went to the outbox, oldest first: (group, text)."""
    with db.read() as c:
        return [tuple(r) for r in c.execute(select(outbox.c.group_id, outbox.c.text).order_by(outbox.c.id))]


def stock(db):
    with db.read() as c:
        return c.execute(select(products.c.stock)).scalar_one()


# ---- 限购 / limit -------------------------------------------------------------------------------------------

def test_a_limit_counts_every_size_and_refuses_what_goes_over_it(chat, db):
    sizes(db, s39=10, s42=10)
    opened = chat.send("开团 A12 2:150 限购 3 截止 2h", **OWNER)
    assert "每人限购 3 件" in opened
    chat.send("参团 1 42码 2", user="amy")
    assert chat.send("参团 1 39码 2", user="amy") == "@amy 团购 #1 每人限购 3 件，你已有 2 件，这里最多还能要 1 件。"
    assert "跟团号 2" in chat.send("+1 39码", user="amy")
    assert chat.send("参团 1 42码 3", user="amy") == "@amy 团购 #1 每人限购 3 件，你已有 1 件，这里最多还能要 2 件。"
    assert chat.send("join 1 39码 3", user="amy") == (
        "@amy Group buy #1 allows 3 per member and you already hold 2; at most 1 more here.")
    assert joined(db) == [("amy", "42码", 2, 1), ("amy", "39码", 1, 2)] and stock(db) == 17
    assert "每人限购 3 件" in chat.send("团购", user="bob")


def test_limit_needs_a_number(chat, db):
    add_product(db)
    assert chat.send("开团 A12 2:150 限购", **OWNER) == "“限购”后面要写每人最多几件，例如：限购 3"
    assert "数量要写 1 到 9999" in chat.send("开团 A12 2:150 limit x", **OWNER)


async def test_admin_group_buy_rows_show_the_limit_and_the_waitlist(chat, db, http):
    sizes(db, s42=1)
    chat.send("groupbuy A12 2:150 limit 2", **OWNER)
    chat.send("参团 1 42码 1", user="amy")
    chat.send("参团 1 42码 1", user="bob")
    [row] = (await http.get("/admin/groupbuys", headers=AUTH)).json()
    assert (row["limit"], row["waitlist"], row["participants"]) == (2, 1, 1)
    detail = (await http.get("/admin/groupbuys/1", headers=AUTH)).json()
    assert detail["members"][0]["variant"] == "42码"


# ---- the waitlist --------------------------------------------------------------------------------------------

def test_joins_beyond_stock_queue_with_their_place_and_deals_shows_the_line(chat, db):
    sizes(db, s42=2)
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("参团 1 42码 2", user="amy")
    assert chat.send("参团 1 42码 1", user="bob").startswith("@bob A12 42码 已经卖完了，已加入候补第 1 位：团购 #1 潮流男鞋 42码 ×1。")
    assert "已加入候补第 2 位" in chat.send("+2 42码", user="cat")
    assert chat.send("参团 1 42码 3", user="bob") == "@bob 你在团购 #1 潮流男鞋 42码 的候补第 1 位，数量 3。"
    deals = chat.send("团购", user="amy")
    assert "候补 2 人" in deals and "或发“+1 42码”加入最新的团购（#1）" in deals
    assert waiting(db) == [("bob", "42码", 3), ("cat", "42码", 2)]


def test_a_leave_promotes_the_head_of_the_line_and_tells_the_group_through_the_outbox(chat, db):
    sizes(db, s42=2)
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("参团 1 42码 1", user="amy")
    chat.send("参团 1 42码 1", user="bob")
    chat.send("参团 1 42码 1", user="cat")
    chat.send("参团 1 42码 1", user="dan")
    reply = chat.send("退团 1", user="amy")
    assert reply.startswith("@amy 已退出团购 #1，1 件已退回库存。") and "候补 1 人" in reply
    assert joined(db) == [("bob", "42码", 1, 2), ("cat", "42码", 1, 3)]  # cat took amy's pair, with number 3
    assert waiting(db) == [("dan", "42码", 1)]
    assert told(db)[-1] == ("g1", "候补递补成功：cat 已加入团购 #1（潮流男鞋 42码）×1，跟团号 3。")
    assert stock(db) == 0


def test_the_head_of_the_line_blocks_smaller_joins_behind_it(chat, db):
    sizes(db, s42=3)
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("参团 1 42码 2", user="amy")
    chat.send("参团 1 42码 3", user="bob")  # 1 left: bob waits
    assert "前面还有人在候补" in chat.send("参团 1 42码 1", user="cat")  # fits, but bob came first
    chat.send("退团 1", user="amy")  # 3 free: bob's 3 fit, cat's 1 waits for more
    assert joined(db) == [("bob", "42码", 3, 2)] and waiting(db) == [("cat", "42码", 1)]


def test_cancelling_an_order_promotes_a_waitlisted_join(chat, db):
    sizes(db, s42=1)
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("下单 A12 42码 1", user="amy")
    chat.send("参团 1 42码 1", user="bob")
    chat.send("取消 D1", user="amy")
    assert joined(db) == [("bob", "42码", 1, 1)] and waiting(db) == []
    assert "候补递补成功：bob" in told(db)[-1][1]


def test_a_waitlisted_member_can_give_up_their_place(chat, db):
    sizes(db, s42=0, s43=1)
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("参团 1 42码 1", user="amy")
    assert chat.send("退团 1", user="amy").startswith("@amy 已取消团购 #1 的候补。")
    assert waiting(db) == []
    assert chat.send("退团 1", user="amy") == "@amy 你没有参加团购 #1。"


async def test_an_admin_stock_raise_promotes_in_order_in_one_transaction(chat, db, http):
    sizes(db, s42=0, s43=0, s44=1)  # a group buy opens only while something is in stock
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("开团 A12 2:150", user="boss2", role="owner", group="g2")
    chat.send("参团 1 42码 2", user="amy")
    chat.send("参团 2 42码 1", user="bob", group="g2")
    chat.send("参团 1 43码 1", user="cat")
    r = await http.patch("/admin/products/A12", json={"variants": [{"name": "42码", "stock": 2},
                                                                   {"name": "43码", "stock": 5}]}, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["variants"] == [{"name": "42码", "stock": 0}, {"name": "43码", "stock": 4}] and r.json()["stock"] == 4
    assert joined(db) == [("amy", "42码", 2, 1), ("cat", "43码", 1, 2)]
    assert waiting(db) == [("bob", "42码", 1)]  # 2 pairs: amy came first and needed both
    assert [g for g, _ in told(db)] == ["g1", "g1"]


async def test_a_plain_product_stock_raise_promotes_too(chat, db, http):
    add_product(db, stock=1)
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("下单 A12 1", user="bob")
    chat.send("参团 1 2", user="amy")
    await http.patch("/admin/products/A12", json={"stock": 5}, headers=AUTH)
    assert joined(db) == [("amy", "", 2, 1)] and stock(db) == 3
    assert told(db)[-1] == ("g1", "候补递补成功：amy 已加入团购 #1（潮流男鞋）×2，跟团号 1。")


def test_settlement_drops_the_rest_of_the_line_and_says_so(chat, db, clock):
    sizes(db, s42=1)
    chat.send("开团 A12 1:150", **OWNER)
    chat.send("参团 1 42码 1", user="amy")
    chat.send("参团 1 42码 1", user="bob")
    chat.send("参团 1 42码 1", user="cat")
    done = chat.send("结束 1", **OWNER)
    assert "成团啦" in done and done.endswith("候补没能递补，已取消：bob、cat。")
    assert waiting(db) == []


def test_the_deadline_job_drops_the_line_too_and_a_failed_group_buy_serves_another_line(chat, db, clock):
    sizes(db, s42=1)
    chat.send("开团 A12 3:150 截止 1h", **OWNER)
    chat.send("开团 A12 1:150 截止 3h", user="boss2", role="owner", group="g2")
    chat.send("参团 1 42码 1", user="amy")
    chat.send("参团 1 42码 1", user="bob")  # waits in g1
    chat.send("参团 2 42码 1", user="cat", group="g2")  # waits in g2
    clock.advance(hours=2)
    assert settle_due_groupbuys(chat.db, clock) == 1  # g1 fails below its first tier: amy's pair comes back
    texts = told(db)
    assert any(g == "g1" and "未成团" in t and "候补没能递补，已取消：bob。" in t for g, t in texts)
    assert ("g2", "候补递补成功：cat 已加入团购 #2（潮流男鞋 42码）×1，跟团号 1。") in texts
    assert joined(db)[-1] == ("cat", "42码", 1, 1)


def test_never_waitlisted_and_joined_for_the_same_size(chat, db):
    sizes(db, s42=1, s43=0)
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("参团 1 42码 1", user="amy")
    chat.send("参团 1 43码 1", user="amy")  # waits for 43码, holds 42码: two sizes, fine
    chat.send("参团 1 42码 1", user="amy")  # unchanged, not queued
    assert joined(db) == [("amy", "42码", 1, 1)] and waiting(db) == [("amy", "43码", 1)]


# ---- 复团 / reopen ----------------------------------------------------------------------------------------------

def test_reopen_copies_product_tiers_and_limit_and_invites_last_times_members(chat, db, clock):
    sizes(db, s42=10)
    chat.send("开团 A12 2:150 3:120 限购 2 截止 1h", **OWNER)
    chat.send("参团 1 42码 1", user="amy")
    chat.send("参团 1 42码 2", user="bob")
    chat.send("结束 1", **OWNER)
    assert chat.send("复团 1", user="amy") == "@amy 只有群主或管理员可以用“复团”。"
    reply = chat.send("复团 1 截止 明天 20:00", **OWNER)
    assert reply.startswith("复团（上次是 #1）！开团啦！团购 #2：A12 潮流男鞋")
    assert "每人限购 2 件" in reply and reply.endswith("上次参团的 @amy @bob，欢迎再来！")
    with db.read() as c:
        old, new = c.execute(select(groupbuys.c.basis, groupbuys.c.tiers, groupbuys.c.limit_qty)
                             .order_by(groupbuys.c.id)).all()
    assert tuple(old) == tuple(new)
    assert chat.send("reopen 2", **OWNER) == "Group buy #2 is still open; no need to reopen it."
    assert chat.send("复团 9", **OWNER).startswith("本群没有团购 #9")
    assert chat.send("复团", **OWNER).startswith("格式：复团 编号")
