"""Admin: the outbox — every message to a group, its delivery status, tries and last error."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from bot.admin.common import Limit, Offset, db
from bot.admin.schemas import OutboxOut, errors
from storage.outbox import list_outbox

router = APIRouter(tags=["outbox"])


@router.get("/outbox", response_model=list[OutboxOut], responses=errors(422))
def index(
    request: Request,
    status: Literal["pending", "sent", "dead"] | None = None,
    group_id: str | None = Query(None, max_length=128),
    limit: int = Limit,
    offset: int = Offset,
):
    with db(request).read() as conn:
        rows = list_outbox(conn, status=status, group_id=group_id or None, limit=limit, offset=offset)
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows]
