"""Each group's own shelf: the products it sells. An empty shelf sells the whole catalog."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, delete, exists, insert, or_, select, union
from sqlalchemy.engine import Connection

from catalog.products import WITH_LADDER, Product, get_product, normalize_code, product_of
from storage.prepared import Prepared
from storage.tables import deals, group_shelf, groupbuys, products

_GROUP, _NOW = bindparam("group_id"), bindparam("now")


def _live_deal(product_id):
    return and_(
        deals.c.group_id == _GROUP, deals.c.product_id == product_id, deals.c.active.is_(True),
        or_(deals.c.ends_at.is_(None), deals.c.ends_at > _NOW),
        or_(deals.c.limit_qty.is_(None), deals.c.sold_qty < deals.c.limit_qty),
    )


def visible_here():
    """Whether the `products` row is sold in group :group_id at :now: its shelf is empty, holds it,
    or the group has an open group buy or a live deal of it (those stay visible whatever the shelf says)."""
    return or_(
        ~exists().where(group_shelf.c.group_id == _GROUP),
        exists().where(group_shelf.c.group_id == _GROUP, group_shelf.c.product_id == products.c.id),
        exists().where(
            groupbuys.c.group_id == _GROUP, groupbuys.c.product_id == products.c.id, groupbuys.c.status == "open"
        ),
        exists().where(_live_deal(products.c.id)),
    )


# A group with a shelf sees these product ids: a few, so 商品 there pages over them by primary key.
SHELF_IDS = union(
    select(group_shelf.c.product_id).where(group_shelf.c.group_id == _GROUP),
    select(groupbuys.c.product_id).where(groupbuys.c.group_id == _GROUP, groupbuys.c.status == "open"),
    select(deals.c.product_id).where(_live_deal(deals.c.product_id)),
)
_HAS_SHELF = Prepared(select(group_shelf.c.product_id).where(group_shelf.c.group_id == _GROUP).limit(1))


def has_shelf(conn: Connection, group_id: str) -> bool:
    return _HAS_SHELF.first(conn, {"group_id": group_id}) is not None

# 下单 and 详情 look a product up and ask whether this group sells it: one statement for both.
_HERE_BY_CODE = Prepared(WITH_LADDER.add_columns(visible_here().label("here")).where(products.c.code == bindparam("code")))


def product_here(conn: Connection, code: str, group_id: str, now: datetime) -> tuple[Product | None, bool]:
    """(the product with this code, whether group_id sells it at `now`: visible_here()); (None, False) if no such code."""
    rows = _HERE_BY_CODE.all(conn, {"code": normalize_code(code), "group_id": group_id, "now": now})
    return product_of(conn, rows), bool(rows) and bool(rows[0][-1])


def shelf(conn: Connection, group_id: str) -> list[Product]:
    """The group's shelf in code order; [] means the whole catalog."""
    codes = conn.execute(
        select(products.c.code)
        .join(group_shelf, group_shelf.c.product_id == products.c.id)
        .where(group_shelf.c.group_id == group_id)
        .order_by(products.c.code)
    ).scalars().all()
    return [get_product(conn, c) for c in codes]


class UnknownCodes(ValueError):
    def __init__(self, codes: list[str]):
        super().__init__(", ".join(codes))
        self.codes = codes


def _ids(conn: Connection, codes: list[str]) -> dict[str, int]:
    """code -> product id for each code (normalized); UnknownCodes naming those with no product."""
    wanted = list(dict.fromkeys(normalize_code(c) for c in codes))
    found = dict(conn.execute(select(products.c.code, products.c.id).where(products.c.code.in_(wanted))).all())
    missing = [c for c in wanted if c not in found]
    if missing:
        raise UnknownCodes(missing)
    return {c: found[c] for c in wanted}


def add_to_shelf(conn: Connection, group_id: str, codes: list[str], now: datetime) -> list[str]:
    """Puts these products on the shelf; returns the codes newly added (those already there are skipped)."""
    ids = _ids(conn, codes)
    have = set(conn.execute(select(group_shelf.c.product_id).where(group_shelf.c.group_id == group_id)).scalars())
    new = [(code, pid) for code, pid in ids.items() if pid not in have]
    if new:
        conn.execute(insert(group_shelf), [{"group_id": group_id, "product_id": pid, "added_at": now} for _, pid in new])
    return [code for code, _ in new]


def remove_from_shelf(conn: Connection, group_id: str, codes: list[str]) -> list[str]:
    """Takes these products off the shelf; returns the codes that were on it."""
    ids = _ids(conn, codes)
    gone = []
    for code, pid in ids.items():
        if conn.execute(delete(group_shelf).where(group_shelf.c.group_id == group_id,
                                                  group_shelf.c.product_id == pid)).rowcount:
            gone.append(code)
    return gone


def set_shelf(conn: Connection, group_id: str, codes: list[str], now: datetime) -> None:
    """The shelf becomes exactly these products ([]: the whole catalog). Raises UnknownCodes."""
    ids = _ids(conn, codes)
    conn.execute(delete(group_shelf).where(group_shelf.c.group_id == group_id))
    if ids:
        conn.execute(insert(group_shelf), [{"group_id": group_id, "product_id": pid, "added_at": now}
                                           for pid in ids.values()])


def shelf_codes(conn: Connection, group_id: str) -> list[str]:
    return list(conn.execute(
        select(products.c.code).join(group_shelf, group_shelf.c.product_id == products.c.id)
        .where(group_shelf.c.group_id == group_id).order_by(products.c.code)
    ).scalars())
