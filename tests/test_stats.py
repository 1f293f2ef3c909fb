"""Group health: the SPEC's figures over a seeded group, exact window edges, local days, contributors,
the 统计/stats command against the week before, and the admin stats endpoints."""
import re
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import event, update

from bot import jobs
from catalog import activity, stats
from catalog.stats import (
    Window, daily_series, group_stats, group_stats_over, members, stats_by_group, stats_by_windows,
)
from handlers.stats import change, render
from helpers import SHANGHAI, T0, Chat, add_product, make_message
from storage.outbox import enqueue
from storage.tables import deals, groupbuys, inbound_messages, orders, outbox

NOW = T0 + timedelta(days=14)  # 2026-12-08 10:00 Shanghai
AUTH = {"Authorization": "Bearer tok"}
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def at(clock, when):
    clock.now = when
    return when


def seed(db, clock) -> Chat:
    """Group g1 with known activity in the 7 days before NOW and a little in the 7 days before that."""
    product = add_product(db)
    chat = Chat(db, clock)
    say = chat.send
    # the week before: u9 exactly 7 days old (outside the current window) and 7 days and 1 second old
    at(clock, NOW - timedelta(days=7, seconds=1)); say("早", user="u9")
    at(clock, NOW - timedelta(days=7)); say("早上好", user="u9")
    # the current window
    at(clock, NOW - timedelta(days=7) + timedelta(seconds=1)); say("hello", user="u10")
    at(clock, NOW - timedelta(days=6)); say("大家好", user="u1")
    at(clock, NOW - timedelta(days=6, hours=-1)); say("今天上新吗", user="u1")
    at(clock, NOW - timedelta(days=1)); say("哈哈", user="u1")
    at(clock, NOW - timedelta(days=5)); assert "D" in say("下单 A12 1", user="u2")
    at(clock, NOW - timedelta(days=2)); say("下单 A12 2", user="u2")
    at(clock, NOW - timedelta(days=3)); reply = say("下单 A12 1", user="u3")
    order = re.search(r"D\d+", reply).group(0)
    at(clock, NOW - timedelta(days=3, minutes=-5)); assert order in say(f"取消 {order}", user="u3")
    at(clock, NOW - timedelta(hours=1)); say("下单 A12 1", user="u3")
    for minutes in (0, 10, 20):  # three messages, one day: not a regular talker
        at(clock, NOW - timedelta(days=4, minutes=-minutes)); say("在吗", user="u4")
    at(clock, NOW - timedelta(days=4))
    for msg_id, member, inviter in (("j1", "u5", "u1"), ("j2", "u6", "u1"), ("j3", "u7", "u2"), ("j4", "u8", None)):
        chat.handle(make_message("", msg_id=msg_id, event="member_joined", member_id=member, inviter_id=inviter))
    at(clock, NOW - timedelta(days=2)); say("别的群", user="u1", group="g2")
    with db.begin() as conn:
        conn.execute(groupbuys.insert(), [
            {"group_id": "g1", "product_id": product.id, "basis": "people", "tiers": [{"threshold": 2, "price_fen": 9900}],
             "deadline": NOW - timedelta(days=2), "status": "succeeded", "final_price_fen": 9900, "created_by": "boss",
             "created_at": NOW - timedelta(days=3), "settled_at": NOW - timedelta(days=2)},
            {"group_id": "g1", "product_id": product.id, "basis": "people", "tiers": [{"threshold": 2, "price_fen": 9900}],
             "deadline": NOW - timedelta(days=8), "status": "succeeded", "final_price_fen": 9900, "created_by": "boss",
             "created_at": NOW - timedelta(days=9), "settled_at": NOW - timedelta(days=8)},
        ])
        conn.execute(deals.insert().values(
            group_id="g1", product_id=product.id, price_fen=9900, created_by="boss2", created_at=NOW - timedelta(days=1)))
        for group, status, sent_at in (("g1", "sent", NOW - timedelta(days=1)), ("g1", "pending", None),
                                       ("g1", "sent", NOW - timedelta(days=10)), ("g2", "sent", NOW - timedelta(days=1))):
            delivery = enqueue(conn, group, "推送", NOW - timedelta(days=11))
            conn.execute(update(outbox).where(outbox.c.delivery_id == delivery).values(status=status, sent_at=sent_at))
    at(clock, NOW)
    return chat


