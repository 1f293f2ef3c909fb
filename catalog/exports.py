"""Spreadsheet links sent into a chat (导出): an unguessable token naming one group (and group buy),
valid for a day. Only the token's SHA-256 is stored, so the table alone opens nothing."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from storage.tables import export_links

VALID_FOR = timedelta(hours=24)
TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters


@dataclass(frozen=True)
class ExportScope:
    group_id: str
    groupbuy_id: int | None
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_link(conn: Connection, group_id: str, groupbuy_id: int | None, created_by: str, now: datetime) -> tuple[str, datetime]:
    """A new token (returned once, never stored) and when it expires. Expired links are dropped here."""
    conn.execute(delete(export_links).where(export_links.c.expires_at <= now))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + VALID_FOR
    conn.execute(insert(export_links).values(
        token_sha256=_digest(token), group_id=group_id, groupbuy_id=groupbuy_id, created_by=created_by,
        created_at=now, expires_at=expires,
    ))
    return token, expires


def resolve_link(conn: Connection, token: str, now: datetime) -> ExportScope | None:
    """What a token opens, or None when it is unknown or expired (the caller cannot tell which)."""
    if not 16 <= len(token) <= 128:
        return None
    row = conn.execute(
        select(export_links.c.group_id, export_links.c.groupbuy_id, export_links.c.expires_at)
        .where(export_links.c.token_sha256 == _digest(token), export_links.c.expires_at > now)
    ).first()
    return None if row is None else ExportScope(*row)
