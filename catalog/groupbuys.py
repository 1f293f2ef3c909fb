"""Group buys: opening, joining (stock taken at once), leaving, settling exactly once, their history."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.engine import Connection

from catalog.fulfilment import chosen_point
from catalog.orders import OutOfStock
from catalog.products import Product, lock_product, return_stock, stock_left, take_stock
from pricing.groupbuy import PEOPLE, Basis, Tier, progress_text, settled_price, tiers_from_json, tiers_to_json
from storage.outbox import withdraw
from storage.prepared import Prepared
from storage import tables
from storage.tables import groupbuy_events, groupbuy_participants, groupbuy_waitlist, groupbuys, orders, products
from storage.types import UTCDateTime

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; anything larger names no group buy


class GroupBuyUnavailable(Exception):
    """`reason`: "missing" (no such id) or "closed" (settled, or past its deadline); `gb` when it exists."""

    def __init__(self, reason: str, gb: GroupBuy | None = None):
        super().__init__(reason)
        self.reason = reason
        self.gb = gb


class NotParticipating(Exception):
    pass


class OverLimit(Exception):
    """The join would take the member past the group buy's 限购: `limit`, and `held` (their other pieces)."""

    def __init__(self, limit: int, held: int):
        super().__init__(f"limit {limit}, holding {held}")
        self.limit = limit
        self.held = held


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
    limit_qty: int | None = None  # 限购: pieces per member
    participants: int = 0  # people: a member holding several variants counts once
    quantity: int = 0
    waitlist: int = 0  # waitlisted joins

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
            "limit": self.limit_qty,
            "waitlist": self.waitlist,
        }


@dataclass
class Participant:
    """One join: a member holds one per variant of the group buy."""

    user_id: str
    quantity: int
    join_no: int
    joined_at: datetime
    variant: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"join_no": self.join_no, "user_id": self.user_id, "variant": self.variant, "quantity": self.quantity,
                "joined_at": self.joined_at.isoformat()}


@dataclass
class Waiting:
    """A waitlisted join; `position` is its place in the line of its group buy and variant (1 = next)."""

    user_id: str
    variant: str
    quantity: int
    position: int = 0


@dataclass
class Promotion:
    """A waitlisted join that got its stock: it is now a join with `join_no`."""

    groupbuy_id: int
    group_id: str
    product_code: str
    product_name: str
    user_id: str
    variant: str
    quantity: int
    join_no: int
    lang: str = "zh"  # the group buy's language: its group is told in it
    name: str = ""  # how the group knows the member (their name where one is known, else their id)


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
    """`kind`: "joined", "changed", "unchanged", "waitlisted" (new in the line) or "waiting" (already
    in it; its quantity now `quantity`); `previous` is the quantity before a change; `position`
    the place in the waitlist; `promotions` what stock freed by lowering a quantity went to."""

    kind: str
    gb: GroupBuy
    join_no: int
    quantity: int
    previous: int = 0
    variant: str = ""
    position: int = 0
    promotions: list[Promotion] = field(default_factory=list)
    left: int = 0  # waitlisted: the pieces of this variant in stock (too few, or others were waiting)


@dataclass
class Left:
    """What a leave undid: joins (their pieces back in stock), waitlisted joins withdrawn, and who
    was promoted with the pieces."""

    gb: GroupBuy
    joins: list[Participant]
    waits: list[Waiting]
    promotions: list[Promotion]


@dataclass
class Settlement:
    gb: GroupBuy
    succeeded: bool
    orders: list[tuple[Participant, int]] = field(default_factory=list)  # (participant, order id)
    dropped: list[Waiting] = field(default_factory=list)  # the waitlist, dropped at settlement
    promotions: list[Promotion] = field(default_factory=list)  # other group buys' lines served by returned stock


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
    groupbuys.c.limit_qty,
)


# The counts are kept on the group buy's row (see _add_participant and _count below): counting its
# participants instead made every join cost more as the group buy grew (bench/README.md).
_GROUPBUYS = select(*_COLUMNS, groupbuys.c.people_count, groupbuys.c.piece_count, groupbuys.c.waiting_count).join(
    products, products.c.id == groupbuys.c.product_id)
_GET = Prepared(_GROUPBUYS.where(groupbuys.c.id == bindparam("groupbuy_id")))


