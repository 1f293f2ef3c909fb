"""A group's content queue and nudging: a group quiet for its nudge_after_hours gets the next unused item."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from storage.outbox import enqueue
from storage.tables import content_items, groups, inbound_messages

MAX_TEXT = 2000


@dataclass
class ContentItem:
    id: int
    group_id: str
    text: str
    created_at: datetime
    used_at: datetime | None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "group_id": self.group_id,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "used_at": self.used_at.isoformat() if self.used_at else None,
        }


_COLUMNS = (content_items.c.id, content_items.c.group_id, content_items.c.text, content_items.c.created_at,
            content_items.c.used_at)


def add_item(conn: Connection, group_id: str, text: str, now: datetime) -> ContentItem:
    item_id = conn.execute(
        content_items.insert().values(group_id=group_id, text=text, created_at=now)
    ).inserted_primary_key[0]
    return ContentItem(item_id, group_id, text, now, None)


def list_items(conn: Connection, group_id: str) -> list[ContentItem]:
    """The group's queue in order: used items first (as history), then the ones still to send."""
    rows = conn.execute(select(*_COLUMNS).where(content_items.c.group_id == group_id).order_by(content_items.c.id))
    return [ContentItem(*r) for r in rows]


def quiet_groups(conn: Connection, now: datetime, limit: int = 500) -> list[tuple[str, datetime | None]]:
    """Groups with nudging on that have been quiet for their full period: (group_id, last_nudge_at).

    Quiet since = the latest of its last inbound text message, its last nudge and its creation; so after
    a nudge the group must be quiet for another full period before the next one. Events (joins) do not
    count as activity. Only groups with an unused content item are returned: with none, nothing is sent."""
    last_msg = (
        select(func.max(inbound_messages.c.received_at))
        .where(inbound_messages.c.group_id == groups.c.group_id, inbound_messages.c.kind == "text")
        .scalar_subquery()
    )
    has_item = (
        select(content_items.c.id)
        .where(content_items.c.group_id == groups.c.group_id, content_items.c.used_at.is_(None))
        .exists()
    )
    rows = conn.execute(
        select(groups.c.group_id, groups.c.nudge_after_hours, groups.c.created_at, groups.c.last_nudge_at,
               last_msg.label("last_msg"))
        .where(groups.c.nudge_after_hours.is_not(None), has_item)
        .order_by(groups.c.group_id)
    ).all()
    out = []
    for r in rows:
        since = max(t for t in (r.created_at, r.last_nudge_at, r.last_msg) if t is not None)
        if now - since >= timedelta(hours=r.nudge_after_hours):
            out.append((r.group_id, r.last_nudge_at))
            if len(out) >= limit:
                break
    return out


class ContentTaken(Exception):
    """The item was used by someone else between reading and taking it; the caller rolls back."""


def nudge(conn: Connection, group_id: str, last_nudge_at: datetime | None, now: datetime) -> int | None:
    """Send the group its next unused content item; returns the item id, or None when the queue is empty
    or another process nudged the group first (the conditional UPDATE on last_nudge_at)."""
    item = conn.execute(
        select(content_items.c.id, content_items.c.text)
        .where(content_items.c.group_id == group_id, content_items.c.used_at.is_(None))
        .order_by(content_items.c.id)
        .limit(1)
    ).first()
    if item is None:
        return None
    claimed = conn.execute(
        update(groups)
        .where(
            groups.c.group_id == group_id,
            groups.c.last_nudge_at.is_(None) if last_nudge_at is None else groups.c.last_nudge_at == last_nudge_at,
        )
        .values(last_nudge_at=now)
    ).rowcount == 1
    if not claimed:
        return None
    taken = conn.execute(
        update(content_items).where(content_items.c.id == item.id, content_items.c.used_at.is_(None)).values(used_at=now)
    ).rowcount == 1
    if not taken:
        raise ContentTaken(item.id)
    enqueue(conn, group_id, item.text, now, source="nudge")
    return item.id
