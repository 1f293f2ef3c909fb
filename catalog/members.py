"""Members' names per group: the latest name a channel carried for them (latest wins); without one, the id."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.prepared import Prepared
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


# Run for the @mention of nearly every reply on channels that carry no names (WeChat, WeCom): prepared,
# as the other per-message statements are (storage/prepared.py).
_NAME_OF = Prepared(select(members.c.name).where(members.c.group_id == bindparam("group_id"),
                                                 members.c.user_id == bindparam("user_id")))


def name_of(conn: Connection, group_id: str, user_id: str) -> str:
    """The member's name in this group, or their id when no channel ever named them."""
    row = _NAME_OF.first(conn, {"group_id": group_id, "user_id": user_id})
    return (row[0] if row else None) or user_id


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


# The pairs go as one JSON parameter, each looked up in the primary key: one statement, compiled once,
# whatever their number (admin stats name thousands of contributors at once). SQLite takes them grouped,
# {group_id: [user_id, …]}: taking each pair apart with json_extract cost as much as its lookup (the CROSS
# JOINs keep the order: a group, its users, then the lookup). PostgreSQL takes [[group_id, user_id], …]:
# given them grouped, its planner reads all of a group's members to match them.
_NAMES_IN = {
    "sqlite": text(
        "SELECT m.group_id, m.user_id, m.name FROM json_each(:pairs) AS g CROSS JOIN json_each(g.value) AS u"
        " CROSS JOIN members AS m ON m.group_id = g.key AND m.user_id = u.value"
    ),
    "postgresql": text(
        "SELECT m.group_id, m.user_id, m.name FROM jsonb_array_elements(CAST(:pairs AS jsonb)) AS j(value)"
        " JOIN members AS m ON m.group_id = j.value->>0 AND m.user_id = j.value->>1"
    ),
}


def named_in(conn: Connection, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(group_id, user_id): name} of the pairs that have a name (a pair may repeat): one statement."""
    if not pairs:
        return {}
    if conn.dialect.name == "sqlite":
        by_group: dict[str, list[str]] = {}
        for group_id, user_id in pairs:
            by_group.setdefault(group_id, []).append(user_id)
        param = json.dumps(by_group)
    else:
        param = json.dumps(pairs)
    return {(g, u): n for g, u, n in conn.execute(_NAMES_IN[conn.dialect.name], {"pairs": param})}


def names_in(conn: Connection, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(group_id, user_id): name} across groups (admin listings); the id where there is no name."""
    keys = list(dict.fromkeys(pairs))
    found = named_in(conn, keys)
    return {k: found.get(k) or k[1] for k in keys}