EXPECTED = {
    "messages": 12,  # u10 1, u1 3, u2 2, u3 3 (buy, cancel, buy), u4 3; not the joins, not g2
    "active_members": 5,
    "new_members": 4,
    "top_inviters": [{"user_id": "u1", "invited": 2, "name": "u1"}, {"user_id": "u2", "invited": 1, "name": "u2"}],
    "orders": 3,  # u3's cancelled order does not count
    "buyers": 2,
    "repeat_buyers": 1,
    "repurchase_rate": 0.5,
    "gmv_fen": 19900 + 2 * 18900 + 19900,
    "groupbuys_succeeded": 1,
    "pushes_sent": 1,
    "contributors": [
        {"user_id": "u1", "reasons": ["invited", "talked"], "name": "u1"},
        {"user_id": "boss", "reasons": ["groupbuy"], "name": "boss"},
        {"user_id": "boss2", "reasons": ["deal"], "name": "boss2"},
        {"user_id": "u2", "reasons": ["invited"], "name": "u2"},
    ],
    "contributors_count": 4,
}


def test_the_seeded_group_gives_exactly_the_spec_figures(db, clock):
    seed(db, clock)
    with db.read() as conn:
        got = group_stats(conn, "g1", Window.last(NOW, 7), SHANGHAI).to_json()
    assert got == EXPECTED


def test_window_is_open_at_n_days_and_closed_at_now(db, clock):
    seed(db, clock)
    with db.read() as conn:
        before = group_stats(conn, "g1", Window.last(NOW, 7).before(), SHANGHAI)
        one_second_later = group_stats(conn, "g1", Window.last(NOW + timedelta(seconds=1), 7), SHANGHAI)
        one_second_earlier = group_stats(conn, "g1", Window.last(NOW - timedelta(seconds=1), 7), SHANGHAI)
    # exactly 7 days old and 7 days + 1 s old both fall in the week before, not in this one
    assert (before.messages, before.active_members) == (2, 1)
    assert before.groupbuys_succeeded == 1 and before.pushes_sent == 1 and before.orders == 0
    # u10's message, 7 days minus 1 s old at NOW, is exactly 7 days old one second later: out
    assert one_second_later.messages == EXPECTED["messages"] - 1
    # one second earlier u9's "exactly 7 days" message is 7 days minus 1 s old: in
    # (and u3's last order, 1 h before NOW, is still in; nothing happened in the last second)
    assert one_second_earlier.messages == EXPECTED["messages"] + 1


def test_an_empty_window_is_all_zeros_and_a_zero_rate(db, clock):
    seed(db, clock)
    with db.read() as conn:
        s = group_stats(conn, "g1", Window.last(NOW + timedelta(days=30), 7), SHANGHAI).to_json()
    assert s["repurchase_rate"] == 0 and s["buyers"] == 0 and s["messages"] == 0
    assert s["top_inviters"] == [] and s["contributors"] == [] and s["contributors_count"] == 0


def test_talk_days_are_local_days(db, clock):
    chat = Chat(db, clock)
    # 23:00 and 23:30 one Shanghai day, 00:30 the next: one UTC date (15:00, 15:30, 16:30), two local days
    night = NOW - timedelta(days=2, hours=11)  # 23:00 Shanghai
    for minutes in (0, 30, 90):
        at(clock, night + timedelta(minutes=minutes)); chat.send("聊聊", user="owl")
    # 07:00 and 09:00 Shanghai: two UTC dates (23:00, 01:00), one local day
    morning = NOW - timedelta(days=1, hours=3)
    for minutes in (0, 60, 120):
        at(clock, morning + timedelta(minutes=minutes)); chat.send("早安", user="lark")
    # commands do not count as talk
    for days in (3, 2, 1):
        at(clock, NOW - timedelta(days=days)); chat.send("商品", user="shopper")
    with db.read() as conn:
        s = group_stats(conn, "g1", Window.last(NOW, 7), SHANGHAI)
    assert s.contributors == [{"user_id": "owl", "reasons": ["talked"], "name": "owl"}]


