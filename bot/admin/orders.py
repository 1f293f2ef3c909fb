"""Admin: orders, filtered by group, user and status."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from bot.admin.common import db
from catalog.members import names_in
from catalog.orders import list_orders

router = APIRouter(tags=["orders"])


@router.get("/orders")
def orders(
    request: Request,
    group_id: str | None = None,
    user_id: str | None = None,
    status: Literal["pending", "confirmed", "cancelled"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
):
    with db(request).read() as conn:
        found = list_orders(conn, group_id=group_id or None, user_id=user_id or None, status=status, limit=limit, offset=offset)
        names = names_in(conn, [(o.group_id, o.user_id) for o in found])
    return [{**o.to_json(), "user_name": names[(o.group_id, o.user_id)]} for o in found]
