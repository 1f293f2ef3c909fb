"""Group buys: opening, joining (stock taken at once), leaving, settling exactly once, their history."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection

from catalog.fulfilment import stamp_groupbuy_orders
from catalog.orders import OutOfStock
from catalog.products import Product, return_stock, stock_left, take_stock
from pricing.groupbuy import PEOPLE, Basis, Tier, progress_text, settled_price, tiers_from_json, tiers_to_json
from storage.outbox import withdraw
from storage.tables import groupbuy_events, groupbuy_participants, groupbuys, orders, products

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; anything larger names no group buy


class GroupBuyUnavailable(Exception):
    """`reason`: "missing" (no such id) or "closed" (settled, or past its deadline); `gb` when it exists."""

    def __init__(self, reason: str, gb: GroupBuy | None = None):
        super().__init__(reason)
        self.reason = reason
        self.gb = gb


class NotParticipating(Exception):
    pass


@dataclass
class GroupBuy:
    id: int
    group_id: str
    product_id: int
    product_code: str
    product_name: str
    basis: Basis
    tiers: list[Tier]
    deadline: datetime
    status: str  # open | succeeded | failed
    final_price_fen: int | None
    created_by: str
    created_at: datetime
    settled_at: datetime | None
    lang: str = "zh"  # the language it was opened in: its announcement and reminder speak it
    participants: int = 0
    quantity: int = 0

    @property
    def reached(self) -> int:
        """What the tiers count: people or pieces."""
        return self.participants if self.basis == PEOPLE else self.quantity

    @property
    def current_price_fen(self) -> int | None:
        """The price if it settled now; None below the first tier."""
        return settled_price(self.tiers, self.reached)

    def is_live(self, now: datetime) -> bool:
        return self.status == "open" and self.deadline > now

    def to_json(self) -> dict[str, Any]:
        """The SPEC section 4 shape, exactly."""
        return {
            "id": self.id,
            "group_id": self.group_id,
            "product_code": self.product_code,
            "basis": self.basis,
            "tiers": tiers_to_json(self.tiers),
            "deadline": self.deadline.isoformat(),
            "status": self.status,
            "participants": self.participants,
            "quantity": self.quantity,
            "current_price_fen": self.current_price_fen,
        }


@dataclass
class Participant:
    user_id: str
    quantity: int
    join_no: int
    joined_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"join_no": self.join_no, "user_id": self.user_id, "quantity": self.quantity,
                "joined_at": self.joined_at.isoformat()}


@dataclass
class Event:
    id: int
    kind: str  # opened | joined | changed | left | settled | failed
    user_id: str | None
    quantity: int | None
    price_fen: int | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "user_id": self.user_id, "quantity": self.quantity,
                "price_fen": self.price_fen, "created_at": self.created_at.isoformat()}


@dataclass
class JoinResult:
    """`kind`: "joined", "changed" or "unchanged"; `previous` is the quantity before a change."""

    kind: str
    gb: GroupBuy
    join_no: int
    quantity: int
    previous: int = 0


@dataclass
class Settlement:
    gb: GroupBuy
    succeeded: bool
    orders: list[tuple[Participant, int]] = field(default_factory=list)  # (participant, order id)


# ---- reading ---------------------------------------------------------------------------------

_COLUMNS = (
    groupbuys.c.id,
    groupbuys.c.group_id,
    groupbuys.c.product_id,
    products.c.code,
    products.c.name,
    groupbuys.c.basis,
    groupbuys.c.tiers,
    groupbuys.c.deadline,
    groupbuys.c.status,
    groupbuys.c.final_price_fen,
    groupbuys.c.created_by,
    groupbuys.c.created_at,
    groupbuys.c.settled_at,
    groupbuys.c.lang,
)


def _select():
    # Counted per group buy on its participants' index (correlated): joining an aggregate over every
    # group buy's participants made SQLite materialise all of them for each lookup (bench/scale.py).
    mine = groupbuy_participants.c.groupbuy_id == groupbuys.c.id
    people = select(func.count()).where(mine).scalar_subquery()
    pieces = select(func.coalesce(func.sum(groupbuy_participants.c.quantity), 0)).where(mine).scalar_subquery()
    return select(*_COLUMNS, people, pieces).join(products, products.c.id == groupbuys.c.product_id)


def _groupbuy(row) -> GroupBuy:
    values = list(row)
    values[6] = tiers_from_json(values[6])
    values[-2:] = [int(values[-2]), int(values[-1])]
    return GroupBuy(*values)


def get_groupbuy(conn: Connection, groupbuy_id: int) -> GroupBuy | None:
    if not 1 <= groupbuy_id <= MAX_ID:
        return None
    row = conn.execute(_select().where(groupbuys.c.id == groupbuy_id)).first()
    return None if row is None else _groupbuy(row)


def list_groupbuys(
    conn: Connection, *, group_id: str | None = None, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[GroupBuy]:
    q = _select()
    if group_id is not None:
        q = q.where(groupbuys.c.group_id == group_id)
    if status is not None:
        q = q.where(groupbuys.c.status == status)
    rows = conn.execute(q.order_by(groupbuys.c.id.desc()).offset(offset).limit(limit))
    return [_groupbuy(r) for r in rows]


def live_groupbuys(conn: Connection, group_id: str, now: datetime) -> list[GroupBuy]:
    """The group's open group buys still before their deadline, newest first."""
    rows = conn.execute(
        _select()
        .where(groupbuys.c.group_id == group_id, groupbuys.c.status == "open", groupbuys.c.deadline > now)
        .order_by(groupbuys.c.id.desc())
    )
    return [_groupbuy(r) for r in rows]


