"""After the sale: confirming orders, marking them collected (核销), what waits by pickup point,
pick lists and the rows of the order spreadsheet. Every change is one conditional UPDATE checked
by its row count, so two owners acting on one order at once have exactly one effect."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from catalog.members import name_of
from catalog.orders import Order, get_order, order_no
from storage.tables import groupbuys, member_pickups, members, orders, products

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


@dataclass
class Outcome:
    """One order of a 确认/核销: `ok`, or `reason` "missing" (not in this group), "cancelled",
    "pending" (not confirmed yet), "confirmed" (already), "collected" (already; `order.collected_at`)."""

    order_id: int
    ok: bool
    reason: str | None = None
    order: Order | None = None
    user_name: str = ""

    @property
    def order_no(self) -> str:
        return order_no(self.order_id)


def chosen_point(group_id, user_id):
    """The pickup point a member has chosen in a group, as an expression over the columns given (a
    group buy's orders are made confirmed, with it, in one INSERT … SELECT: catalog.groupbuys.settle)."""
    return (
        select(member_pickups.c.pickup_point)
        .where(member_pickups.c.group_id == group_id, member_pickups.c.user_id == user_id)
        .scalar_subquery()
    )


def _members_point():
    """The member's chosen pickup point, for the order being updated."""
    return chosen_point(orders.c.group_id, orders.c.user_id)


def _in_group(conn: Connection, group_id: str, order_id: int) -> Order | None:
    if not 1 <= order_id <= MAX_ID:
        return None
    order = get_order(conn, order_id)
    return order if order is not None and order.group_id == group_id else None


def _why_not(order: Order | None) -> str:
    if order is None:
        return "missing"
    if order.status == "confirmed" and order.collected_at is not None:
        return "collected"
    return order.status


def _outcome(conn: Connection, group_id: str, order_id: int, done: bool) -> Outcome:
    order = _in_group(conn, group_id, order_id)
    if done:
        return Outcome(order_id, True, None, order, name_of(conn, group_id, order.user_id))
    return Outcome(order_id, False, _why_not(order), order)


def confirm(conn: Connection, group_id: str, order_id: int, now: datetime) -> Outcome:
    """pending -> confirmed, taking the member's pickup point as it is now."""
    done = 0
    if 1 <= order_id <= MAX_ID:
        done = conn.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.group_id == group_id, orders.c.status == "pending")
            .values(status="confirmed", confirmed_at=now, pickup_point=_members_point())
        ).rowcount
    return _outcome(conn, group_id, order_id, done == 1)


def collect(conn: Connection, group_id: str, order_id: int, now: datetime) -> Outcome:
    """A confirmed order handed over (核销): collected_at set, once."""
    done = 0
    if 1 <= order_id <= MAX_ID:
        done = conn.execute(
            update(orders)
            .where(
                orders.c.id == order_id, orders.c.group_id == group_id, orders.c.status == "confirmed",
                orders.c.collected_at.is_(None),
            )
            .values(collected_at=now)
        ).rowcount
    return _outcome(conn, group_id, order_id, done == 1)


def give_point_to_waiting_orders(conn: Connection, group_id: str, user_id: str, name: str) -> int:
    """A member who chooses a point after some orders were confirmed without one: those (not yet
    collected) go to it. Orders that already have a point keep it."""
    return conn.execute(
        update(orders)
        .where(
            orders.c.group_id == group_id, orders.c.user_id == user_id, orders.c.status == "confirmed",
            orders.c.collected_at.is_(None), orders.c.pickup_point.is_(None),
        )
        .values(pickup_point=name)
    ).rowcount


# ---- reading: what waits, pick lists, spreadsheet rows ----------------------------------------

@dataclass
class Line:
    """One order as the fulfilment views show it."""

    id: int
    join_no: int | None
    user_id: str
    product_code: str
    product_name: str
    variant: str
    quantity: int
    unit_price_fen: int
    total_fen: int
    status: str
    pickup_point: str | None
    created_at: datetime
    collected_at: datetime | None
    groupbuy_id: int | None
    user_name: str  # the member's name in the group, else the id

    @property
    def order_no(self) -> str:
        return order_no(self.id)

    @property
    def state(self) -> str:
        """pending | confirmed | collected | cancelled."""
        return "collected" if self.status == "confirmed" and self.collected_at is not None else self.status


