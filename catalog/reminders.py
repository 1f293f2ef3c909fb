"""Deadline reminders: once per group buy, an hour before it closes, the group hears what the next tier needs
(the words: handlers.announcements)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from catalog.groupbuys import REMIND_BEFORE, GroupBuy, get_groupbuy, reminder_source
from storage.outbox import enqueue
from storage.tables import groupbuys


def due_reminders(conn: Connection, now: datetime, limit: int = 100) -> list[int]:
    """Open group buys closing within the hour that have not been reminded yet."""
    rows = conn.execute(
        select(groupbuys.c.id)
        .where(
            groupbuys.c.status == "open",
            groupbuys.c.reminded_at.is_(None),
            groupbuys.c.deadline > now,
            groupbuys.c.deadline <= now + REMIND_BEFORE,
        )
        .order_by(groupbuys.c.deadline, groupbuys.c.id)
        .limit(limit)
    )
    return list(rows.scalars())


def claim_reminder(conn: Connection, groupbuy_id: int, now: datetime) -> GroupBuy | None:
    """Claim the group buy's one reminder (conditional UPDATE of reminded_at); the group buy, or None when
    it was reminded already, settled, or is not closing within the hour."""
    claimed = conn.execute(
        update(groupbuys)
        .where(
            groupbuys.c.id == groupbuy_id,
            groupbuys.c.reminded_at.is_(None),
            groupbuys.c.status == "open",
            groupbuys.c.deadline > now,
            groupbuys.c.deadline <= now + REMIND_BEFORE,
        )
        .values(reminded_at=now)
    ).rowcount == 1
    return get_groupbuy(conn, groupbuy_id) if claimed else None


def queue_reminder(conn: Connection, gb: GroupBuy, text: str, now: datetime) -> None:
    """Queue the claimed reminder for the group; settling withdraws it if it is still waiting then."""
    enqueue(conn, gb.group_id, text, now, source=reminder_source(gb.id))
