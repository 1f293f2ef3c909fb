"""The demo data of `tuanbot serve --demo`: the catalog in demo_catalog.json, the group 潮鞋团, its content and a flash deal."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from catalog.groups import put_group
from catalog.products import create_product, get_product, validate_product
from storage.db import Database
from storage.tables import content_items, deals, products

DEMO_GROUP = "demo"
DEMO_GROUP_FIELDS = {"name": "潮鞋团", "owners": ["owner"], "push_target": None, "nudge_after_hours": 24}
# What a quiet demo group is sent, in order (content_items feeds the nudges).
DEMO_CONTENT = (
    "早上好！今天群里的潮流男鞋 A12 还有现货，2 双起每双 ¥189，5 双起 ¥169，发送「详情 A12」看看。",
    "赣南脐橙限时特价进行中，发送「团购」查看，手慢无～",
    "新人进群发送「帮助」就能看到所有口令：商品、下单、参团都在这里。",
    "周末囤货清单：抽纸、洗衣凝珠、每日坚果，群里价格比超市低三成，发送「商品」浏览。",
)
# One flash deal in the demo group: the oranges at ¥29.90 for the first 200 boxes, for a week.
DEMO_DEAL = {"code": "B01", "price_fen": 2990, "limit_qty": 200, "days": 7}


def demo_products() -> list[dict[str, Any]]:
    """The demo catalog, validated with the admin API's rules (a bad edit to the JSON fails here)."""
    raw = json.loads(resources.files("catalog").joinpath("demo_catalog.json").read_text(encoding="utf-8"))
    return [validate_product(item) for item in raw]


def load_demo(db: Database, now: datetime) -> bool:
    """Loads the demo catalog, group, content and deal into a database without products; True if it did.

    Everything is one transaction: the emptiness check and the load commit together, so two
    processes started with --demo at once cannot both load (the second trips over the unique
    product code, rolls back whole and reports False).
    """
    items = demo_products()
    try:
        with db.begin() as conn:
            if conn.execute(select(products.c.id).limit(1)).first() is not None:
                return False
            for item in items:
                create_product(conn, item, now)
            put_group(conn, DEMO_GROUP, DEMO_GROUP_FIELDS, now)
            conn.execute(
                insert(content_items),
                [{"group_id": DEMO_GROUP, "text": text, "created_at": now} for text in DEMO_CONTENT],
            )
            product = get_product(conn, DEMO_DEAL["code"])
            conn.execute(
                insert(deals).values(
                    group_id=DEMO_GROUP,
                    product_id=product.id,
                    price_fen=DEMO_DEAL["price_fen"],
                    limit_qty=DEMO_DEAL["limit_qty"],
                    sold_qty=0,
                    ends_at=now + timedelta(days=DEMO_DEAL["days"]),
                    created_by=DEMO_GROUP_FIELDS["owners"][0],
                    created_at=now,
                    active=True,
                )
            )
    except IntegrityError:
        return False
    return True
