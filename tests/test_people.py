"""People, not ids: names kept per group (latest wins), @NAME before replies about one member, names in
统计 and the admin API; the nearest command only where one is close; "+1" with nothing open is talk."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

import bot.dispatch
from bot.app import create_app
from bot.router import nearest_command
from bot.settings import load_settings
from catalog.members import named_in, names_in, remember_name
from helpers import ADMIN_AUTH, ADMIN_TOKEN, Chat, add_product, make_message, signed_bridge_post
from storage.tables import members

SECRET = "s3cret"
OWNER = {"user": "boss", "role": "owner", "sender_name": "团长"}


def stored_names(db):
    with db.read() as c:
        return {(r.group_id, r.user_id): r.name for r in c.execute(select(members))}


def test_a_reply_about_a_member_begins_with_their_name(chat, db):
    add_product(db, stock=100)
    assert chat.send("下单 A12 2", user="u1", sender_name="张阿姨").startswith("@张阿姨 下单成功！订单号 D1")
    assert chat.send("我的订单", user="u1", sender_name="张阿姨").startswith("@张阿姨 你的订单")
    assert chat.send("取消 D9", user="u1", sender_name="张阿姨") == "@张阿姨 你没有订单 D9。发送“我的订单”查看。"
    assert chat.send("开团 A12 2:150", user="u1", sender_name="张阿姨") == "@张阿姨 只有群主或管理员可以用“开团”。"
    opened = chat.send("开团 A12 2:150", **OWNER)
    assert opened.startswith("开团啦！")  # told to the whole group: nobody is named
    assert chat.send("+1", user="u2").startswith("@u2 参团成功")  # never named: the id
    assert chat.send("退团 1", user="u2").startswith("@u2 已退出团购 #1")


def test_talk_stays_silent_and_a_private_chat_is_not_mentioned(chat, db):
    assert chat.send("大家好", user="u1", sender_name="张阿姨") == ""
    add_product(db)
    reply = chat.send("下单 A12", user="u1", group="wechat:u1", channel="wechat", is_private=True)
    assert reply.startswith("下单成功")


def test_the_latest_name_wins_per_group_and_member(chat, db):
    chat.send("你好", user="u1", sender_name="小王")
    chat.send("你好", user="u1", sender_name="小王", group="g2")
    chat.send("你好", user="u1", sender_name="王哥")
    chat.handle(make_message("", msg_id="j1", event="member_joined", member_id="u7", member_name="阿花", inviter_id="u1"))
    chat.send("你好", user="u1")  # no name this time: the stored one stays
    assert stored_names(db) == {("g1", "u1"): "王哥", ("g2", "u1"): "小王", ("g1", "u7"): "阿花"}
    assert chat.send("我的订单", user="u7").startswith("@阿花 ")  # named by the join event


def test_a_second_process_renaming_a_member_is_not_undone_and_a_name_flipping_back_is_written(db, clock, monkeypatch):
    a, b = Chat(db, clock), Chat(db, clock)
    a.send("hi", user="u1", sender_name="小王")
    b.send("hi", user="u1", sender_name="王哥")
    assert stored_names(db)[("g1", "u1")] == "王哥"
    monkeypatch.setattr(bot.dispatch, "NAME_CACHE_SECONDS", 0.0)  # a's memory of "小王" has expired
    a.send("hi", user="u1", sender_name="小王")
    assert stored_names(db)[("g1", "u1")] == "小王"


def test_a_refused_message_does_not_leave_a_name_the_database_lacks(db, clock):
    chat = Chat(db, clock)
    chat.send("hi", user="u1", sender_name="小王", msg_id="same")
    chat.send("hi", user="u1", sender_name="王哥", msg_id="same")  # a duplicate: no effect at all
    assert stored_names(db)[("g1", "u1")] == "小王"


# ---- the nearest command only where one is close -----------------------------------------------

@pytest.mark.parametrize("word, lang, near", [
    ("帮组", "zh", "帮助"), ("我的定单", "zh", "我的订单"),
    ("hlep", "en", "help"), ("ordres", "en", "orders"), ("cancle", "en", "cancel"),
    ("大家好", "zh", None), ("你好", "zh", None), ("多少钱", "zh", None), ("早上好", "zh", None),
    ("thanks", "en", None), ("morning", "en", None), ("ok", "en", None),
])
def test_nearest_command_only_where_one_is_close(word, lang, near):
    assert nearest_command(word, lang) == near


def test_talk_to_the_bot_points_at_help_without_guessing(chat):
    reply = chat.send("@团购助手 大家好", user="u1", sender_name="小王", mentions_bot=True)
    assert reply == "@小王 我是团购助手，发送“帮助”看看我能做什么。"
    assert "退团" not in reply
    assert "你是不是想用“帮助”" in chat.send("#帮组", user="u1")


def test_plus_with_no_open_group_buy_is_silent_talk(chat, db):
    assert chat.send("+1", user="u1") == ""
    add_product(db)
    chat.send("开团 A12 2:150", **OWNER)
    assert "参团成功" in chat.send("+1", user="u1")


# ---- names in 统计 and the admin API ---------------------------------------------------------------

def test_stats_name_inviters_and_contributors(chat, db):
    chat.handle(make_message("", msg_id="j1", event="member_joined", member_id="u7", member_name="阿花",
                             inviter_id="u1"))
    chat.send("你好", user="u1", sender_name="张阿姨")
    reply = chat.send("统计", **OWNER)
    assert "拉新最多：张阿姨 1 人" in reply and "张阿姨（拉新）" in reply


def test_stats_show_every_figure_and_say_when_last_week_is_empty(chat, db, clock):
    add_product(db)
    chat.send("开团 A12 1:150", **OWNER)
    chat.send("+1", user="u1")
    chat.send("结束 1", **OWNER)
    lines = chat.send("统计", **OWNER).splitlines()
    assert lines[0] == "本群近 7 天（上周无数据，暂无对比）："
    assert "成团 1" in lines and "推送送达 0" in lines and "订单 1" in lines
    assert not any("新增" in line for line in lines)
    clock.advance(days=7)
    chat.send("hi", user="u1")
    lines = chat.send("stats", **OWNER).splitlines()
    assert "Group buys succeeded 0 (↓100%)" in lines and "Pushes sent 0 (flat)" in lines


def test_names_across_groups_are_each_pairs_own(db):
    """The admin listings name thousands of (group, member) pairs in one statement: a member named in one
    group is not named by it in another, ids are taken literally, a pair may repeat."""
    when = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with db.begin() as conn:
        remember_name(conn, "g1", "u1", "张阿姨", when)
        remember_name(conn, "g2", "u1", "阿张", when)
        remember_name(conn, "g2", 'u"2', "小'李", when)
        remember_name(conn, "g'3", "u\\3", "老王", when)
    pairs = [("g1", "u1"), ("g2", "u1"), ("g2", 'u"2'), ("g1", 'u"2'), ("g'3", "u\\3"), ("g4", "u1"), ("g1", "u1")]
    with db.read() as conn:
        assert names_in(conn, pairs) == {("g1", "u1"): "张阿姨", ("g2", "u1"): "阿张", ("g2", 'u"2'): "小'李",
                                         ("g1", 'u"2'): 'u"2', ("g'3", "u\\3"): "老王", ("g4", "u1"): "u1"}
        many = [(f"g{i % 50}", f"x{i}") for i in range(3000)] + [("g2", "u1")]
        assert named_in(conn, many) == {("g2", "u1"): "阿张"}
        assert named_in(conn, []) == {}


@pytest.mark.anyio
async def test_bridge_names_reach_settlement_stats_and_the_admin_api(db, clock):
    import httpx
    add_product(db, stock=100)
    app = create_app(load_settings(database_url=db.url, bridge_secret=SECRET, admin_token=ADMIN_TOKEN),
                     db=db, clock=clock)

    async def say(msg_id, sender, name, text, role="member"):
        payload = {"msg_id": msg_id, "group_id": "g1", "sender_id": sender, "sender_name": name,
                   "sender_role": role, "text": text}
        body, headers = signed_bridge_post(SECRET, payload)
        r = await http.post("/bridge/messages", content=body, headers=headers)
        assert r.status_code == 200
        return [t["text"] for t in r.json()["replies"]]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        await say("m1", "boss", "团长", "开团 A12 2:150 4:120", role="owner")
        assert (await say("m2", "u1", "张阿姨", "参团 1 两件"))[0].startswith("@张阿姨 参团成功")
        assert (await say("m3", "u2", "小李", "+1"))[0].startswith("@小李 参团成功")
        closed = (await say("m4", "boss", "团长", "结束 1", role="owner"))[0]
        assert "1. 张阿姨 ×2" in closed and "2. 小李 ×1" in closed
        rows = (await http.get("/admin/orders", headers=ADMIN_AUTH)).json()
        assert {(o["user_id"], o["user_name"]) for o in rows} == {("u1", "张阿姨"), ("u2", "小李")}
        await say("m5", "u1", "张阿姨（团长助理）", "我的订单")
        rows = (await http.get("/admin/orders", headers=ADMIN_AUTH, params={"user_id": "u1"})).json()
        assert rows[0]["user_name"] == "张阿姨（团长助理）"  # the latest name wins


# ---- 我的订单 with joins; one deal and one group buy per product ------------------------------------

def test_my_orders_lists_open_group_buy_joins_with_join_number_and_current_price(chat, db):
    add_product(db, stock=100)
    chat.send("开团 A12 2:150 3:120", **OWNER)
    chat.send("参团 1 2", user="u2")
    chat.send("+1", user="u1", sender_name="张阿姨")
    chat.send("下单 A12", user="u1")
    lines = chat.send("我的订单", user="u1").splitlines()
    assert lines[0] == "@张阿姨 你的订单（最近 10 笔）："
    assert "团购 #1 潮流男鞋 ×1 跟团号 2，当前价 ¥150.00" in lines
    assert "Group buy #1 潮流男鞋 ×1, join no. 2, current price ¥150.00" in chat.send("orders", user="u1")
    chat.send("结束 1", **OWNER)  # settled: the join became an order and is no longer listed as a join
    assert "团购 #1" not in chat.send("我的订单", user="u1")


def test_a_second_open_group_buy_on_the_same_product_is_refused_with_the_open_ones_id(chat, db):
    add_product(db)
    chat.send("开团 A12 2:150", **OWNER)
    refused = chat.send("开团 A12 3:140", **OWNER)
    assert refused == "本群已有 A12 的团购 #1 在进行中。要重开，请先“结束 1”。"
    assert "团购 #2" in chat.send("开团 A12 3:140", **{**OWNER, "group": "g2"})  # another group may
    chat.send("结束 1", **OWNER)
    assert "团购 #3" in chat.send("开团 A12 3:140", **OWNER)


def test_a_new_deal_says_it_replaces_the_earlier_one(chat, db):
    add_product(db)
    assert "取代" not in chat.send("发布 A12 99", **OWNER)
    assert "，取代之前的特价 ¥99.00，" in chat.send("发布 A12 150", **OWNER)
    assert "replacing the earlier deal at ¥150.00" in chat.send("deal A12 120", **OWNER)


def test_deals_lists_each_group_buys_joins_numbered_with_their_join_numbers(db, clock):
    add_product(db)
    chat = Chat(db, clock)
    chat.send("开团 A12 3:150 截止 2h", user="boss", role="owner")
    chat.send("参团 1 2", user="u1", sender_name="张阿姨")
    chat.send("参团 1", user="u2", sender_name="小李")
    chat.send("退团 1", user="u1", sender_name="张阿姨")
    chat.send("参团 1", user="u3", sender_name="阿花")
    listing = chat.send("团购", user="u2")
    assert "  1. 小李 ×1 跟团号 2" in listing
    assert "  2. 阿花 ×1 跟团号 3" in listing
    assert "张阿姨" not in listing


def test_deals_lists_at_most_ten_joins_of_a_big_group_buy(db, clock):
    add_product(db)
    chat = Chat(db, clock)
    chat.send("开团 A12 30:150 截止 2h", user="boss", role="owner")
    for i in range(12):
        chat.send("参团 1", user=f"u{i}")
    listing = chat.send("deals", user="u0")
    assert "  10. u9 ×1 join no. 10" in listing and "u10 " not in listing
    assert "(the first 10; 12 people in all)" in listing


def test_reopen_invites_last_times_members_by_name(db, clock):
    add_product(db)
    chat = Chat(db, clock)
    chat.send("开团 A12 1:150 截止 2h", user="boss", role="owner")
    chat.send("参团 1", user="u1", sender_name="张阿姨")
    chat.send("参团 1", user="u2")  # never named: the id
    chat.send("结束 1", user="boss", role="owner")
    reopened = chat.send("复团 1", user="boss", role="owner")
    assert "上次参团的 @张阿姨 @u2，欢迎再来！" in reopened
