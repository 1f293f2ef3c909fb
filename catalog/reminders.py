"""Deadline reminders: once per group buy, an hour before it closes, the group hears what the next tier needs."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from catalog.groupbuys import get_groupbuy, groupbuy_progress, reminder_source
from storage.outbox import enqueue
from storage.tables import groupbuys

REMIND_BEFORE = timedelta(hours=1)


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


def remind(conn: Connection, groupbuy_id: int, now: datetime) -> str | None:
    """Claim the group buy's one reminder (conditional UPDATE of reminded_at) and queue it for the group;
    returns the text, or None when it was reminded already, settled, or is not closing within the hour."""
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
    if not claimed:
        return None
    gb = get_groupbuy(conn, groupbuy_id)
    text = reminder_text(gb.id, gb.product_code, gb.product_name, gb.deadline - now,
                         groupbuy_progress(conn, gb.id, "zh"))
    enqueue(conn, gb.group_id, text, now, source=reminder_source(gb.id))
    return text


def reminder_text(gb_id: int, code: str, name: str, left: timedelta, progress: str) -> str:
    """`团购 #3 A12 潮流男鞋 还剩 1 小时，再 2 人降到 ¥79.00。发送“参团 3”加入。`"""
    minutes = max(1, math.ceil(left.total_seconds() / 60))
    when = "还剩 1 小时" if minutes >= 60 else f"还剩 {minutes} 分钟"
    return f"团购 #{gb_id} {code} {name} {when}，{progress}。发送“参团 {gb_id}”加入。"