def test_the_daily_series_adds_up_to_the_stats(db, clock):
    seed(db, clock)
    w = Window.last(NOW, 7)
    with db.read() as conn:
        days = daily_series(conn, "g1", w, SHANGHAI)
        stats = group_stats(conn, "g1", w, SHANGHAI)
    # 8 local dates: the partial day 7 days ago (from 10:00) to today (until 10:00)
    assert [d.day.isoformat() for d in (days[0], days[-1])] == ["2026-12-01", "2026-12-08"] and len(days) == 8
    assert sum(d.messages for d in days) == stats.messages
    assert sum(d.orders for d in days) == stats.orders
    assert all(d.active_members <= stats.active_members for d in days)
    by_day = {d.day.isoformat(): (d.messages, d.active_members, d.orders) for d in days}
    assert by_day["2026-12-02"] == (2, 1, 0)  # u1 twice
    assert by_day["2026-12-04"] == (3, 1, 0)  # u4's three; the joins are not messages
    assert by_day["2026-12-05"] == (2, 1, 0)  # u3's order and its cancel: the cancelled order is not counted
    assert by_day["2026-12-08"] == (1, 1, 1)  # u3's last order, an hour ago


def test_members_first_and_last_seen_and_invitations(db, clock):
    seed(db, clock)
    with db.read() as conn:
        people = {m.user_id: m for m in members(conn, "g1")}
    u1, u5 = people["u1"], people["u5"]
    assert (u1.first_seen, u1.last_seen, u1.messages, u1.invited, u1.invited_by) == (
        NOW - timedelta(days=6), NOW - timedelta(days=1), 3, 2, None)
    assert (u5.invited_by, u5.messages, u5.first_seen) == ("u1", 0, NOW - timedelta(days=4))
    assert people["u8"].invited_by is None and people["u2"].invited == 1


@pytest.mark.parametrize("now, before, zh, en", [
    (312, 264, "↑18%", "↑18%"), (3, 4, "↓25%", "↓25%"), (5, 0, "新增", "new"), (0, 0, "持平", "flat"),
    (7, 7, "持平", "flat"), (1001, 1000, "↑<1%", "↑<1%"), (0, 3, "↓100%", "↓100%"),
])
def test_change_against_the_week_before(now, before, zh, en):
    assert (change(now, before, "zh"), change(now, before, "en")) == (zh, en)


def test_stats_command_for_the_owner_in_chinese(db, clock):
    chat = seed(db, clock)
    reply = chat.send("统计", user="boss", role="owner")
    lines = reply.splitlines()
    # the 统计 message itself is one of this week's messages, and boss one of its active members
    assert "消息 13（↑550%）" in lines
    assert "活跃成员 6（↑500%）" in lines
    assert "新成员 4（新增）" in lines
    assert "拉新最多：u1 2 人、u2 1 人" in lines
    assert "贡献者 4 人：u1（拉新、常发言）、boss（开团）、boss2（发特价）、u2（拉新）" in lines
    assert "订单 3（新增）" in lines and "买家 2（新增）" in lines
    assert "复购率 50%（1 人买了 2 次及以上）" in lines
    assert "成交额 ¥776.00（新增）" in lines


def test_stats_command_in_english_has_no_chinese(db, clock):
    chat = seed(db, clock)
    reply = chat.send("STATS", user="boss", role="admin")
    assert not CJK.search(reply), reply
    assert "Messages 13 (↑550%)" in reply and "New members 4 (new)" in reply
    assert "Top inviters: u1 (2), u2 (1)" in reply
    assert "u1 (invited, regular talk)" in reply and "GMV ¥776.00 (new)" in reply
    assert "Repurchase rate 50%" in reply


