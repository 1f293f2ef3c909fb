"""Flash deals: a group's special price on one product, optionally limited in pieces, until a deadline; posting them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection

from catalog.products import Product
from storage.prepared import Prepared
from storage.tables import deals


@dataclass
class Deal:
    id: int
    group_id: str
    product_id: int
    price_fen: int
    limit_qty: int | None
    sold_qty: int
    ends_at: datetime | None

    @property
    def left(self) -> int | None:
        return None if self.limit_qty is None else self.limit_qty - self.sold_qty


_COLUMNS = (
    deals.c.id,
    deals.c.group_id,
    deals.c.product_id,
    deals.c.price_fen,
    deals.c.limit_qty,
    deals.c.sold_qty,
    deals.c.ends_at,
)


def _live(now: datetime):
    return and_(
        deals.c.active.is_(True),
        or_(deals.c.ends_at.is_(None), deals.c.ends_at > now),
        or_(deals.c.limit_qty.is_(None), deals.c.sold_qty < deals.c.limit_qty),
    )


# Every 下单 (and 详情) looks for a deal: prepared once (storage/prepared.py).
_ACTIVE_DEAL = Prepared(
    select(*_COLUMNS)
    .where(deals.c.group_id == bindparam("group_id"), deals.c.product_id == bindparam("product_id"), _live(bindparam("now")))
    .order_by(deals.c.price_fen, deals.c.id)
    .limit(1)
)


def active_deal(conn: Connection, group_id: str, product_id: int, now: datetime) -> Deal | None:
    """The lowest live deal for this product in this group, if any."""
    row = _ACTIVE_DEAL.first(conn, {"group_id": group_id, "product_id": product_id, "now": now})
    return None if row is None else Deal(*row)


def live_deals(conn: Connection, group_id: str, now: datetime) -> list[Deal]:
    rows = conn.execute(select(*_COLUMNS).where(deals.c.group_id == group_id, _live(now)).order_by(deals.c.id))
    return [Deal(*r) for r in rows]


def take_deal_quota(conn: Connection, deal_id: int, qty: int) -> bool:
    """Atomically count qty pieces against the deal's limit; False when they do not all fit."""
    result = conn.execute(
        update(deals)
        .where(
            deals.c.id == deal_id,
            or_(deals.c.limit_qty.is_(None), deals.c.sold_qty + qty <= deals.c.limit_qty),
        )
        .values(sold_qty=deals.c.sold_qty + qty)
    )
    return result.rowcount == 1


def return_deal_quota(conn: Connection, deal_id: int, qty: int) -> None:
    conn.execute(update(deals).where(deals.c.id == deal_id).values(sold_qty=deals.c.sold_qty - qty))


def post_deal(
    conn: Connection, *, group_id: str, product: Product, price_fen: int, limit_qty: int | None,
    ends_at: datetime | None, created_by: str, now: datetime,
) -> int:
    """A new flash deal for this group; it replaces the group's earlier deals on the same product
    (otherwise the lowest of them would keep winning). Returns the deal id."""
    conn.execute(
        update(deals)
        .where(deals.c.group_id == group_id, deals.c.product_id == product.id, deals.c.active.is_(True))
        .values(active=False)
    )
    return conn.execute(
        insert(deals).values(
            group_id=group_id, product_id=product.id, price_fen=price_fen, limit_qty=limit_qty, sold_qty=0,
            ends_at=ends_at, created_by=created_by, created_at=now, active=True,
        )
    ).inserted_primary_key[0]
