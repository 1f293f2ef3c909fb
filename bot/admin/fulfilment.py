"""Admin: a group's pick list and its order spreadsheet (CSV, xlsx)."""
from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from bot.admin.common import db
from bot.admin.schemas import errors
from bot.spreadsheets import orders_csv, orders_xlsx
from catalog.fulfilment import groupbuy_in_group, lines, picklist
from catalog.groupbuys import MAX_ID
from catalog.groups import get_group
from catalog.pickups import list_points

router = APIRouter(tags=["fulfilment"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
State = Literal["pending", "confirmed", "collected", "uncollected", "cancelled"]
GroupBuyId = Query(None, ge=1, le=MAX_ID)


def _file(media_type: str) -> dict:
    """OpenAPI responses of a download: the file, or the admin errors."""
    return {200: {"content": {media_type: {}}}, **errors(404, 422)}


def _check(conn, group_id: str, groupbuy: int | None) -> None:
    if get_group(conn, group_id) is None:
        raise HTTPException(404, f"no group {group_id}")
    if groupbuy is not None and not groupbuy_in_group(conn, group_id, groupbuy):
        raise HTTPException(404, [{"loc": ["query", "groupbuy"], "msg": f"no group buy {groupbuy} in group {group_id}",
                                   "type": "value_error"}])


def download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
        "Cache-Control": "no-store",
    })


@router.get("/groups/{group_id}/picklist", responses=errors(404, 422))
def get_picklist(request: Request, group_id: str, groupbuy: int | None = GroupBuyId):
    with db(request).read() as conn:
        _check(conn, group_id, groupbuy)
        found = picklist(conn, group_id, groupbuy, list_points(conn, group_id))
    return JSONResponse(found)  # plain JSON types already: no walk through jsonable_encoder


@router.get("/groups/{group_id}/orders.csv", response_class=Response, responses=_file("text/csv"))
def get_orders_csv(request: Request, group_id: str, groupbuy: int | None = GroupBuyId, status: State | None = None):
    with db(request).read() as conn:
        _check(conn, group_id, groupbuy)
        body = orders_csv(lines(conn, group_id, groupbuy_id=groupbuy, state=status), request.app.state.settings.tz)
    return download(body, "text/csv; charset=utf-8", f"orders-{group_id}.csv")


@router.get("/groups/{group_id}/orders.xlsx", response_class=Response, responses=_file(XLSX))
def get_orders_xlsx(request: Request, group_id: str, groupbuy: int | None = GroupBuyId, status: State | None = None):
    with db(request).read() as conn:
        _check(conn, group_id, groupbuy)
        body = orders_xlsx(lines(conn, group_id, groupbuy_id=groupbuy, state=status), request.app.state.settings.tz)
    return download(body, XLSX, f"orders-{group_id}.xlsx")
