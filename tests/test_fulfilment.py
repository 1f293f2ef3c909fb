"""After the sale, through the real router on both databases: pickup points, 确认, 核销, 未取, refusals."""
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from sqlalchemy import select

from helpers import Chat, add_product
from storage.tables import member_pickups, orders, pickup_points

OWNER = {"user": "boss", "role": "owner"}


def order_rows(db):
    with db.read() as c:
        return c.execute(select(orders).order_by(orders.c.id)).mappings().all()


def points(db, group="g1"):
    with db.read() as c:
        return list(c.execute(select(pickup_points.c.name).where(pickup_points.c.group_id == group)
                              .order_by(pickup_points.c.id)).scalars())


# ---- pickup points -------------------------------------------------------------------------------

def test_owner_adds_and_removes_pickup_points_and_anyone_lists_them(chat, db):
    assert "还没有自提点" in chat.send("自提点")
    assert "已添加自提点“东门快递柜”" in chat.send("自提点 添加 东门快递柜", **OWNER)
    assert "Pickup point \"3号楼大堂\" added" in chat.send("pickups add 3号楼大堂", **OWNER)
    assert "已经有自提点“东门快递柜”" in chat.send("自提点 添加 东门快递柜", **OWNER)
    listed = chat.send("自提点", user="amy")
    assert "1. 东门快递柜" in listed and "2. 3号楼大堂" in listed and "自提 名称" in listed
    assert points(db) == ["东门快递柜", "3号楼大堂"]
    assert "已删除自提点“3号楼大堂”" in chat.send("自提点 删除 3号楼大堂", **OWNER)
    assert points(db) == ["东门快递柜"]
    assert "no pickup points" not in chat.send("pickups", user="amy") and "East" not in chat.send("pickups")


def test_a_member_cannot_manage_pickup_points_and_nothing_changes(chat, db):
    chat.send("自提点 添加 东门快递柜", **OWNER)
    assert chat.send("自提点 添加 西门", user="amy") == "只有群主或管理员可以用“自提点 添加”。"
    assert chat.send("pickups remove 东门快递柜", user="amy") == "Only the group owner or an admin can use \"pickups remove\"."
    assert points(db) == ["东门快递柜"]


def test_group_owners_list_counts_for_pickup_management(chat, db):
    from catalog.groups import put_group
    from helpers import T0

    with db.begin() as c:
        put_group(c, "g1", {"owners": ["lee"]}, T0)
    assert "已添加" in chat.send("自提点 添加 南门", user="lee")


def test_choosing_a_pickup_point_with_typo_gets_the_nearest_names(chat, db):
    chat.send("自提点 添加 东门快递柜", **OWNER)
    chat.send("自提点 添加 3号楼大堂", **OWNER)
    assert chat.send("自提 东门快递") == "没有自提点“东门快递”。你是不是说：东门快递柜？"
    assert "Did you mean" in chat.send("pickup north gate")
    with db.read() as c:
        assert c.execute(select(member_pickups)).all() == []
    assert "已选择自提点：东门快递柜" in chat.send("自提 东门快递柜")
    assert "Pickup point chosen: 3号楼大堂" in chat.send("pickup ３号楼大堂")
    with db.read() as c:
        assert c.execute(select(member_pickups.c.pickup_point)).scalar_one() == "3号楼大堂"
    assert "你的自提点：3号楼大堂" in chat.send("自提点")


def test_a_group_without_points_refuses_a_choice(chat, db):
    assert chat.send("自提 东门") == "本群还没有设置自提点。"


def test_order_and_join_replies_say_how_to_choose_until_a_point_is_chosen(chat, db):
    add_product(db)
    assert "自提" not in chat.send("下单 A12 1")  # no points in this group: nothing to say
    chat.send("自提点 添加 东门快递柜", **OWNER)
    assert "发“自提 名称”选择" in chat.send("下单 A12 1")
    chat.send("开团 A12 2:150", **OWNER)
    assert "发“自提 名称”选择" in chat.send("参团 1 1", user="amy")
    assert "\"pickup NAME\" to choose" in chat.send("join 1 2", user="bob")
    assert "自提 名称" in chat.send("+1", user="cat")
    chat.send("自提 东门快递柜", user="dan")
    assert "自提" not in chat.send("+1", user="dan")
    assert "自提" not in chat.send("下单 A12 1", user="dan")


# ---- confirm / collect ---------------------------------------------------------------------------

