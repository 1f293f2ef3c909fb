"""Browse cursors: where a member's 商品/browse listing goes on with 更多/more (one row per chat and member)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.prepared import Prepared
from storage.tables import browse_cursors


def _upsert_cursor(dialect):
    stmt = dialect.insert(browse_cursors)
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "user_id"],
        set_={"word": stmt.excluded.word, "next_offset": stmt.excluded.next_offset, "updated_at": stmt.excluded.updated_at},
    )


# Every 商品 runs one of them: prepared once (storage/prepared.py).
_SAVE_CURSOR = {"postgresql": Prepared(_upsert_cursor(postgresql)), "sqlite": Prepared(_upsert_cursor(sqlite))}
_FORGET_CURSOR = Prepared(delete(browse_cursors).where(
    browse_cursors.c.chat_id == bindparam("chat_id"), browse_cursors.c.user_id == bindparam("user_id")
))


def get_cursor(conn: Connection, chat_id: str, user_id: str) -> tuple[str, int] | None:
    """(word, next offset) of the member's listing in this chat, or None when there is no next page."""
    row = conn.execute(
        select(browse_cursors.c.word, browse_cursors.c.next_offset).where(
            browse_cursors.c.chat_id == chat_id, browse_cursors.c.user_id == user_id
        )
    ).first()
    return None if row is None else (row.word, row.next_offset)


def save_cursor(conn: Connection, chat_id: str, user_id: str, word: str, next_offset: int, now: datetime) -> None:
    stmt = _SAVE_CURSOR["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    stmt.rowcount(
        conn, {"chat_id": chat_id, "user_id": user_id, "word": word, "next_offset": next_offset, "updated_at": now},
    )


def forget_cursor(conn: Connection, chat_id: str, user_id: str) -> None:
    _FORGET_CURSOR.rowcount(conn, {"chat_id": chat_id, "user_id": user_id})
