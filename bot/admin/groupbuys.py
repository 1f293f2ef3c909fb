"""Admin: group buys (SPEC section 4), one with its participants, and its event history."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request

from bot.admin.common import Limit, Offset, db
from bot.admin.schemas import EventOut, GroupBuyDetail, GroupBuyOut, errors
from catalog.groupbuys import MAX_ID, events, get_groupbuy, list_groupbuys, participants

router = APIRouter(tags=["groupbuys"])

GroupBuyId = Path(..., ge=1, le=MAX_ID)


@router.get("/groupbuys", response_model=list[GroupBuyOut], responses=errors(422))
def groupbuys(
    request: Request,
    group_id: str | None = Query(None, max_length=128),
    status: Literal["open", "succeeded", "failed"] | None = None,
    limit: int = Limit,
    offset: int = Offset,
):
    with db(request).read() as conn:
        found = list_groupbuys(conn, group_id=group_id or None, status=status, limit=limit, offset=offset)
    return [gb.to_json() for gb in found]


@router.get("/groupbuys/{groupbuy_id}", response_model=GroupBuyDetail, responses=errors(404, 422))
def groupbuy(request: Request, groupbuy_id: int = GroupBuyId):
    """The list shape plus the product name, the final price, who opened it, and `members`
    (`participants` stays the count, as in the list)."""
    with db(request).read() as conn:
        gb = get_groupbuy(conn, groupbuy_id)
        if gb is None:
            raise HTTPException(404, f"no group buy {groupbuy_id}")
        members = participants(conn, groupbuy_id)
    return {
        **gb.to_json(),
        "product_name": gb.product_name,
        "final_price_fen": gb.final_price_fen,
        "created_by": gb.created_by,
        "created_at": gb.created_at.isoformat(),
        "settled_at": gb.settled_at.isoformat() if gb.settled_at else None,
        "members": [p.to_json() for p in members],
    }


@router.get("/groupbuys/{groupbuy_id}/events", response_model=list[EventOut], responses=errors(404, 422))
def groupbuy_events(request: Request, groupbuy_id: int = GroupBuyId):
    with db(request).read() as conn:
        if get_groupbuy(conn, groupbuy_id) is None:
            raise HTTPException(404, f"no group buy {groupbuy_id}")
        history = events(conn, groupbuy_id)
    return [e.to_json() for e in history]
