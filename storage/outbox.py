"""The outbox: every message to a group is a row written in the same transaction as its cause."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.engine import Connection

from storage.tables import outbox


def enqueue(conn: Connection, group_id: str, text: str, now: datetime, source: str | None = None) -> str:
    """Queue one message for a group; returns its delivery_id (the same on every retry)."""
    delivery_id = uuid.uuid4().hex
    conn.execute(
        outbox.insert().values(
            group_id=group_id,
            delivery_id=delivery_id,
            text=text,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            source=source,
            created_at=now,
        )
    )
    return delivery_id
