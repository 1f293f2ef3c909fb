"""The demo data: loaded once into an empty database, a no-op afterwards, and valid by the admin API's rules."""
from __future__ import annotations

from sqlalchemy import func, select

from catalog.deals import active_deal
from catalog.demo import DEMO_GROUP, demo_products, load_demo
from catalog.groups import get_group
from catalog.products import get_product
from helpers import T0, add_product
from storage.tables import content_items, deals, products


def counts(db):
    with db.read() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (products, content_items, deals))


def test_the_demo_catalog_validates_and_holds_the_sneakers():
    items = demo_products()
    assert 7 <= len(items) <= 11
    assert len({i["code"] for i in items}) == len(items)
    shoes = next(i for i in items if i["code"] == "A12")
    assert (shoes["name"], shoes["price_fen"], shoes["market_price_fen"], shoes["stock"]) == ("潮流男鞋", 19900, 39900, 3000)
    assert shoes["tiers"] == [(2, 18900), (5, 16900)]
    assert len({i["category"] for i in items}) >= 5


def test_load_demo_loads_once_then_is_a_no_op(db):
    assert load_demo(db, T0) is True
    n_products, n_content, n_deals = counts(db)
    assert n_products == len(demo_products()) and n_content >= 3 and n_deals == 1
    with db.read() as conn:
        group = get_group(conn, DEMO_GROUP)
        assert (group.name, group.owners, group.push_target, group.nudge_after_hours) == ("潮鞋团", ["owner"], None, 24)
        shoes = get_product(conn, "A12")
        assert shoes.unit_price(2) == 18900 and shoes.unit_price(5) == 16900
        deal = active_deal(conn, DEMO_GROUP, get_product(conn, "B01").id, T0)
        assert deal is not None and deal.price_fen < get_product(conn, "B01").price_fen
    assert load_demo(db, T0) is False
    assert counts(db) == (n_products, n_content, n_deals)


def test_load_demo_leaves_a_database_with_products_alone(db):
    add_product(db, code="Z9", name="自己的商品")
    assert load_demo(db, T0) is False
    assert counts(db) == (1, 0, 0)
    with db.read() as conn:
        assert get_group(conn, DEMO_GROUP) is None