_LINE = (
    select(
        orders.c.id, orders.c.join_no, orders.c.user_id, products.c.code, products.c.name, orders.c.variant,
        orders.c.quantity, orders.c.unit_price_fen, orders.c.total_fen, orders.c.status, orders.c.pickup_point,
        orders.c.created_at, orders.c.collected_at, orders.c.groupbuy_id,
        func.coalesce(members.c.name, orders.c.user_id),
    )
    .join(products, products.c.id == orders.c.product_id)
    .outerjoin(members, (members.c.group_id == orders.c.group_id) & (members.c.user_id == orders.c.user_id))
)

def lines(
    conn: Connection, group_id: str, *, groupbuy_id: int | None = None, state: str | None = None,
    pickup_point: str | None = None, limit: int | None = None,
) -> Iterator[Line]:
    """The group's orders, oldest first, streamed (PostgreSQL: a server-side cursor).
    `state`: pending, confirmed (collected or not), collected, uncollected (confirmed, not yet) or cancelled."""
    q = _LINE.where(orders.c.group_id == group_id)
    if groupbuy_id is not None:
        q = q.where(orders.c.groupbuy_id == groupbuy_id)
    if state in ("pending", "confirmed", "cancelled"):
        q = q.where(orders.c.status == state)
    elif state == "collected":
        q = q.where(orders.c.status == "confirmed", orders.c.collected_at.is_not(None))
    elif state == "uncollected":
        q = q.where(orders.c.status == "confirmed", orders.c.collected_at.is_(None))
    if pickup_point is not None:
        q = q.where(orders.c.pickup_point == pickup_point) if pickup_point else q.where(orders.c.pickup_point.is_(None))
    q = q.order_by(orders.c.id)
    if limit is not None:
        q = q.limit(limit)
    for row in conn.execute(q.execution_options(yield_per=1000)):
        yield Line(*row)


def groupbuy_in_group(conn: Connection, group_id: str, groupbuy_id: int) -> bool:
    if not 1 <= groupbuy_id <= MAX_ID:
        return False
    found = conn.execute(
        select(groupbuys.c.id).where(groupbuys.c.id == groupbuy_id, groupbuys.c.group_id == group_id)
    ).first()
    return found is not None


def picklist(conn: Connection, group_id: str, groupbuy_id: int | None, point_order: list[str]) -> dict[str, Any]:
    """Confirmed orders not yet collected: the quantity per product, and the orders per pickup point
    (the group's points in their order, then names no longer on the list, then "" for no point)."""
    products_out: dict[str, dict[str, Any]] = {}
    by_point: dict[str, list[dict[str, Any]]] = {}
    for ln in lines(conn, group_id, groupbuy_id=groupbuy_id, state="uncollected"):
        p = products_out.setdefault(ln.product_code, {"product_code": ln.product_code, "name": ln.product_name, "quantity": 0})
        p["quantity"] += ln.quantity
        if ln.variant:
            v = p.setdefault("variants", {})
            v[ln.variant] = v.get(ln.variant, 0) + ln.quantity
        by_point.setdefault(ln.pickup_point or "", []).append({
            "order_no": ln.order_no, "join_no": ln.join_no, "user_id": ln.user_id, "user_name": ln.user_name,
            "product_code": ln.product_code, "quantity": ln.quantity, "total_fen": ln.total_fen,
        })
    for p in products_out.values():
        if "variants" in p:
            p["variants"] = [{"name": k, "quantity": q} for k, q in p["variants"].items()]
    rank = {name: i for i, name in enumerate(point_order)}
    names = sorted(by_point, key=lambda n: (n == "", rank.get(n, len(rank)), n))
    return {
        "products": sorted(products_out.values(), key=lambda p: p["product_code"]),
        "pickup_points": [{"name": n, "orders": by_point[n]} for n in names],
    }
