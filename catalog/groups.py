"""Groups: their settings (owners, push target, nudging) and who counts as an owner in them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.tables import groupbuys, groups, inbound_messages, orders


@dataclass
class Group:
    group_id: str
    name: str | None
    owners: list[str]
    push_target: dict[str, Any] | None
    nudge_after_hours: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "name": self.name,
            "owners": self.owners,
            "push_target": self.push_target,
            "nudge_after_hours": self.nudge_after_hours,
        }


def _insert(conn: Connection):
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(groups)


def ensure_group(conn: Connection, group_id: str, name: str | None, now: datetime) -> None:
    """Make sure a group seen in a message has its row (no-op when it exists)."""
    stmt = _insert(conn).values(group_id=group_id, name=name, owners=[], created_at=now)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["group_id"]))


def get_group(conn: Connection, group_id: str) -> Group | None:
    row = conn.execute(
        select(groups.c.group_id, groups.c.name, groups.c.owners, groups.c.push_target, groups.c.nudge_after_hours)
        .where(groups.c.group_id == group_id)
    ).first()
    return None if row is None else Group(row[0], row[1], list(row[2] or []), row[3], row[4])


def put_group(conn: Connection, group_id: str, fields: dict[str, Any], now: datetime) -> Group:
    """Create or replace a group's settings (PUT semantics for the given fields)."""
    ensure_group(conn, group_id, fields.get("name"), now)
    if fields:
        conn.execute(update(groups).where(groups.c.group_id == group_id).values(**fields))
    return get_group(conn, group_id)


def effective_role(channel_role: str, sender_id: str, group: Group | None, global_owners: frozenset[str]) -> str:
    """The highest of: the role the channel carried, TUANBOT_OWNERS, and the group's own owner list."""
    if sender_id in global_owners or (group is not None and sender_id in group.owners):
        return "owner"
    return channel_role if channel_role in ("owner", "admin") else "member"


def group_counts(conn: Connection, group_id: str) -> dict[str, int]:
    """The admin view's counts: texts and distinct senders seen, orders not cancelled, open group buys."""
    texts = select(func.count(), func.count(func.distinct(inbound_messages.c.sender_id))).where(
        inbound_messages.c.group_id == group_id, inbound_messages.c.kind == "text"
    )
    messages, members = conn.execute(texts).one()
    n_orders = conn.execute(
        select(func.count()).select_from(orders).where(orders.c.group_id == group_id, orders.c.status != "cancelled")
    ).scalar_one()
    open_gbs = conn.execute(
        select(func.count()).select_from(groupbuys).where(groupbuys.c.group_id == group_id, groupbuys.c.status == "open")
    ).scalar_one()
    return {"messages": messages, "members": members, "orders": n_orders, "open_groupbuys": open_gbs}