def test_confirm_several_orders_takes_each_members_pickup_point(chat, db, clock):
    add_product(db)
    chat.send("自提点 添加 东门快递柜", **OWNER)
    chat.send("自提 东门快递柜", user="amy")
    chat.send("下单 A12 1", user="amy")
    chat.send("下单 A12 2", user="bob")
    reply = chat.send("确认 D1 d2", **OWNER)
    assert reply.startswith("已确认 2 笔订单：") and "D1 amy 潮流男鞋 ×1（东门快递柜）" in reply
    assert "D2 bob 潮流男鞋 ×2（未选自提点）" in reply
    rows = order_rows(db)
    assert [(r["status"], r["pickup_point"]) for r in rows] == [("confirmed", "东门快递柜"), ("confirmed", None)]
    assert all(r["confirmed_at"] == clock() for r in rows)


def test_a_member_can_no_longer_cancel_a_confirmed_order(chat, db):
    add_product(db)
    chat.send("下单 A12 1", user="amy")
    chat.send("确认 D1", **OWNER)
    assert chat.send("取消 D1", user="amy") == "@amy 订单 D1 已确认，不能自己取消，请联系群主。"
    assert chat.send("cancel D1", user="amy") == "@amy Order D1 is confirmed and cannot be cancelled; please ask the group owner."
    assert order_rows(db)[0]["status"] == "confirmed"


def test_confirm_refusals_name_each_order_and_change_nothing(chat, db):
    add_product(db)
    chat.send("下单 A12 1", user="amy")  # D1
    chat.send("下单 A12 1", user="bob", group="g2")  # D2, another group
    chat.send("下单 A12 1", user="cat")  # D3
    chat.send("取消 D3", user="cat")
    assert chat.send("确认 D2", **OWNER) == "本群没有订单 D2。"
    assert chat.send("确认 D99", **OWNER) == "本群没有订单 D99。"
    assert chat.send("确认 D3", **OWNER) == "D3 已取消，不能确认。"
    assert chat.send("confirm D3", **OWNER) == "D3 is cancelled and cannot be confirmed."
    assert chat.send("确认 X1", **OWNER) == "“X1”不是订单号，订单号像 D17 这样。"
    assert chat.send("确认", **OWNER) == "请写上订单号，例如：确认 D17 D18"
    assert chat.send("确认 D1", user="amy") == "@amy 只有群主或管理员可以用“确认”。"
    assert [r["status"] for r in order_rows(db)] == ["pending", "pending", "cancelled"]
    mixed = chat.send("确认 D1 D3", **OWNER)  # one good, one refused: the good one is done, the other named
    assert "已确认 1 笔订单" in mixed and "D3 已取消，不能确认。" in mixed
    assert chat.send("确认 D1", **OWNER) == "D1 已经确认过了。"


def test_collect_once_then_says_so_and_changes_nothing(chat, db, clock):
    add_product(db)
    chat.send("下单 A12 1", user="amy")
    chat.send("下单 A12 1", user="bob")
    assert chat.send("核销 D1", **OWNER) == "D1 还没有确认，先发“确认 D1”。"
    chat.send("确认 D1", **OWNER)
    first = clock()
    assert chat.send("核销 D1", **OWNER).startswith("已核销 1 笔订单（已取货）：\nD1 amy")
    clock.advance(minutes=5)
    assert chat.send("核销 D1", **OWNER) == "D1 已于 2026-11-24 10:00 核销过了，没有再改动。"
    assert chat.send("collect D1", **OWNER) == "D1 was already collected at 2026-11-24 10:00; nothing changed."
    assert order_rows(db)[0]["collected_at"] == first
    assert chat.send("核销 D1", user="amy") == "@amy 只有群主或管理员可以用“核销”。"
    chat.send("取消 D2", user="bob")
    assert chat.send("核销 D2", **OWNER) == "D2 已取消，不能核销。"
    assert chat.send("collect D7", **OWNER) == "There is no order D7 in this group."


def test_my_orders_shows_state_pickup_point_and_collection(chat, db, clock):
    add_product(db)
    chat.send("自提点 添加 东门快递柜", **OWNER)
    chat.send("自提 东门快递柜", user="amy")
    chat.send("下单 A12 1", user="amy")
    chat.send("下单 A12 2", user="amy")
    chat.send("下单 A12 3", user="amy")
    chat.send("确认 D2 D3", **OWNER)
    clock.advance(hours=1)
    chat.send("核销 D3", **OWNER)
    mine = chat.send("我的订单", user="amy")
    assert "D1 潮流男鞋 ×1 ¥199.00 待付款" in mine
    assert "D2 潮流男鞋 ×2 ¥378.00 已确认 · 自提 东门快递柜" in mine
    assert "D3 潮流男鞋 ×3 ¥567.00 已取货 11-24 11:00 · 自提 东门快递柜" in mine
    assert "collected 11-24 11:00 · pickup 东门快递柜" in chat.send("orders", user="amy")


