"""Admin: the outbox — every message to a group, its delivery status, tries and last error."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from bot.admin.common import Limit, Offset, db, now
from bot.admin.schemas import OutboxOut, errors
from handlers.when import quiet_until
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
    settings, current = request.app.state.settings, now(request)
    for r in rows:
        # A pending row due inside quiet hours waits for their end: say when it will really go.
        due = max(r["next_attempt_at"], current)
        held = quiet_until(due, settings.quiet, settings.tz) if r["status"] == "pending" else None
        r["held_until"] = held
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows]
