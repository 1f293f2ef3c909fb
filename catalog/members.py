"""Members' names per group: the latest name a channel carried for them (latest wins); without one, the id."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.tables import members


def remember_name(conn: Connection, group_id: str, user_id: str, name: str, now: datetime) -> None:
    """Insert or rename; a row already holding this name is left alone (no write)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(members).values(group_id=group_id, user_id=user_id, name=name, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["group_id", "user_id"],
        set_={"name": stmt.excluded.name, "updated_at": stmt.excluded.updated_at},
        where=members.c.name != stmt.excluded.name,
    ))


def name_of(conn: Connection, group_id: str, user_id: str) -> str:
    """The member's name in this group, or their id when no channel ever named them."""
    name = conn.execute(
        select(members.c.name).where(members.c.group_id == group_id, members.c.user_id == user_id)
    ).scalar_one_or_none()
    return name or user_id


def names_of(conn: Connection, group_id: str, user_ids: Iterable[str]) -> dict[str, str]:
    """{user_id: name} for every id given (the id itself where there is no name)."""
    ids = list(dict.fromkeys(user_ids))
    found: dict[str, str] = {}
    for i in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[i:i + 500]
        found.update(conn.execute(
            select(members.c.user_id, members.c.name)
            .where(members.c.group_id == group_id, members.c.user_id.in_(chunk))
        ).all())
    return {u: found.get(u) or u for u in ids}


def names_in(conn: Connection, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(group_id, user_id): name} across groups (admin listings); the id where there is no name."""
    keys = list(dict.fromkeys(pairs))
    found: dict[tuple[str, str], str] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        rows = conn.execute(
            select(members.c.group_id, members.c.user_id, members.c.name)
            .where(tuple_(members.c.group_id, members.c.user_id).in_(chunk))
        ).all()
        found.update({(g, u): n for g, u, n in rows})
    return {k: found.get(k) or k[1] for k in keys}
