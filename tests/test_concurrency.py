"""Stock never oversells and a message id is acted on once, under many simultaneous requests."""
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from helpers import add_product, make_message
from storage.tables import inbound_messages, orders, products


def test_100_concurrent_orders_for_stock_30_sell_exactly_30(chat, db):
    add_product(db, stock=30)
    with ThreadPoolExecutor(max_workers=32) as pool:
        replies = list(pool.map(lambda i: chat.send("下单 A12 1", user=f"u{i}"), range(100)))
    assert sum("下单成功" in r for r in replies) == 30
    assert sum("卖完了" in r or "只剩" in r for r in replies) == 70
    with db.read() as c:
        assert c.execute(select(products.c.stock)).scalar_one() == 0
        assert c.execute(select(func.count(), func.sum(orders.c.quantity)).select_from(orders)).one() == (30, 30)


def test_20_concurrent_copies_of_one_message_make_one_order_and_one_answer(chat, db):
    add_product(db)
    msg = make_message("下单 A12 2", msg_id="dup-1")
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: chat.handle(msg), range(20)))
    answers = {r.reply.text for r in results}
    assert len(answers) == 1 and "订单号 D1" in answers.pop()
    assert sum(not r.duplicate for r in results) == 1
    with db.read() as c:
        assert c.execute(select(func.count()).select_from(orders)).scalar_one() == 1
        assert c.execute(select(func.count()).select_from(inbound_messages)).scalar_one() == 1
        assert c.execute(select(products.c.stock)).scalar_one() == 2998


def test_concurrent_cancels_return_stock_once(chat, db):
    add_product(db, stock=10)
    chat.send("下单 A12 4", user="alice")
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: chat.send("取消 D1", user="alice"), range(8)))
    assert sum("已取消订单" in r for r in replies) == 1
    with db.read() as c:
        assert c.execute(select(products.c.stock)).scalar_one() == 10
