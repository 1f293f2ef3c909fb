"""Pickup points (自提点): a group's list, kept by its owners, and each member's choice among them."""
from __future__ import annotations

import difflib
import unicodedata
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.prepared import Prepared
from storage.tables import member_pickups, pickup_points

MAX_NAME = 100
MAX_POINTS = 50


class BadPickupName(ValueError):
    """`reason`: "empty", "too_long" or "too_many"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def clean_name(text: str) -> str:
    """A pickup point's name as kept: NFKC, inner runs of space as one, trimmed. Raises BadPickupName."""
    name = " ".join(unicodedata.normalize("NFKC", text).split())
    if not name:
        raise BadPickupName("empty")
    if len(name) > MAX_NAME:
        raise BadPickupName("too_long")
    return name


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().replace(" ", "")


def _insert(conn: Connection, table):
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def list_points(conn: Connection, group_id: str) -> list[str]:
    """The group's pickup points in the order they were added."""
    q = select(pickup_points.c.name).where(pickup_points.c.group_id == group_id).order_by(pickup_points.c.id)
    return list(conn.execute(q).scalars())


def find_point(conn: Connection, group_id: str, typed: str) -> str | None:
    """The group's point whose name matches what was typed (case, width and spaces aside)."""
    key = _key(typed)
    return next((p for p in list_points(conn, group_id) if _key(p) == key), None)


def nearest_points(names: list[str], typed: str, n: int = 3) -> list[str]:
    keys = {_key(p): p for p in names}
    close = difflib.get_close_matches(_key(typed), list(keys), n=n, cutoff=0.3)
    return [keys[k] for k in close]


def add_point(conn: Connection, group_id: str, name: str, now: datetime) -> bool:
    """Add a point; False when the group already has it (one statement: two owners adding it at once add it once)."""
    name = clean_name(name)
    if find_point(conn, group_id, name) is not None:
        return False
    count = conn.execute(select(func.count()).where(pickup_points.c.group_id == group_id)).scalar_one()
    if count >= MAX_POINTS:
        raise BadPickupName("too_many")
    stmt = _insert(conn, pickup_points).values(group_id=group_id, name=name, created_at=now)
    stmt = stmt.on_conflict_do_nothing(index_elements=["group_id", "name"]).returning(pickup_points.c.id)
    return conn.execute(stmt).first() is not None


def remove_point(conn: Connection, group_id: str, name: str) -> str | None:
    """Remove a point (the name as kept, or None when there is none such). Members who had chosen
    it have no choice any more; orders already confirmed keep it as written."""
    found = find_point(conn, group_id, name)
    if found is None:
        return None
    conn.execute(delete(pickup_points).where(pickup_points.c.group_id == group_id, pickup_points.c.name == found))
    conn.execute(
        delete(member_pickups).where(member_pickups.c.group_id == group_id, member_pickups.c.pickup_point == found)
    )
    return found


def replace_points(conn: Connection, group_id: str, names: list[str], now: datetime) -> list[str]:
    """The admin API's whole list: points not in it go (with members' choices of them), new ones come."""
    wanted: list[str] = []
    for n in names:
        n = clean_name(n)
        if _key(n) not in {_key(w) for w in wanted}:
            wanted.append(n)
    if len(wanted) > MAX_POINTS:
        raise BadPickupName("too_many")
    for old in list_points(conn, group_id):
        if _key(old) not in {_key(w) for w in wanted}:
            remove_point(conn, group_id, old)
    for n in wanted:
        add_point(conn, group_id, n, now)
    return list_points(conn, group_id)


def choose_point(conn: Connection, group_id: str, user_id: str, name: str, now: datetime) -> None:
    stmt = _insert(conn, member_pickups).values(group_id=group_id, user_id=user_id, pickup_point=name, chosen_at=now)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["group_id", "user_id"], set_={"pickup_point": name, "chosen_at": now}
    ))


# Every 下单, 参团 and +N asks needs_choice: prepared once (storage/prepared.py), not built per message.
_CHOSEN = Prepared(select(member_pickups.c.pickup_point).where(
    member_pickups.c.group_id == bindparam("group_id"), member_pickups.c.user_id == bindparam("user_id")
))
# After every 下单/参团/+N: one statement, whether or not the group has points.
_NEEDS_CHOICE = Prepared(select(and_(
    exists().where(pickup_points.c.group_id == bindparam("group_id")),
    ~exists().where(member_pickups.c.group_id == bindparam("group_id"), member_pickups.c.user_id == bindparam("user_id")),
)))


def chosen_point(conn: Connection, group_id: str, user_id: str) -> str | None:
    return _CHOSEN.scalar(conn, {"group_id": group_id, "user_id": user_id})


def needs_choice(conn: Connection, group_id: str, user_id: str) -> bool:
    """The group has pickup points and this member has chosen none."""
    return bool(_NEEDS_CHOICE.scalar(conn, {"group_id": group_id, "user_id": user_id}))