def participants(conn: Connection, groupbuy_id: int) -> list[Participant]:
    rows = conn.execute(
        select(
            groupbuy_participants.c.user_id,
            groupbuy_participants.c.quantity,
            groupbuy_participants.c.join_no,
            groupbuy_participants.c.joined_at,
        )
        .where(groupbuy_participants.c.groupbuy_id == groupbuy_id)
        .order_by(groupbuy_participants.c.join_no)
    )
    return [Participant(*r) for r in rows]


def joined_live(conn: Connection, group_id: str, user_id: str, now: datetime) -> list[tuple[GroupBuy, Participant]]:
    """The group's live group buys this member is in, newest first, with their own join."""
    mine = groupbuy_participants.alias("mine")  # not the table the counts correlate on
    rows = conn.execute(
        _select()
        .add_columns(mine.c.user_id, mine.c.quantity, mine.c.join_no, mine.c.joined_at)
        .join(mine, and_(mine.c.groupbuy_id == groupbuys.c.id, mine.c.user_id == user_id))
        .where(groupbuys.c.group_id == group_id, groupbuys.c.status == "open", groupbuys.c.deadline > now)
        .order_by(groupbuys.c.id.desc())
    )
    return [(_groupbuy(r[:-4]), Participant(*r[-4:])) for r in rows]


def events(conn: Connection, groupbuy_id: int) -> list[Event]:
    rows = conn.execute(
        select(
            groupbuy_events.c.id,
            groupbuy_events.c.kind,
            groupbuy_events.c.user_id,
            groupbuy_events.c.quantity,
            groupbuy_events.c.price_fen,
            groupbuy_events.c.created_at,
        )
        .where(groupbuy_events.c.groupbuy_id == groupbuy_id)
        .order_by(groupbuy_events.c.id)
    )
    return [Event(*r) for r in rows]


