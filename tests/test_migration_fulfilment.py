"""Migration 0002_fulfilment on a database that already holds orders from 0001, on both databases."""
from sqlalchemy import select, text

from helpers import T0, Chat
from storage.migrate import upgrade
from storage.tables import orders

OWNER = {"user": "boss", "role": "owner"}


def _fill_at_0001(db):
    """Rows as 0001 knew them, written with plain SQL of 0001's columns only."""
    with db.engine.begin() as c:
        c.execute(text(
            "INSERT INTO products (id, code, name, description, category, price_fen, stock, active, created_at, updated_at)"
            " VALUES (1, 'A12', '潮流男鞋', '', '鞋', 19900, 100, :t, :ts, :ts)"), {"t": True, "ts": T0.replace(tzinfo=None)})
        c.execute(text(
            "INSERT INTO groupbuys (id, group_id, product_id, basis, tiers, deadline, status, final_price_fen, created_by, created_at)"
            " VALUES (1, 'g1', 1, 'people', '[{\"threshold\": 2, \"price_fen\": 15000}]', :ts, 'succeeded', 15000, 'boss', :ts)"),
            {"ts": T0.replace(tzinfo=None)})
        for i, user in ((1, "amy"), (2, "bob")):
            c.execute(text("INSERT INTO groupbuy_participants (groupbuy_id, user_id, quantity, join_no, joined_at)"
                           " VALUES (1, :u, 1, :n, :ts)"), {"u": user, "n": i, "ts": T0.replace(tzinfo=None)})
        rows = [  # two group-buy orders (confirmed), one pending, one cancelled
            (1, "amy", 15000, "groupbuy", "confirmed", 1), (2, "bob", 15000, "groupbuy", "confirmed", 1),
            (3, "cat", 19900, "price", "pending", None), (4, "dan", 19900, "price", "cancelled", None),
        ]
        for oid, user, price, source, status, gb in rows:
            c.execute(text(
                "INSERT INTO orders (id, group_id, user_id, product_id, quantity, unit_price_fen, total_fen, price_source,"
                " status, groupbuy_id, created_at) VALUES (:id, 'g1', :u, 1, 1, :p, :p, :s, :st, :gb, :ts)"),
                {"id": oid, "u": user, "p": price, "s": source, "st": status, "gb": gb, "ts": T0.replace(tzinfo=None)})
        if db.is_postgres:  # explicit ids: move the sequences past them
            for table in ("products", "groupbuys", "groupbuy_participants", "orders"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def test_upgrading_a_filled_0001_database_keeps_its_orders_and_they_can_be_fulfilled(empty_db):
    db = empty_db
    upgrade(db, "0001")
    _fill_at_0001(db)
    upgrade(db)
    with db.read() as c:
        got = c.execute(select(orders.c.id, orders.c.status, orders.c.join_no, orders.c.confirmed_at,
                               orders.c.collected_at, orders.c.pickup_point).order_by(orders.c.id)).all()
    assert [(r.id, r.status, r.join_no, r.collected_at, r.pickup_point) for r in got] == [
        (1, "confirmed", 1, None, None), (2, "confirmed", 2, None, None),
        (3, "pending", None, None, None), (4, "cancelled", None, None, None),
    ]
    assert got[0].confirmed_at == T0 and got[2].confirmed_at is None
    chat = Chat(db)
    chat.clock.advance(hours=1)
    chat.send("自提点 添加 东门快递柜", **OWNER)
    chat.send("自提 东门快递柜", user="cat")
    assert "已确认 1 笔订单" in chat.send("确认 D3", **OWNER)
    assert "已核销 1 笔订单" in chat.send("核销 D1", **OWNER)
    assert "D4 已取消" in chat.send("确认 D4", **OWNER)
    waiting = chat.send("未取", **OWNER)
    assert "D3 cat" in waiting and "D2 #2 bob" in waiting and "D1 " not in waiting
    assert "订单号 D5" in chat.send("下单 A12 1", user="eve")  # new rows after the old ones
    with db.read() as c:
        assert c.execute(select(orders.c.pickup_point).where(orders.c.id == 3)).scalar_one() == "东门快递柜"