def test_equal_weeks_read_flat(db, clock):
    chat = Chat(db, clock)
    for days in (10, 9):
        at(clock, NOW - timedelta(days=days)); chat.send("hi", user="a")
    at(clock, NOW - timedelta(days=3)); chat.send("hi", user="a")
    at(clock, NOW)
    # the command is this week's second message (last week: two, both from a); this week a and boss
    reply = chat.send("stats", user="boss", role="owner")
    assert "Messages 2 (flat)" in reply and "Active members 2 (↑100%)" in reply and "Orders 0 (flat)" in reply
    assert "Contributors: none yet" in reply and "Top inviters" not in reply


def test_members_are_refused_in_one_sentence_and_nothing_is_shown(db, clock):
    chat = seed(db, clock)
    assert chat.send("统计", user="u1") == "@u1 只有群主或管理员可以用“统计”。"
    assert chat.send("stats", user="u1") == '@u1 Only the group owner or an admin can use "stats".'


def test_a_private_chat_is_told_to_ask_in_a_group(db, clock):
    chat = Chat(db, clock, owners=frozenset({"boss"}))
    msg = make_message("stats", user="boss", group="wechat:boss", channel="wechat", is_private=True)
    assert chat.handle(msg).reply.text == "Send \"stats\" in a group to see that group's figures."


# ---- admin -------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_admin_group_stats_is_the_spec_shape(http, db, clock):
    seed(db, clock)
    r = await http.get("/admin/groups/g1/stats", params={"days": 7}, headers=AUTH)
    assert r.status_code == 200
    assert r.json() == {"group_id": "g1", "days": 7, **EXPECTED}
    assert (await http.get("/admin/groups/g1/stats", headers=AUTH)).json() == r.json()  # 7 is the default
    wide = (await http.get("/admin/groups/g1/stats?days=14", headers=AUTH)).json()
    assert wide["messages"] == 14 and wide["groupbuys_succeeded"] == 2 and wide["pushes_sent"] == 2


@pytest.mark.anyio
@pytest.mark.parametrize("days", ["0", "366", "-1", "x", "1.5"])
async def test_admin_stats_days_out_of_range_is_422_naming_days(http, db, clock, days):
    seed(db, clock)
    for path in ("/admin/groups/g1/stats", "/admin/stats", "/admin/groups/g1/chart.png"):
        r = await http.get(path, params={"days": days}, headers=AUTH)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "days"], path


@pytest.mark.anyio
async def test_admin_unknown_group_is_404(http, db, clock):
    for path in ("/admin/groups/nope/stats", "/admin/groups/nope/chart.png", "/admin/groups/nope/members"):
        assert (await http.get(path, headers=AUTH)).status_code == 404, path
    assert (await http.get("/admin/groups/g1/stats")).status_code == 401


@pytest.mark.anyio
async def test_admin_all_groups_quietest_first(http, db, clock):
    seed(db, clock)
    assert (await http.put("/admin/groups/g3", json={"name": "冷清群"}, headers=AUTH)).status_code == 200
    rows = (await http.get("/admin/stats?days=7", headers=AUTH)).json()
    assert [(r["group_id"], r["name"], r["messages"]) for r in rows] == [("g3", "冷清群", 0), ("g2", None, 1), ("g1", None, 12)]
    g1 = rows[-1]
    assert {k: g1[k] for k in EXPECTED} == EXPECTED
    assert rows[0]["repurchase_rate"] == 0 and rows[0]["top_inviters"] == [] and rows[1]["pushes_sent"] == 1


