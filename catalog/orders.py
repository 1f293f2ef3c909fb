"""Orders: placing one at the best price with stock taken atomically, cancelling, listing."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from catalog.deals import active_deal, return_deal_quota, take_deal_quota
from catalog.products import Product, return_stock, stock_left, take_stock
from pricing.quote import Quote, quote
from storage.prepared import Prepared
from storage.tables import orders, products

_ORDER_NO = re.compile(r"^D?(\d{1,12})$", re.IGNORECASE)
_PLACED = (
    "group_id", "user_id", "product_id", "quantity", "unit_price_fen", "total_fen", "price_source", "status",
    "deal_id", "created_at", "variant",
)
# Every 下单 runs it: prepared once (storage/prepared.py).
_INSERT_ORDER = Prepared(insert(orders).values({c: bindparam(c) for c in _PLACED}).returning(orders.c.id))


class OutOfStock(Exception):
    def __init__(self, left: int):
        super().__init__(f"only {left} left")
        self.left = left


class CancelRefused(Exception):
    """`reason` is "missing" (no such order of this sender) or "not_pending"."""

    def __init__(self, reason: str, status: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class Order:
    id: int
    group_id: str
    user_id: str
    product_code: str
    product_name: str
    quantity: int
    unit_price_fen: int
    total_fen: int
    price_source: str
    status: str
    created_at: datetime
    product_id: int
    deal_id: int | None
    groupbuy_id: int | None
    # Fulfilment (catalog.fulfilment): None until confirmed / collected / in a group buy.
    pickup_point: str | None = None
    collected_at: datetime | None = None
    join_no: int | None = None
    variant: str = ""  # the variant's name; "" for a product without variants

    @property
    def order_no(self) -> str:
        return order_no(self.id)

    def to_json(self) -> dict[str, Any]:
        return {
            "order_no": self.order_no,
            "group_id": self.group_id,
            "user_id": self.user_id,
            "product_code": self.product_code,
            "variant": self.variant,
            "quantity": self.quantity,
            "unit_price_fen": self.unit_price_fen,
            "total_fen": self.total_fen,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "join_no": self.join_no,
            "pickup_point": self.pickup_point,
            "collected_at": None if self.collected_at is None else self.collected_at.isoformat(),
            "user_name": self.user_id,
        }


def order_no(order_id: int) -> str:
    return f"D{order_id}"


def parse_order_no(text: str) -> int | None:
    """`D17`, `d17`, `Ｄ１７` or `17` -> 17."""
    m = _ORDER_NO.match(unicodedata.normalize("NFKC", text).strip())
    return int(m.group(1)) if m else None


def place_order(
    conn: Connection, *, group_id: str, user_id: str, product: Product, qty: int, now: datetime, variant: str = ""
) -> tuple[Order, Quote]:
    """Order qty pieces (of `variant`, which a product with variants needs) at the best price
    (SPEC section 7). Raises OutOfStock; the caller's transaction (or savepoint) rolls back
    whatever was taken before the raise."""
    deal = active_deal(conn, group_id, product.id, now)
    q = quote(product.price_fen, product.ladder, qty, deal.price_fen if deal else None)
    deal_id = None
    if q.source == "deal":
        if take_deal_quota(conn, deal.id, qty):
            deal_id = deal.id
        else:  # the deal's limit ran out (or this order does not fit in what is left): normal price
            q = quote(product.price_fen, product.ladder, qty, None)
    if not take_stock(conn, product.id, qty, variant):
        raise OutOfStock(stock_left(conn, product.id, variant))
    order_id = _INSERT_ORDER.returned(
        conn,
        {
            "group_id": group_id,
            "user_id": user_id,
            "product_id": product.id,
            "quantity": qty,
            "unit_price_fen": q.unit_price_fen,
            "total_fen": q.total_fen,
            "price_source": q.source,
            "status": "pending",
            "deal_id": deal_id,
            "created_at": now,
            "variant": variant,
        },
    )
    order = Order(
        order_id, group_id, user_id, product.code, product.name, qty, q.unit_price_fen, q.total_fen,
        q.source, "pending", now, product.id, deal_id, None, variant=variant,
    )
    return order, q


def cancel_order(conn: Connection, order_id: int, user_id: str, now: datetime) -> Order:
    """Cancel the sender's own pending order and give its stock (and deal quota) back."""
    order = get_order(conn, order_id)
    if order is None or order.user_id != user_id:
        raise CancelRefused("missing")
    # Conditional on the status: two cancels racing return the stock once.
    done = conn.execute(
        update(orders)
        .where(orders.c.id == order_id, orders.c.status == "pending")
        .values(status="cancelled", cancelled_at=now)
    ).rowcount
    if not done:
        raise CancelRefused("not_pending", order.status)
    return_stock(conn, order.product_id, order.quantity, order.variant)
    if order.deal_id is not None:
        return_deal_quota(conn, order.deal_id, order.quantity)
    order.status = "cancelled"
    return order


_SELECT = select(
    orders.c.id,
    orders.c.group_id,
    orders.c.user_id,
    products.c.code,
    products.c.name,
    orders.c.quantity,
    orders.c.unit_price_fen,
    orders.c.total_fen,
    orders.c.price_source,
    orders.c.status,
    orders.c.created_at,
    orders.c.product_id,
    orders.c.deal_id,
    orders.c.groupbuy_id,
    orders.c.pickup_point,
    orders.c.collected_at,
    orders.c.join_no,
    orders.c.variant,
).join(products, products.c.id == orders.c.product_id)


def get_order(conn: Connection, order_id: int) -> Order | None:
    row = conn.execute(_SELECT.where(orders.c.id == order_id)).first()
    return None if row is None else Order(*row)


def list_orders(
    conn: Connection,
    *,
    group_id: str | None = None,
    user_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Order]:
    q = _SELECT
    if group_id is not None:
        q = q.where(orders.c.group_id == group_id)
    if user_id is not None:
        q = q.where(orders.c.user_id == user_id)
    if status is not None:
        q = q.where(orders.c.status == status)
    rows = conn.execute(q.order_by(orders.c.id.desc()).offset(offset).limit(limit))
    return [Order(*r) for r in rows]