def _groupbuy(row) -> GroupBuy:
    values = list(row)
    values[6] = tiers_from_json(values[6])
    values[-3:] = [int(v) for v in values[-3:]]
    return GroupBuy(*values)


def get_groupbuy(conn: Connection, groupbuy_id: int) -> GroupBuy | None:
    if not 1 <= groupbuy_id <= MAX_ID:
        return None
    row = _GET.first(conn, {"groupbuy_id": groupbuy_id})
    return None if row is None else _groupbuy(row)


def list_groupbuys(
    conn: Connection, *, group_id: str | None = None, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[GroupBuy]:
    q = _GROUPBUYS
    if group_id is not None:
        q = q.where(groupbuys.c.group_id == group_id)
    if status is not None:
        q = q.where(groupbuys.c.status == status)
    rows = conn.execute(q.order_by(groupbuys.c.id.desc()).offset(offset).limit(limit))
    return [_groupbuy(r) for r in rows]


def live_groupbuys(conn: Connection, group_id: str, now: datetime) -> list[GroupBuy]:
    """The group's open group buys still before their deadline, newest first."""
    return [_groupbuy(r) for r in _LIVE.all(conn, {"group_id": group_id, "now": now})]


# Every "+1" (and 团购) reads them first.
_LIVE = Prepared(
    _GROUPBUYS.where(groupbuys.c.group_id == bindparam("group_id"), groupbuys.c.status == "open",
                     groupbuys.c.deadline > bindparam("now"))
    .order_by(groupbuys.c.id.desc())
)


_PARTICIPANT = (
    groupbuy_participants.c.user_id,
    groupbuy_participants.c.quantity,
    groupbuy_participants.c.join_no,
    groupbuy_participants.c.joined_at,
    groupbuy_participants.c.variant,
)


def participants(conn: Connection, groupbuy_id: int, limit: int | None = None) -> list[Participant]:
    """Its joins in join order (the first `limit` of them)."""
    rows = conn.execute(
        select(*_PARTICIPANT)
        .where(groupbuy_participants.c.groupbuy_id == groupbuy_id)
        .order_by(groupbuy_participants.c.join_no)
        .limit(limit)
    )
    return [Participant(*r) for r in rows]


def joined_live(conn: Connection, group_id: str, user_id: str, now: datetime) -> list[tuple[GroupBuy, Participant]]:
    """The group's live group buys this member is in, newest first, with their own join."""
    mine = groupbuy_participants.alias("mine")  # the member's own joins
    rows = conn.execute(
        _GROUPBUYS
        .add_columns(mine.c.user_id, mine.c.quantity, mine.c.join_no, mine.c.joined_at, mine.c.variant)
        .join(mine, and_(mine.c.groupbuy_id == groupbuys.c.id, mine.c.user_id == user_id))
        .where(groupbuys.c.group_id == group_id, groupbuys.c.status == "open", groupbuys.c.deadline > now)
        .order_by(groupbuys.c.id.desc(), mine.c.join_no)
    )
    return [(_groupbuy(r[:-5]), Participant(*r[-5:])) for r in rows]


def waitlist(conn: Connection, groupbuy_id: int) -> list[Waiting]:
    """The group buy's waitlist, first come first; each with its place in its variant's line."""
    rows = conn.execute(
        select(groupbuy_waitlist.c.user_id, groupbuy_waitlist.c.variant, groupbuy_waitlist.c.quantity)
        .where(groupbuy_waitlist.c.groupbuy_id == groupbuy_id)
        .order_by(groupbuy_waitlist.c.id)
    )
    out, places = [], {}
    for user_id, variant, qty in rows:
        places[variant] = places.get(variant, 0) + 1
        out.append(Waiting(user_id, variant, qty, places[variant]))
    return out


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

# The statements of a join, prepared once (storage/prepared.py): building each anew cost more than
# running it, and a big group buy takes its joins one after another (bench/inprocess.py --command join).
_GB_ID = bindparam("groupbuy_id")
_PRODUCT_OF = Prepared(select(groupbuys.c.product_id).where(groupbuys.c.id == _GB_ID))
_LOCK_GB = Prepared(select(groupbuys.c.id).where(groupbuys.c.id == _GB_ID).with_for_update())  # SQLite: no FOR UPDATE
_INSERT_EVENT = Prepared(insert(groupbuy_events).values(
    groupbuy_id=_GB_ID, kind=bindparam("kind"), user_id=bindparam("user_id"), quantity=bindparam("quantity"),
    price_fen=bindparam("price_fen"), created_at=bindparam("now")))
_ONE_JOIN = and_(groupbuy_participants.c.groupbuy_id == _GB_ID, groupbuy_participants.c.user_id == bindparam("user_id"),
                 groupbuy_participants.c.variant == bindparam("variant"))
_PARTICIPANT_ROW = Prepared(select(*_PARTICIPANT).where(_ONE_JOIN))
_ONE_WAIT = and_(groupbuy_waitlist.c.groupbuy_id == _GB_ID, groupbuy_waitlist.c.user_id == bindparam("user_id"),
                 groupbuy_waitlist.c.variant == bindparam("variant"))
_WAIT_ROW = Prepared(select(groupbuy_waitlist.c.id, groupbuy_waitlist.c.quantity).where(_ONE_WAIT))
_PLACE_IN_LINE = Prepared(select(func.count()).where(
    groupbuy_waitlist.c.groupbuy_id == _GB_ID, groupbuy_waitlist.c.variant == bindparam("variant"),
    groupbuy_waitlist.c.id <= bindparam("wait_id")))
_HOLDS_ANY = Prepared(select(groupbuy_participants.c.id).where(
    groupbuy_participants.c.groupbuy_id == _GB_ID, groupbuy_participants.c.user_id == bindparam("user_id")).limit(1))
# A leave reads the member's own rows only, not the group buy's thousands.
_MY_JOINS = Prepared(select(*_PARTICIPANT).where(
    groupbuy_participants.c.groupbuy_id == _GB_ID, groupbuy_participants.c.user_id == bindparam("user_id"))
    .order_by(groupbuy_participants.c.join_no))
_MY_WAITS = Prepared(select(groupbuy_waitlist.c.id, groupbuy_waitlist.c.variant, groupbuy_waitlist.c.quantity).where(
    groupbuy_waitlist.c.groupbuy_id == _GB_ID, groupbuy_waitlist.c.user_id == bindparam("user_id"))
    .order_by(groupbuy_waitlist.c.id))
_COUNT = Prepared(update(groupbuys).where(groupbuys.c.id == _GB_ID).values(
    people_count=groupbuys.c.people_count + bindparam("people"),
    piece_count=groupbuys.c.piece_count + bindparam("pieces"),
    waiting_count=groupbuys.c.waiting_count + bindparam("waiting")))
_COUNT_JOIN = Prepared(update(groupbuys).where(groupbuys.c.id == _GB_ID).values(
    people_count=groupbuys.c.people_count + bindparam("people"),
    piece_count=groupbuys.c.piece_count + bindparam("pieces"),
    last_join_no=groupbuys.c.last_join_no + 1).returning(groupbuys.c.last_join_no))
_INSERT_PARTICIPANT = Prepared(insert(groupbuy_participants).values(
    groupbuy_id=_GB_ID, user_id=bindparam("user_id"), variant=bindparam("variant"), quantity=bindparam("qty"),
    join_no=bindparam("join_no"), joined_at=bindparam("now")))
_LINE_EXISTS = Prepared(select(groupbuy_waitlist.c.id).where(
    groupbuy_waitlist.c.groupbuy_id == _GB_ID, groupbuy_waitlist.c.variant == bindparam("variant")).limit(1))


def _lock(conn: Connection, groupbuy_id: int) -> GroupBuy | None:
    """The group buy, its product's row and then its own locked until the transaction ends
    (PostgreSQL; a SQLite write transaction is already exclusive). Joins, leaves and settlements
    take these locks first, so they run one after another and always see each other's effects.
    The product's lock comes first because a waitlist promotion (stock coming back) may serve
    any open group buy of that product, and every stock move locks the product's row first."""
    if not 1 <= groupbuy_id <= MAX_ID:
        return None
    row = _PRODUCT_OF.first(conn, {"groupbuy_id": groupbuy_id})
    if row is None:
        return None
    lock_product(conn, row[0])
    _LOCK_GB.all(conn, {"groupbuy_id": groupbuy_id})
    return get_groupbuy(conn, groupbuy_id)


def _event(conn: Connection, groupbuy_id: int, kind: str, now: datetime, *, user_id: str | None = None,
           quantity: int | None = None, price_fen: int | None = None) -> None:
    _INSERT_EVENT.rowcount(conn, {"groupbuy_id": groupbuy_id, "kind": kind, "user_id": user_id, "quantity": quantity,
                                  "price_fen": price_fen, "now": now})


# The deadline reminder goes out this long before the deadline (catalog.reminders).
REMIND_BEFORE = timedelta(hours=1)


def open_groupbuy(
    conn: Connection, *, group_id: str, product: Product, basis: Basis, tiers: list[Tier],
    deadline: datetime, created_by: str, now: datetime, lang: str = "zh", limit_qty: int | None = None,
) -> GroupBuy:
    gb_id = conn.execute(
        insert(groupbuys).values(
            group_id=group_id, product_id=product.id, basis=basis, tiers=tiers_to_json(tiers), deadline=deadline,
            status="open", created_by=created_by, created_at=now, lang=lang, limit_qty=limit_qty,
            # Opened with the deadline already within the reminder's hour: the opening said how long is
            # left, so no "还剩 N 分钟" follows minutes later.
            reminded_at=now if deadline - now <= REMIND_BEFORE else None,
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


def _participant(conn: Connection, groupbuy_id: int, user_id: str, variant: str) -> Participant | None:
    row = _PARTICIPANT_ROW.first(conn, {"groupbuy_id": groupbuy_id, "user_id": user_id, "variant": variant})
    return None if row is None else Participant(*row)


def _waiting(conn: Connection, groupbuy_id: int, user_id: str, variant: str) -> Waiting | None:
    row = _WAIT_ROW.first(conn, {"groupbuy_id": groupbuy_id, "user_id": user_id, "variant": variant})
    if row is None:
        return None
    wait_id, quantity = row
    ahead = _PLACE_IN_LINE.scalar(conn, {"groupbuy_id": groupbuy_id, "variant": variant, "wait_id": wait_id})
    return Waiting(user_id, variant, quantity, ahead)


def _held_elsewhere(conn: Connection, groupbuy_id: int, user_id: str, variant: str) -> int:
    """The member's pieces in this group buy outside this variant: joined and waitlisted (a
    waitlisted join counts, or promotion could carry a member past the limit)."""
    total = 0
    for table in (groupbuy_participants, groupbuy_waitlist):
        total += conn.execute(
            select(func.coalesce(func.sum(table.c.quantity), 0)).where(
                table.c.groupbuy_id == groupbuy_id, table.c.user_id == user_id, table.c.variant != variant
            )
        ).scalar_one()
    return int(total)


def _count(conn: Connection, groupbuy_id: int, *, people: int = 0, pieces: int = 0, waiting: int = 0) -> None:
    """Move the group buy's counts. Every change of its participants or waitlist calls this (or
    _add_participant) in the same transaction, under the locks it took first."""
    _COUNT.rowcount(conn, {"groupbuy_id": groupbuy_id, "people": people, "pieces": pieces, "waiting": waiting})


def _add_participant(conn: Connection, groupbuy_id: int, user_id: str, variant: str, qty: int, now: datetime) -> int:
    """A new join (of one variant): its 跟团号 is the group buy's next. Numbers are never reused: a
    leave does not free one, a rejoin gets a new one."""
    new_person = _HOLDS_ANY.first(conn, {"groupbuy_id": groupbuy_id, "user_id": user_id}) is None
    join_no = _COUNT_JOIN.returned(conn, {"groupbuy_id": groupbuy_id, "people": int(new_person), "pieces": qty})
    _INSERT_PARTICIPANT.rowcount(conn, {"groupbuy_id": groupbuy_id, "user_id": user_id, "variant": variant, "qty": qty,
                                        "join_no": join_no, "now": now})
    return join_no


def _line_exists(conn: Connection, groupbuy_id: int, variant: str) -> bool:
    return _LINE_EXISTS.first(conn, {"groupbuy_id": groupbuy_id, "variant": variant}) is not None


def join_groupbuy(
    conn: Connection, groupbuy_id: int, user_id: str, qty: int, now: datetime, variant: str = ""
) -> JoinResult:
    """Join with qty pieces of `variant` ("" for a product without variants), or change that join's
    quantity to qty; stock moves by the difference at once.

    A new join that finds too little stock, or others already waiting for this variant here, is
    waitlisted instead. Raises GroupBuyUnavailable, OverLimit (限购), or OutOfStock (with what is
    left) when raising an existing join's quantity does not fit; the caller's savepoint undoes
    anything done before a raise."""
    gb = _open_or_refuse(conn, groupbuy_id, now)
    if gb.limit_qty is not None:
        held = _held_elsewhere(conn, gb.id, user_id, variant)
        if held + qty > gb.limit_qty:
            raise OverLimit(gb.limit_qty, held)
    mine = _participant(conn, gb.id, user_id, variant)
    if mine is not None and mine.quantity == qty:
        return JoinResult("unchanged", gb, mine.join_no, qty, qty, variant)
    if mine is None:
        return _join_new(conn, gb, user_id, qty, now, variant)
    more = qty - mine.quantity
    promoted: list[Promotion] = []
    if more > 0 and not take_stock(conn, gb.product_id, more, variant):
        raise OutOfStock(stock_left(conn, gb.product_id, variant))
    conn.execute(
        update(groupbuy_participants)
        .where(groupbuy_participants.c.groupbuy_id == gb.id, groupbuy_participants.c.user_id == user_id,
               groupbuy_participants.c.variant == variant)
        .values(quantity=qty)
    )
    _count(conn, gb.id, pieces=more)
    if more < 0:
        return_stock(conn, gb.product_id, -more, variant)
        promoted = promote(conn, gb.product_id, variant, now)
    gb = get_groupbuy(conn, gb.id)
    _event(conn, gb.id, "changed", now, user_id=user_id, quantity=qty, price_fen=gb.current_price_fen)
    return JoinResult("changed", gb, mine.join_no, qty, mine.quantity, variant, promotions=promoted)


def _join_new(conn: Connection, gb: GroupBuy, user_id: str, qty: int, now: datetime, variant: str) -> JoinResult:
    waiting = _waiting(conn, gb.id, user_id, variant)
    if waiting is not None:  # already in the line: the new quantity, the same place
        if waiting.quantity != qty:
            conn.execute(
                update(groupbuy_waitlist)
                .where(groupbuy_waitlist.c.groupbuy_id == gb.id, groupbuy_waitlist.c.user_id == user_id,
                       groupbuy_waitlist.c.variant == variant)
                .values(quantity=qty)
            )
        promoted = promote(conn, gb.product_id, variant, now) if qty < waiting.quantity else []
        mine = next((p for p in promoted if p.user_id == user_id and p.groupbuy_id == gb.id), None)
        gb = get_groupbuy(conn, gb.id)
        if mine is not None:
            return JoinResult("joined", gb, mine.join_no, qty, 0, variant, promotions=promoted)
        return JoinResult("waiting", gb, 0, qty, waiting.quantity, variant, waiting.position, promotions=promoted)
    if not _line_exists(conn, gb.id, variant) and take_stock(conn, gb.product_id, qty, variant):
        join_no = _add_participant(conn, gb.id, user_id, variant, qty, now)
        gb = get_groupbuy(conn, gb.id)
        _event(conn, gb.id, "joined", now, user_id=user_id, quantity=qty, price_fen=gb.current_price_fen)
        return JoinResult("joined", gb, join_no, qty, 0, variant)
    conn.execute(
        insert(groupbuy_waitlist).values(
            groupbuy_id=gb.id, user_id=user_id, variant=variant, quantity=qty, created_at=now
        )
    )
    _count(conn, gb.id, waiting=1)
    _event(conn, gb.id, "waitlisted", now, user_id=user_id, quantity=qty)
    position = _waiting(conn, gb.id, user_id, variant).position
    return JoinResult("waitlisted", get_groupbuy(conn, gb.id), 0, qty, 0, variant, position,
                      left=stock_left(conn, gb.product_id, variant))


def leave_groupbuy(
    conn: Connection, groupbuy_id: int, user_id: str, now: datetime, variant: str | None = None
) -> Left:
    """Leave before settlement: every join and waitlisted join of the member here (or only those of
    `variant`); the pieces go back to stock and serve the waitlists at once. Raises
    GroupBuyUnavailable or NotParticipating."""
    gb = _open_or_refuse(conn, groupbuy_id, now)
    who = {"groupbuy_id": gb.id, "user_id": user_id}
    mine = [Participant(*r) for r in _MY_JOINS.all(conn, who) if variant in (None, r[-1])]
    waits = [
        Waiting(user_id, v, qty, _PLACE_IN_LINE.scalar(conn, {"groupbuy_id": gb.id, "variant": v, "wait_id": wait_id}))
        for wait_id, v, qty in _MY_WAITS.all(conn, who) if variant in (None, v)
    ]
    if not mine and not waits:
        raise NotParticipating()
    for table in (groupbuy_participants, groupbuy_waitlist):
        q = table.delete().where(table.c.groupbuy_id == gb.id, table.c.user_id == user_id)
        if variant is not None:
            q = q.where(table.c.variant == variant)
        conn.execute(q)
    gone = bool(mine) and _HOLDS_ANY.first(conn, {"groupbuy_id": gb.id, "user_id": user_id}) is None
    _count(conn, gb.id, people=-int(gone), pieces=-sum(p.quantity for p in mine), waiting=-len(waits))
    for p in mine:
        return_stock(conn, gb.product_id, p.quantity, p.variant)
    promoted = []
    for v in dict.fromkeys(p.variant for p in mine):
        promoted += promote(conn, gb.product_id, v, now)
    gb = get_groupbuy(conn, gb.id)
    if mine:
        _event(conn, gb.id, "left", now, user_id=user_id, quantity=sum(p.quantity for p in mine),
               price_fen=gb.current_price_fen)
    return Left(gb, mine, waits, promoted)


def promote(conn: Connection, product_id: int, variant: str, now: datetime) -> list[Promotion]:
    """Serve waitlisted joins of this product and variant, in every open group buy, first come first
    served (oldest entry first) while the stock covers the head of the line. Runs in the caller's
    unit of work, which already holds the product's lock (a stock move or _lock), so each
    promotion commits together with the stock it takes."""
    line = conn.execute(
        select(groupbuy_waitlist.c.id, groupbuy_waitlist.c.groupbuy_id, groupbuy_waitlist.c.user_id,
               groupbuy_waitlist.c.quantity, groupbuys.c.group_id, products.c.code, products.c.name,
               groupbuys.c.lang)
        .join(groupbuys, groupbuys.c.id == groupbuy_waitlist.c.groupbuy_id)
        .join(products, products.c.id == groupbuys.c.product_id)
        .where(groupbuys.c.product_id == product_id, groupbuys.c.status == "open", groupbuys.c.deadline > now,
               groupbuy_waitlist.c.variant == variant)
        .order_by(groupbuy_waitlist.c.id)
    ).all()
    done = []
    for entry_id, gb_id, user_id, qty, group_id, code, name, lang in line:
        if not take_stock(conn, product_id, qty, variant):
            break
        conn.execute(delete(groupbuy_waitlist).where(groupbuy_waitlist.c.id == entry_id))
        _count(conn, gb_id, waiting=-1)
        join_no = _add_participant(conn, gb_id, user_id, variant, qty, now)
        _event(conn, gb_id, "promoted", now, user_id=user_id, quantity=qty)
        done.append(Promotion(gb_id, group_id, code, name, user_id, variant, qty, join_no, lang))
    names = member_names(conn, {(p.group_id, p.user_id) for p in done})
    for p in done:
        p.name = names.get((p.group_id, p.user_id), p.user_id)
    return done


_MEMBERS = getattr(tables, "members", None)  # members' names per group, where the schema has them


def member_names(conn: Connection, who: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(group, user): name} for those with a known name; the others are called by their id."""
    if _MEMBERS is None or not who:
        return {}
    users = sorted({u for _, u in who})
    rows = conn.execute(select(_MEMBERS.c.group_id, _MEMBERS.c.user_id, _MEMBERS.c.name)
                        .where(_MEMBERS.c.user_id.in_(users)))
    return {(g, u): n for g, u, n in rows if (g, u) in who and n}


def promote_product(conn: Connection, product_id: int, now: datetime) -> list[Promotion]:
    """After an owner changed a product's stock: serve every variant's line (or the product's own)."""
    lock_product(conn, product_id)
    variants = conn.execute(
        select(groupbuy_waitlist.c.variant).distinct()
        .join(groupbuys, groupbuys.c.id == groupbuy_waitlist.c.groupbuy_id)
        .where(groupbuys.c.product_id == product_id, groupbuys.c.status == "open")
    ).scalars().all()
    done = []
    for v in sorted(variants):
        done += promote(conn, product_id, v, now)
    return done


def reopen_groupbuy(
    conn: Connection, groupbuy_id: int, *, group_id: str, deadline: datetime, created_by: str, now: datetime
) -> tuple[GroupBuy, GroupBuy, list[str]] | None:
    """复团: a new group buy like an earlier one (product, basis, tiers, limit) in the same group.
    Returns (old, new, the old one's participants by name in join order, each once); None when no such id."""
    old = get_groupbuy(conn, groupbuy_id)
    if old is None:
        return None
    gb_id = conn.execute(
        insert(groupbuys).values(
            group_id=group_id, product_id=old.product_id, basis=old.basis, tiers=tiers_to_json(old.tiers),
            deadline=deadline, status="open", created_by=created_by, created_at=now, limit_qty=old.limit_qty,
            lang=old.lang,
        )
    ).inserted_primary_key[0]
    _event(conn, gb_id, "opened", now, user_id=created_by)
    people = list(dict.fromkeys(p.user_id for p in participants(conn, old.id)))  # settled ones keep theirs
    names = member_names(conn, {(old.group_id, u) for u in people})
    people = [names.get((old.group_id, u), u) for u in people]
    return old, get_groupbuy(conn, gb_id), people


def reminder_source(groupbuy_id: int) -> str:
    """The outbox source of a group buy's deadline reminder (catalog.reminders)."""
    return f"reminder:{groupbuy_id}"


_gp = groupbuy_participants
_PRICE, _NOW = bindparam("price", type_=BigInteger), bindparam("now", type_=UTCDateTime)
_ORDERS_FROM_JOINS = Prepared(
    insert(orders).from_select(
        ["group_id", "user_id", "product_id", "quantity", "unit_price_fen", "total_fen", "price_source", "status",
         "groupbuy_id", "created_at", "variant", "join_no", "confirmed_at", "pickup_point"],
        select(groupbuys.c.group_id, _gp.c.user_id, groupbuys.c.product_id, _gp.c.quantity, _PRICE,
               _PRICE * _gp.c.quantity, literal("groupbuy"), literal("confirmed"), groupbuys.c.id,
               _NOW, _gp.c.variant, _gp.c.join_no, _NOW,
               chosen_point(groupbuys.c.group_id, _gp.c.user_id))
        .join(groupbuys, groupbuys.c.id == _gp.c.groupbuy_id)
        .where(_gp.c.groupbuy_id == _GB_ID)
        .order_by(_gp.c.join_no),  # order numbers follow join numbers
    ).returning(orders.c.user_id, orders.c.variant, orders.c.id)
)


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
    dropped = waitlist(conn, gb.id)  # the line ends with the group buy; they are told in the announcement
    if dropped:
        conn.execute(delete(groupbuy_waitlist).where(groupbuy_waitlist.c.groupbuy_id == gb.id))
        _count(conn, gb.id, waiting=-len(dropped))
        for w in dropped:
            _event(conn, gb.id, "dropped", now, user_id=w.user_id, quantity=w.quantity)
    if price is None:
        back: dict[str, int] = {}  # pieces per variant: one stock move each, however many joined
        for p in people:
            back[p.variant] = back.get(p.variant, 0) + p.quantity
        promoted = []
        for v, qty in back.items():
            return_stock(conn, gb.product_id, qty, v)
            promoted += promote(conn, gb.product_id, v, now)
        _event(conn, gb.id, "failed", now, quantity=gb.quantity)
        return Settlement(gb, False, dropped=dropped, promotions=promoted)
    # Every join becomes a confirmed order (a member holding several sizes has a join, and so an order,
    # for each) with its join number and the member's pickup point, in one statement however many joined;
    # ids are matched back by join (user and variant).
    order_ids = {(user, variant): oid for user, variant, oid in _ORDERS_FROM_JOINS.all(
        conn, {"groupbuy_id": gb.id, "price": price, "now": now})}
    made = [(p, order_ids[p.user_id, p.variant]) for p in people]
    _event(conn, gb.id, "settled", now, quantity=gb.quantity, price_fen=price)
    return Settlement(gb, True, made, dropped=dropped)