@pytest.mark.anyio
async def test_admin_members(http, db, clock):
    seed(db, clock)
    rows = (await http.get("/admin/groups/g1/members", headers=AUTH)).json()
    assert rows[0]["user_id"] == "u3"  # seen most recently (its order an hour ago)
    u5 = next(r for r in rows if r["user_id"] == "u5")
    assert u5 == {"user_id": "u5", "name": "u5", "first_seen": (NOW - timedelta(days=4)).isoformat(),
                  "last_seen": (NOW - timedelta(days=4)).isoformat(), "messages": 0, "invited_by": "u1", "invited": 0}


def test_the_command_shows_what_each_week_reads_on_its_own(db, clock):
    chat = seed(db, clock)
    reply = chat.send("统计", user="boss", role="owner")
    w = Window.last(NOW, 7)
    with db.read() as conn:
        cur, prev = group_stats(conn, "g1", w, SHANGHAI), group_stats(conn, "g1", w.before(), SHANGHAI)
    assert reply == "\n".join(render(cur, prev, "zh"))


def _apart(draws) -> list[Window]:
    """Windows that do not overlap, from (minutes before the previous window's start, length in minutes)."""
    out, end = [], NOW
    for gap, minutes in draws:
        end -= timedelta(minutes=gap)
        out.append(Window(end - timedelta(minutes=minutes), end))
        end = out[-1].start
    return out


@pytest.mark.parametrize("rolled", [False, True], ids=["messages", "rolled-up"])
def test_windows_read_together_give_each_window_its_own_figures(db, clock, rolled, monkeypatch):
    seed(db, clock)
    if rolled:
        # The seed spans 8 days; the windows reach back at most 24. Not the job's 400 (empty days cost time).
        monkeypatch.setattr(activity, "HORIZON_DAYS", 30)
        while jobs.roll_up_activity(db, lambda: NOW, tz=SHANGHAI):
            pass
    span = st.integers(1, 6 * 24 * 60)

    @settings(max_examples=20, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from([0, 0, 1, 24 * 60]) | st.integers(0, 3000), span), min_size=1,
                    max_size=3).map(_apart).flatmap(st.permutations))
    def check(windows):
        with db.read() as conn:
            for groups in (["g1"], ["g1", "g2"], None):
                together = stats_by_windows(conn, windows, SHANGHAI, groups)
                apart = [stats_by_group(conn, w, SHANGHAI, groups) for w in windows]
                assert [{g: s.to_json() for g, s in by.items()} for by in together] == [
                    {g: s.to_json() for g, s in by.items()} for by in apart]
            assert [s.to_json() for s in group_stats_over(conn, "g1", windows, SHANGHAI)] == [
                group_stats(conn, "g1", w, SHANGHAI).to_json() for w in windows]

    check()


def test_every_groups_listing_gives_each_group_its_own_figures(db, clock):
    """The listing reads every group's joins and orders as one range by time, not group by group: each row
    is what the group's own read gives, and rows of a group the bot has never seen are left out."""
    chat = seed(db, clock)
    # g2: joins (one inviter twice, the same member twice), a repeat buyer and a cancelled order
    for minutes, msg_id, member, inviter in ((0, "k1", "u5", "u1"), (5, "k2", "u6", "u1"), (10, "k3", "u6", "u1"),
                                             (15, "k4", "u7", None)):
        at(clock, NOW - timedelta(days=3, minutes=-minutes))
        chat.handle(make_message("", group="g2", msg_id=msg_id, event="member_joined", member_id=member,
                                 inviter_id=inviter))
    for days, user, text in ((6, "u1", "下单 A12 1"), (2, "u1", "下单 A12 3"), (1, "u2", "下单 A12 1")):
        at(clock, NOW - timedelta(days=days)); assert "D" in chat.send(text, user=user, group="g2")
    at(clock, NOW - timedelta(days=1, minutes=-1))
    order = re.search(r"D\d+", chat.send("我的订单", user="u2", group="g2")).group(0)
    assert order in chat.send(f"取消 {order}", user="u2", group="g2")
    at(clock, NOW)
    with db.begin() as conn:  # rows of a group not in `groups`, put in by hand
        conn.execute(inbound_messages.insert().values(
            channel="bridge", msg_id="ghost-1", group_id="ghost", sender_id="u8", kind="event", event="member_joined",
            inviter_id="u1", is_command=False, received_at=NOW - timedelta(days=1)))
        conn.execute(orders.insert().values(
            group_id="ghost", user_id="u1", product_id=1, quantity=1, unit_price_fen=100, total_fen=100,
            price_source="price", status="pending", created_at=NOW - timedelta(days=1)))
    with db.read() as conn:
        for w in (Window.last(NOW, 7), Window.last(NOW, 3), Window.last(NOW - timedelta(days=2), 2),
                  Window.last(NOW, 30)):
            every = stats_by_group(conn, w, SHANGHAI, None)
            assert set(every) <= {"g1", "g2"}
            for gid in ("g1", "g2"):
                mine = group_stats(conn, gid, w, SHANGHAI).to_json()
                assert (every[gid].to_json() if gid in every else stats.GroupStats(gid).to_json()) == mine
        g2 = stats_by_group(conn, Window.last(NOW, 7), SHANGHAI, None)["g2"]
    assert (g2.new_members, g2.top_inviters) == (4, [{"user_id": "u1", "invited": 2, "name": "u1"}])
    assert (g2.orders, g2.buyers, g2.repeat_buyers, g2.gmv_fen) == (2, 1, 1, 19900 + 3 * 18900)