def due_groupbuys(conn: Connection, now: datetime, limit: int = 50) -> list[int]:
    """Open group buys whose deadline has come, oldest deadline first (for the scheduler).

    On PostgreSQL rows another process holds (a join in flight, a settlement) are skipped:
    the next tick takes them. settle_groupbuy settles each once whoever calls it."""
    q = (
        select(groupbuys.c.id)
        .where(groupbuys.c.status == "open", groupbuys.c.deadline <= now)
        .order_by(groupbuys.c.deadline, groupbuys.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(conn.execute(q).scalars())


def groupbuy_progress(conn: Connection, groupbuy_id: int, lang: str = "zh") -> str:
    """What the next tier needs: `再 2 人降到 ¥79.00` / `2 more people to ¥79.00`; "" when there is no such group buy."""
    gb = get_groupbuy(conn, groupbuy_id)
    return "" if gb is None else progress_text(gb.basis, gb.tiers, gb.reached, lang)


# ---- writing ---------------------------------------------------------------------------------

def _lock(conn: Connection, groupbuy_id: int) -> GroupBuy | None:
    """The group buy, its row locked until the transaction ends (PostgreSQL; a SQLite write
    transaction is already exclusive). Joins, leaves and settlements of one group buy take
    this lock first, so they run one after another and always see each other's effects."""
    if not 1 <= groupbuy_id <= MAX_ID:
        return None
    q = select(groupbuys.c.id).where(groupbuys.c.id == groupbuy_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    if conn.execute(q).first() is None:
        return None
    return get_groupbuy(conn, groupbuy_id)


def _event(conn: Connection, groupbuy_id: int, kind: str, now: datetime, *, user_id: str | None = None,
           quantity: int | None = None, price_fen: int | None = None) -> None:
    conn.execute(
        insert(groupbuy_events).values(
            groupbuy_id=groupbuy_id, kind=kind, user_id=user_id, quantity=quantity, price_fen=price_fen, created_at=now
        )
    )


def open_groupbuy(
    conn: Connection, *, group_id: str, product: Product, basis: Basis, tiers: list[Tier],
    deadline: datetime, created_by: str, now: datetime, lang: str = "zh",
) -> GroupBuy:
    gb_id = conn.execute(
        insert(groupbuys).values(
            group_id=group_id, product_id=product.id, basis=basis, tiers=tiers_to_json(tiers), deadline=deadline,
            status="open", created_by=created_by, created_at=now, lang=lang,
        )
    ).inserted_primary_key[0]
    _event(conn, gb_id, "opened", now, user_id=created_by)
    return get_groupbuy(conn, gb_id)


def _open_or_refuse(conn: Connection, groupbuy_id: int, now: datetime) -> GroupBuy:
    gb = _lock(conn, groupbuy_id)
    if gb is None:
        raise GroupBuyUnavailable("missing")
    if not gb.is_live(now):
        raise GroupBuyUnavailable("closed", gb)
    return gb


def _participant(conn: Connection, groupbuy_id: int, user_id: str) -> Participant | None:
    row = conn.execute(
        select(
            groupbuy_participants.c.user_id,
            groupbuy_participants.c.quantity,
            groupbuy_participants.c.join_no,
            groupbuy_participants.c.joined_at,
        ).where(groupbuy_participants.c.groupbuy_id == groupbuy_id, groupbuy_participants.c.user_id == user_id)
    ).first()
    return None if row is None else Participant(*row)


def join_groupbuy(conn: Connection, groupbuy_id: int, user_id: str, qty: int, now: datetime) -> JoinResult:
    """Join with qty pieces, or change one's quantity to qty; stock moves by the difference at once.

    Raises GroupBuyUnavailable, or OutOfStock (with what is left) when the pieces are not there;
    the caller's savepoint undoes anything done before a raise."""
    gb = _open_or_refuse(conn, groupbuy_id, now)
    mine = _participant(conn, gb.id, user_id)
    if mine is not None and mine.quantity == qty:
        return JoinResult("unchanged", gb, mine.join_no, qty, qty)
    more = qty - (mine.quantity if mine else 0)
    if more > 0 and not take_stock(conn, gb.product_id, more):
        raise OutOfStock(stock_left(conn, gb.product_id))
    if more < 0:
        return_stock(conn, gb.product_id, -more)
    if mine is None:
        # Numbers follow the join events, so a leave never frees a number for reuse and a rejoin
        # gets a new one; the row lock above keeps two joins from counting the same total.
        join_no = 1 + conn.execute(
            select(func.count()).where(groupbuy_events.c.groupbuy_id == gb.id, groupbuy_events.c.kind == "joined")
        ).scalar_one()
        conn.execute(
            insert(groupbuy_participants).values(
                groupbuy_id=gb.id, user_id=user_id, quantity=qty, join_no=join_no, joined_at=now
            )
        )
    else:
        join_no = mine.join_no
        conn.execute(
            update(groupbuy_participants)
            .where(groupbuy_participants.c.groupbuy_id == gb.id, groupbuy_participants.c.user_id == user_id)
            .values(quantity=qty)
        )
    gb = get_groupbuy(conn, gb.id)
    kind = "joined" if mine is None else "changed"
    _event(conn, gb.id, kind, now, user_id=user_id, quantity=qty, price_fen=gb.current_price_fen)
    return JoinResult(kind, gb, join_no, qty, mine.quantity if mine else 0)


def leave_groupbuy(conn: Connection, groupbuy_id: int, user_id: str, now: datetime) -> tuple[GroupBuy, Participant]:
    """Leave before settlement; the pieces go back to stock. Raises GroupBuyUnavailable or NotParticipating."""
    gb = _open_or_refuse(conn, groupbuy_id, now)
    mine = _participant(conn, gb.id, user_id)
    if mine is None:
        raise NotParticipating()
    conn.execute(
        groupbuy_participants.delete().where(
            groupbuy_participants.c.groupbuy_id == gb.id, groupbuy_participants.c.user_id == user_id
        )
    )
    return_stock(conn, gb.product_id, mine.quantity)
    gb = get_groupbuy(conn, gb.id)
    _event(conn, gb.id, "left", now, user_id=user_id, quantity=mine.quantity, price_fen=gb.current_price_fen)
    return gb, mine


def reminder_source(groupbuy_id: int) -> str:
    """The outbox source of a group buy's deadline reminder (catalog.reminders)."""
    return f"reminder:{groupbuy_id}"


def settle(conn: Connection, groupbuy_id: int, now: datetime) -> Settlement | None:
    """Settle now: the highest tier reached prices every participant's confirmed order; below the
    first tier it fails and all stock returns. None when there is no such group buy or it was
    already settled: the status claim below lets exactly one caller through."""
    gb = _lock(conn, groupbuy_id)
    if gb is None or gb.status != "open":
        return None
    price = gb.current_price_fen
    status = "failed" if price is None else "succeeded"
    claimed = conn.execute(
        update(groupbuys)
        .where(groupbuys.c.id == gb.id, groupbuys.c.status == "open")
        .values(status=status, final_price_fen=price, settled_at=now)
    ).rowcount
    if claimed != 1:
        return None
    gb.status, gb.final_price_fen, gb.settled_at = status, price, now
    # Its "last hour" reminder may still wait in the outbox (quiet hours hold it till morning):
    # after the close it would only mislead.
    withdraw(conn, reminder_source(gb.id), now, f"group buy #{gb.id} closed before the reminder went out")
    people = participants(conn, gb.id)
    if price is None:
        if gb.quantity:
            return_stock(conn, gb.product_id, gb.quantity)
        _event(conn, gb.id, "failed", now, quantity=gb.quantity)
        return Settlement(gb, False)
    made = []
    if people:  # multi-row INSERT … RETURNING in batches; ids matched back by user (one order each)
        order_ids = dict(conn.execute(
            insert(orders).returning(orders.c.user_id, orders.c.id),
            [
                {"group_id": gb.group_id, "user_id": p.user_id, "product_id": gb.product_id, "quantity": p.quantity,
                 "unit_price_fen": price, "total_fen": price * p.quantity, "price_source": "groupbuy",
                 "status": "confirmed", "groupbuy_id": gb.id, "created_at": now}
                for p in people
            ],
        ).all())
        made = [(p, order_ids[p.user_id]) for p in people]
    stamp_groupbuy_orders(conn, made, now)
    _event(conn, gb.id, "settled", now, quantity=gb.quantity, price_fen=price)
    return Settlement(gb, True, made)
