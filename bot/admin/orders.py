"""Admin: orders, filtered by group, user and status."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from bot.admin.common import Limit, Offset, db
from bot.admin.schemas import OrderOut, errors
from catalog.members import names_in
from catalog.orders import list_orders

router = APIRouter(tags=["orders"])


@router.get("/orders", response_model=list[OrderOut], responses=errors(422))
def orders(
    request: Request,
    group_id: str | None = Query(None, max_length=128),
    user_id: str | None = Query(None, max_length=128),
    status: Literal["pending", "confirmed", "cancelled"] | None = None,
    limit: int = Limit,
    offset: int = Offset,
):
    with db(request).read() as conn:
        found = list_orders(conn, group_id=group_id or None, user_id=user_id or None, status=status, limit=limit, offset=offset)
        names = names_in(conn, [(o.group_id, o.user_id) for o in found])
    return [{**o.to_json(), "user_name": names[(o.group_id, o.user_id)]} for o in found]
