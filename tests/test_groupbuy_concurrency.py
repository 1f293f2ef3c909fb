"""Group buys under real threads on both databases: joins never oversell, a group buy settles once."""
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from catalog.groupbuys import NotParticipating, join_groupbuy, leave_groupbuy
from handlers.announcements import settle_groupbuy
from catalog.orders import OutOfStock
from helpers import add_product
from storage.tables import groupbuy_events, groupbuy_participants, groupbuys, orders, products

OWNER = {"user": "boss", "role": "owner"}


def snapshot(db):
    with db.read() as c:
        stock = c.execute(select(products.c.stock)).scalar_one()
        people = c.execute(
            select(groupbuy_participants.c.join_no, groupbuy_participants.c.quantity)
        ).all()
        order_rows = c.execute(select(orders.c.user_id, orders.c.quantity, orders.c.unit_price_fen)).all()
        settled = c.execute(
            select(func.count()).where(groupbuy_events.c.kind.in_(["settled", "failed"]))
        ).scalar_one()
    return stock, people, order_rows, settled


def test_60_people_join_at_once_through_the_chat_and_exactly_25_get_the_25_pieces(chat, db):
    add_product(db, stock=25)
    chat.send("开团 A12 10:150 20:120", **OWNER)
    with ThreadPoolExecutor(max_workers=30) as pool:
        replies = list(pool.map(lambda i: chat.send("参团 1", user=f"u{i}"), range(60)))
    assert sum("参团成功" in r for r in replies) == 25
    assert sum(r.startswith(f"@u{i} A12 已经卖完了，已加入候补") for i, r in enumerate(replies)) == 35  # the rest wait in line
    stock, people, _, _ = snapshot(db)
    assert stock == 0
    assert sorted(no for no, _ in people) == list(range(1, 26))  # join numbers 1..25, none twice


def test_60_catalog_joins_each_in_its_own_transaction_never_oversell(db, chat, clock):
    add_product(db, stock=25)
    chat.send("开团 A12 10:150", **OWNER)

    def join(i):
        with db.begin() as conn:
            return join_groupbuy(conn, 1, f"u{i}", 1 + i % 2, clock()).kind == "joined"  # else waitlisted

    with ThreadPoolExecutor(max_workers=30) as pool:
        joined = list(pool.map(join, range(60)))
    stock, people, _, _ = snapshot(db)
    assert stock + sum(q for _, q in people) == 25 and stock >= 0
    assert sum(joined) == len(people) and stock < 2  # a join was refused only when it no longer fit


def test_joins_changes_and_leaves_racing_keep_stock_and_participants_consistent(db, chat, clock):
    add_product(db, stock=40)
    chat.send("开团 A12 2:150", **OWNER)

    def act(i):
        user = f"u{i % 12}"
        try:
            with db.begin() as conn:
                if i % 3 == 2:
                    leave_groupbuy(conn, 1, user, clock())
                else:
                    join_groupbuy(conn, 1, user, 1 + i % 4, clock())
        except (NotParticipating, OutOfStock):  # expected refusals; anything else fails the test
            pass

    with ThreadPoolExecutor(max_workers=24) as pool:
        list(pool.map(act, range(120)))
    stock, people, _, _ = snapshot(db)
    assert stock + sum(q for _, q in people) == 40


def test_concurrent_settlements_settle_once_with_one_set_of_orders(db, chat, clock):
    add_product(db, stock=100)
    chat.send("开团 A12 2:150 4:120", **OWNER)
    for i in range(5):
        chat.send("参团 1 2", user=f"u{i}")

    def settle(_):
        with db.begin() as conn:
            return settle_groupbuy(conn, 1, clock())

    with ThreadPoolExecutor(max_workers=16) as pool:
        texts = list(pool.map(settle, range(16)))
    assert sum(t is not None for t in texts) == 1
    stock, _, order_rows, settled = snapshot(db)
    assert settled == 1 and stock == 90
    assert sorted(order_rows) == [(f"u{i}", 2, 12000) for i in range(5)]


def test_close_racing_the_deadline_job_settles_once(db, chat, clock):
    add_product(db, stock=100)
    chat.send("开团 A12 3:150", **OWNER)
    chat.send("参团 1", user="amy")  # below the first tier: it fails, stock must come back exactly once
    clock.advance(hours=24)

    def race(i):
        if i % 2:
            return chat.send("结束 1", **OWNER)
        with db.begin() as conn:
            return settle_groupbuy(conn, 1, clock())

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(race, range(12)))
    announcements = [r for r in results if r and "未成团" in r]
    assert len(announcements) == 1
    stock, _, order_rows, settled = snapshot(db)
    assert (stock, order_rows, settled) == (100, [], 1)
    with db.read() as c:
        assert c.execute(select(groupbuys.c.status)).scalar_one() == "failed"


def test_ten_owners_opening_a_group_buy_on_one_product_at_once_open_exactly_one(chat, db):
    add_product(db)
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda i: chat.send("开团 A12 3:150", user=f"boss{i}", role="owner"), range(10)))
    assert sum("已有 A12 的团购 #" in r for r in replies) == 9
    with db.read() as c:
        assert c.execute(select(func.count()).select_from(groupbuys).where(groupbuys.c.status == "open")).scalar_one() == 1