def test_a_point_chosen_after_confirmation_reaches_the_waiting_orders(chat, db):
    add_product(db)
    chat.send("自提点 添加 东门快递柜", **OWNER)
    chat.send("下单 A12 1", user="amy")
    chat.send("确认 D1", **OWNER)
    assert "1 笔订单也在这里取" in chat.send("自提 东门快递柜", user="amy")
    assert order_rows(db)[0]["pickup_point"] == "东门快递柜"


def test_uncollected_lists_waiting_orders_by_pickup_point(chat, db):
    add_product(db)
    chat.send("自提点 添加 东门快递柜", **OWNER)
    chat.send("自提点 添加 3号楼大堂", **OWNER)
    chat.send("自提 3号楼大堂", user="amy")
    chat.send("自提 东门快递柜", user="bob")
    for u in ("amy", "bob", "cat", "dan"):
        chat.send("下单 A12 1", user=u)
    assert chat.send("未取", **OWNER) == "没有待取货的订单。"
    assert chat.send("未取 东门快递柜", **OWNER) == "东门快递柜 没有待取货的订单。"
    chat.send("确认 D1 D2 D3", **OWNER)
    chat.send("核销 D2", **OWNER)
    chat.send("自提 东门快递柜", user="cat")  # cat's confirmed D3 goes to it too
    text = chat.send("未取", **OWNER)
    assert text.splitlines()[:5] == ["待取货 2 笔：", "【东门快递柜】1 笔", "D3 cat 潮流男鞋 ×1", "【3号楼大堂】1 笔", "D1 amy 潮流男鞋 ×1"]
    assert "D4" not in text and "D2" not in text  # pending, collected
    assert chat.send("未取 3号楼大堂", **OWNER).splitlines()[1:3] == ["【3号楼大堂】1 笔", "D1 amy 潮流男鞋 ×1"]
    assert "你是不是说：3号楼大堂" in chat.send("未取 3号楼", **OWNER)
    assert chat.send("未取", user="amy") == "@amy 只有群主或管理员可以用“未取”。"


def test_group_buy_orders_carry_join_number_and_pickup_point(chat, db):
    add_product(db)
    chat.send("自提点 添加 东门快递柜", **OWNER)
    chat.send("自提 东门快递柜", user="bob")
    chat.send("开团 A12 2:150", **OWNER)
    chat.send("+1", user="amy")
    chat.send("+2", user="bob")
    chat.send("结束 1", **OWNER)
    rows = order_rows(db)
    assert [(r["user_id"], r["status"], r["join_no"], r["pickup_point"]) for r in rows] == [
        ("amy", "confirmed", 1, None), ("bob", "confirmed", 2, "东门快递柜"),
    ]
    assert all(r["confirmed_at"] is not None for r in rows)
    assert "D2 #2 bob 潮流男鞋 ×2" in chat.send("未取", **OWNER)


# ---- two owners at the same moment ----------------------------------------------------------------

def _race(db, clock, text_a, text_b):
    a, b = Chat(db, clock), Chat(db, clock)
    gate = Barrier(2)

    def go(pair):
        chat, text, user = pair
        gate.wait()
        return chat.send(text, user=user, role="owner")

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(go, [(a, text_a, "boss"), (b, text_b, "lee")]))


def test_two_owners_confirming_one_order_at_once_have_one_effect(chat, db, clock):
    add_product(db)
    for i in range(20):
        chat.send("下单 A12 1", user=f"u{i}")
    for i in range(1, 21):
        replies = _race(db, clock, f"确认 D{i}", f"确认 D{i}")
        assert sorted(r.startswith("已确认 1 笔") for r in replies) == [False, True], replies
        assert f"D{i} 已经确认过了。" in replies
    assert {r["status"] for r in order_rows(db)} == {"confirmed"}


def test_two_owners_collecting_one_order_at_once_have_one_effect(chat, db, clock):
    add_product(db)
    for i in range(20):
        chat.send("下单 A12 1", user=f"u{i}")
    chat.send("确认 " + " ".join(f"D{i}" for i in range(1, 21)), **OWNER)
    for i in range(1, 21):
        replies = _race(db, clock, f"核销 D{i}", f"collect D{i}")
        done = [r for r in replies if r.startswith(("已核销", "Collected"))]
        assert len(done) == 1, replies
        assert any("核销过了" in r or "already collected" in r for r in replies)
    assert all(r["collected_at"] is not None for r in order_rows(db))
