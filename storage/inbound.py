"""Inbound message records: insert-first dedupe, the stored reply for duplicates, and the activity log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.prepared import Prepared
from storage.tables import inbound_messages

DEDUPE = "uq_inbound_messages_channel_msg"
_DEDUPE_COLUMNS = next(
    c.columns.keys() for c in inbound_messages.constraints if isinstance(c, UniqueConstraint) and c.name == DEDUPE
)
# SQLite names no constraint in its error, only the columns of the unique index that said no.
_SQLITE_DEDUPE = "UNIQUE constraint failed: " + ", ".join(f"inbound_messages.{c}" for c in _DEDUPE_COLUMNS)

_RECORDED = (
    "channel", "msg_id", "group_id", "sender_id", "kind", "event", "inviter_id", "is_command", "command", "received_at",
)
# Both run once per message: prepared (storage/prepared.py), not built and executed through SQLAlchemy.
_INSERT = Prepared(
    inbound_messages.insert()
    .values({name: bindparam(name) for name in _RECORDED})
    .returning(inbound_messages.c.id)
)
_SAVE_REPLY = Prepared(
    update(inbound_messages).where(inbound_messages.c.id == bindparam("row_id")).values(reply=bindparam("reply"))
)


class DuplicateMessage(Exception):
    """This (channel, msg_id) was recorded before; the caller rolls back and answers the stored reply."""


def record_inbound(
    conn: Connection,
    *,
    channel: str,
    msg_id: str,
    group_id: str,
    sender_id: str,
    kind: str,
    received_at: datetime,
    is_command: bool = False,
    command: str | None = None,
    event: str | None = None,
    inviter_id: str | None = None,
) -> int:
    """Insert first: the unique (channel, msg_id) makes a concurrent copy wait for this transaction
    and then fail, so a message is acted on once however many copies arrive at the same time.
    Raises DuplicateMessage for such a copy; any other database error as SQLAlchemy raises it."""
    try:
        return _INSERT.returned(
            conn,
            {
                "channel": channel,
                "msg_id": msg_id,
                "group_id": group_id,
                "sender_id": sender_id,
                "kind": kind,
                "event": event,
                "inviter_id": inviter_id,
                "is_command": is_command,
                "command": command,
                "received_at": received_at,
            },
        )
    except IntegrityError as exc:
        if not _is_dedupe(exc):
            raise  # another constraint said no: an error like any other, not a repeat of this message
        raise DuplicateMessage(msg_id) from exc


def _is_dedupe(error: IntegrityError) -> bool:
    """Whether the dedupe record's unique constraint (channel, msg_id) is what refused the insert."""
    diag = getattr(error.orig, "diag", None)  # psycopg names the constraint
    if diag is not None:
        return diag.constraint_name == DEDUPE
    return str(error.orig) == _SQLITE_DEDUPE


def save_reply(conn: Connection, row_id: int, reply: list) -> None:
    """`reply`: the texts answered, possibly followed by one JSON object describing them (handlers' Reply.stored)."""
    _SAVE_REPLY.rowcount(conn, {"row_id": row_id, "reply": reply})


def stored_reply(conn: Connection, channel: str, msg_id: str) -> list | None:
    row = conn.execute(
        select(inbound_messages.c.reply).where(
            inbound_messages.c.channel == channel, inbound_messages.c.msg_id == msg_id
        )
    ).first()
    return None if row is None else list(row.reply or [])
