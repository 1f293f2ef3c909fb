"""Sizes, the waitlist and 限购 under real threads through the real dispatcher, on SQLite and PostgreSQL."""
import re
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from helpers import add_product
from storage.tables import groupbuy_participants, groupbuy_waitlist, orders, outbox, product_variants, products

OWNER = {"user": "boss", "role": "owner"}
_PLACE = re.compile(r"已加入候补第 (\d+) 位")


def in_sizes(db, **stock):
    variants = [{"name": name, "stock": n} for name, n in stock.items()]
    add_product(db, stock=sum(stock.values()), variants=variants)


def stocks(db):
    with db.read() as c:
        return (c.execute(select(products.c.stock)).scalar_one(),
                dict(c.execute(select(product_variants.c.name, product_variants.c.stock)).all()))


def joins(db):
    with db.read() as c:
        return c.execute(select(groupbuy_participants.c.user_id, groupbuy_participants.c.join_no,
                                groupbuy_participants.c.quantity).order_by(groupbuy_participants.c.join_no)).all()


def line(db):
    with db.read() as c:
        return list(c.execute(select(groupbuy_waitlist.c.user_id).order_by(groupbuy_waitlist.c.id)).scalars())


def test_60_joins_of_one_size_with_25_in_stock_then_10_leaves_promote_exactly_10_in_line_order(chat, db):
    in_sizes(db, **{"42码": 25, "43码": 100})
    chat.send("开团 A12 10:150 20:120", **OWNER)
    with ThreadPoolExecutor(max_workers=30) as pool:
        replies = dict(zip(range(60), pool.map(lambda i: chat.send("参团 1 42码 1", user=f"u{i}"), range(60))))
    winners = sorted(i for i, r in replies.items() if "参团成功" in r)
    queued = {i: int(m.group(1)) for i, r in replies.items() if (m := _PLACE.search(r))}
    assert len(winners) == 25 and len(queued) == 35 and set(winners).isdisjoint(queued)
    assert stocks(db) == (100, {"42码": 0, "43码": 100})
    # A strict order: the places told are 1..35 once each, and they are the order of the line itself.
    assert sorted(queued.values()) == list(range(1, 36))
    order = line(db)
    assert [f"u{i}" for i in sorted(queued, key=queued.get)] == order
    assert [no for _, no, _ in joins(db)] == list(range(1, 26))

    leavers = [f"u{i}" for i in winners[:10]]
    with ThreadPoolExecutor(max_workers=10) as pool:
        left = list(pool.map(lambda u: chat.send("退团 1", user=u), leavers))
    assert all(r.startswith(f"@{u} 已退出团购 #1，1 件已退回库存") for u, r in zip(leavers, left))
    assert stocks(db) == (100, {"42码": 0, "43码": 100})
    promoted = [u for u, no, _ in joins(db) if no > 25]
    assert promoted == order[:10]  # the first ten in line, in line order, numbers 26..35
    assert [no for _, no, _ in joins(db)][-10:] == list(range(26, 36))
    assert line(db) == order[10:]
    with db.read() as c:
        told = list(c.execute(select(outbox.c.text).where(outbox.c.text.like("候补递补成功%")).order_by(outbox.c.id)).scalars())
    assert [t.split("：")[1].split()[0] for t in told] == order[:10]
    with db.read() as c:  # never waiting and joined for the same size
        both = c.execute(select(groupbuy_waitlist.c.user_id).where(
            groupbuy_waitlist.c.user_id.in_(select(groupbuy_participants.c.user_id)))).all()
    assert both == []


def test_40_orders_over_4_sizes_with_5_each_make_20_orders_and_empty_every_size(chat, db):
    in_sizes(db, **{"39码": 5, "40码": 5, "41码": 5, "42码": 5})
    names = ["39码", "40码", "41码", "42码"]
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda i: chat.send(f"下单 A12 {names[i % 4]} 1", user=f"u{i}"), range(40)))
    assert sum(r.startswith(f"@u{i} 下单成功") for i, r in enumerate(replies)) == 20
    assert sum(r.endswith("已经卖完了。") for r in replies) == 20
    assert stocks(db) == (0, {n: 0 for n in names})
    with db.read() as c:
        per_size = c.execute(select(orders.c.variant, orders.c.quantity)).all()
    assert sorted(v for v, _ in per_size) == sorted(names * 5)


def test_a_limit_of_3_under_20_concurrent_plus_one_from_one_member_gives_exactly_3_pieces(chat, db):
    sizes = [f"{n}码" for n in range(39, 46)]
    in_sizes(db, **{s: 10 for s in sizes})
    chat.send("开团 A12 2:150 限购 3", **OWNER)
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda i: chat.send(f"+1 {sizes[i % 7]}", user="amy"), range(20)))
    held = joins(db)
    assert sum(q for _, _, q in held) == 3 and len(held) == 3
    assert sum("参团成功" in r for r in replies) == 3
    refused = [r for r in replies if "参团成功" not in r and "你已在团购" not in r]
    assert refused and all(r.startswith("@amy 团购 #1 每人限购 3 件，你已有 3 件") for r in refused)
    assert stocks(db)[0] == 70 - 3
