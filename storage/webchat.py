"""The web group chat's record: what a group's /chat page shows, in per-group `seq` order.

Three kinds of rows: `said` (typed on the page), `reply` (the bot's answer to a `said`, pointing at it),
`push` (an outbox message to a group whose push target is {"kind": "web"}; recorded = delivered).
Every writer first takes the group's web_chat_seqs row (an upsert: a row lock until commit on
PostgreSQL, the single writer on SQLite), so a group's rows commit in seq order and a reader that asks
for "seq > N" never skips one that commits later with a smaller seq."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.tables import web_chat_messages as wcm
from storage.tables import web_chat_seqs

HISTORY = 100  # rows a newly opened page is shown


@dataclass(frozen=True)
class WebMessage:
    seq: int
    kind: str  # said | reply | push
    sender_id: str | None
    sender_name: str | None
    text: str
    reply_to: int | None
    created_at: datetime
    client_msg_id: str | None  # said: the page's own id of it


_COLUMNS = (wcm.c.seq, wcm.c.kind, wcm.c.sender_id, wcm.c.sender_name, wcm.c.text, wcm.c.reply_to, wcm.c.created_at,
            wcm.c.client_msg_id)


def _take_seqs(conn: Connection, group_id: str, n: int) -> int:
    """Reserve `n` seqs of the group; returns the first. Holds the group's counter row until commit."""
    ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(web_chat_seqs)
    last = conn.execute(
        ins.values(group_id=group_id, last_seq=n)
        .on_conflict_do_update(index_elements=["group_id"], set_={"last_seq": web_chat_seqs.c.last_seq + n})
        .returning(web_chat_seqs.c.last_seq)
    ).scalar_one()
    return last - n + 1


def record_exchange(conn: Connection, group_id: str, *, sender_id: str, sender_name: str | None, text: str,
                    client_msg_id: str, replies: list[str], now: datetime) -> list[WebMessage]:
    """Record what was typed and the bot's replies under it, once per client_msg_id: a second call with
    the same id (a double click, a retried request) records nothing and returns the first record."""
    # The counter's lock first, then the look for a twin: two copies of one request cannot both record.
    # A twin leaves a gap in the seqs, which readers of "seq > N" do not mind.
    first = _take_seqs(conn, group_id, 1 + len(replies))
    existing = _exchange(conn, group_id, client_msg_id)
    if existing:
        return existing
    rows = [dict(group_id=group_id, seq=first, kind="said", sender_id=sender_id, sender_name=sender_name, text=text,
                 reply_to=None, client_msg_id=client_msg_id, delivery_id=None, created_at=now)]
    rows += [dict(group_id=group_id, seq=first + 1 + i, kind="reply", sender_id=None, sender_name=None, text=r,
                  reply_to=first, client_msg_id=None, delivery_id=None, created_at=now) for i, r in enumerate(replies)]
    conn.execute(insert(wcm), rows)
    return [WebMessage(r["seq"], r["kind"], r["sender_id"], r["sender_name"], r["text"], r["reply_to"], now,
                       r["client_msg_id"]) for r in rows]


def _exchange(conn: Connection, group_id: str, client_msg_id: str) -> list[WebMessage]:
    said = conn.execute(
        select(wcm.c.seq).where(wcm.c.group_id == group_id, wcm.c.client_msg_id == client_msg_id)
    ).scalar()
    if said is None:
        return []
    rows = conn.execute(
        select(*_COLUMNS).where(wcm.c.group_id == group_id, (wcm.c.seq == said) | (wcm.c.reply_to == said))
        .order_by(wcm.c.seq)
    ).all()
    return [WebMessage(*r) for r in rows]


def record_pushes(conn: Connection, pushes: Iterable[tuple[str, str, str]], now: datetime) -> int:
    """Record outbox messages (group_id, delivery_id, text) for their groups' pages; returns how many were
    new. A delivery_id recorded before is skipped (its unique key), so a message shows once."""
    by_group: dict[str, list[tuple[str, str]]] = {}
    for group_id, delivery_id, text in pushes:
        by_group.setdefault(group_id, []).append((delivery_id, text))
    recorded = 0
    for group_id in sorted(by_group):  # one lock order for counter rows: no deadlock between writers
        items = by_group[group_id]
        seen = set(conn.execute(
            select(wcm.c.delivery_id).where(wcm.c.delivery_id.in_([d for d, _ in items]))
        ).scalars())
        new = [(d, t) for d, t in items if d not in seen]
        if not new:
            continue
        first = _take_seqs(conn, group_id, len(new))
        conn.execute(insert(wcm), [
            dict(group_id=group_id, seq=first + i, kind="push", sender_id=None, sender_name=None, text=t,
                 reply_to=None, client_msg_id=None, delivery_id=d, created_at=now)
            for i, (d, t) in enumerate(new)
        ])
        recorded += len(new)
    return recorded


def messages_after(conn: Connection, group_id: str, after: int, limit: int = 200) -> list[WebMessage]:
    """The group's rows with seq > `after`, oldest first (what a connected page has not seen yet)."""
    rows = conn.execute(
        select(*_COLUMNS).where(wcm.c.group_id == group_id, wcm.c.seq > after).order_by(wcm.c.seq).limit(limit)
    ).all()
    return [WebMessage(*r) for r in rows]


def recent_messages(conn: Connection, group_id: str, limit: int = HISTORY) -> list[WebMessage]:
    """The group's latest `limit` rows, oldest first (what a newly opened page shows)."""
    rows = conn.execute(
        select(*_COLUMNS).where(wcm.c.group_id == group_id).order_by(wcm.c.seq.desc()).limit(limit)
    ).all()
    return [WebMessage(*r) for r in reversed(rows)]
