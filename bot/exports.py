"""GET /exports/{token}.xlsx: the spreadsheet an owner asked for in chat (导出). No admin token: the
link itself is the key. Unknown and expired tokens get the same 404, so nothing tells them apart."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from bot.admin.fulfilment import XLSX, download
from bot.httperrors import errors
from bot.spreadsheets import orders_xlsx
from catalog.exports import resolve_link
from catalog.fulfilment import lines

router = APIRouter(tags=["exports"])


@router.get("/exports/{token}.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}}, **errors(404, e404="unknown or expired link")})
def export_xlsx(request: Request, token: str):
    with request.app.state.db.read() as conn:
        scope = resolve_link(conn, token, request.app.state.clock())
        if scope is None:
            raise HTTPException(404, "Not Found")
        body = orders_xlsx(lines(conn, scope.group_id, groupbuy_id=scope.groupbuy_id), request.app.state.settings.tz)
    name = f"orders-{scope.group_id}" + (f"-{scope.groupbuy_id}" if scope.groupbuy_id else "") + ".xlsx"
    response = download(body, XLSX, name)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