def test_the_listing_reads_joins_and_orders_through_the_indexes_by_time(db, clock):
    """What makes the listing one range per figure, not a probe per group: the planners pick the indexes
    that lead with time (PostgreSQL told not to scan tables, which it prefers for a test's few rows)."""
    seed(db, clock)
    statements = []

    def seen(conn, cursor, sql, params, context, many):
        statements.append((sql, params))

    sqlite = db.url.startswith("sqlite")
    with db.read() as conn:
        if not sqlite:
            conn.exec_driver_sql("SET enable_seqscan = off")
        event.listen(conn, "before_cursor_execute", seen)
        stats_by_group(conn, Window.last(NOW, 7), SHANGHAI, None)
        event.remove(conn, "before_cursor_execute", seen)
        for index, reads in (("ix_inbound_joins_time", "'member_joined'"), ("ix_orders_time", "FROM orders")):
            [(sql, params)] = [st for st in statements if reads in st[0]]
            plan = conn.exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql, params).all()
            assert index in " ".join(map(str, plan)), plan


def test_overlapping_windows_are_refused(db):
    w = Window.last(NOW, 7)
    with db.read() as conn, pytest.raises(ValueError):
        stats_by_windows(conn, [w, Window.last(NOW - timedelta(days=1), 7)], SHANGHAI, None)


people = st.sampled_from(["u1", "u2", "u3", "boss", "a"])
keys = st.tuples(st.integers(0, 1), st.sampled_from(["g1", "g2"]))


@given(st.dictionaries(keys, st.dictionaries(people, st.integers(1, 3))),
       st.dictionaries(keys, st.dictionaries(people, st.sets(st.sampled_from(["groupbuy", "deal"]), min_size=1))),
       st.dictionaries(keys, st.lists(people, unique=True)))
def test_contributors_list_each_person_once_with_reasons_in_order_most_reasons_first(invited, opened, talked):
    why: dict = {}
    for source, reason_of in ((invited, lambda _: {"invited"}), (opened, lambda whys: whys), (talked, None)):
        for key, users in source.items():
            for user in users:
                reasons = {"talked"} if reason_of is None else reason_of(users[user])
                why.setdefault(key, {}).setdefault(user, set()).update(reasons)
    expected = {
        key: sorted(({"user_id": u, "reasons": [r for r in stats.REASONS if r in rs]} for u, rs in found.items()),
                    key=lambda c: (-len(c["reasons"]), c["user_id"]))
        for key, found in why.items()
    }
    assert stats._contributors(invited, opened, talked) == {key: listed for key, listed in expected.items() if listed}
