"""What the admin modules share: the database and clock of the app, and the 422 shape naming a field."""
from __future__ import annotations

from fastapi import HTTPException, Query, Request

from bot.admin.schemas import MAX_OFFSET, MAX_PAGE


def db(request: Request):
    return request.app.state.db


def now(request: Request):
    return request.app.state.clock()


def field_error(field: str, message: str, status: int = 422) -> HTTPException:
    return HTTPException(status, [{"loc": ["body", field], "msg": message, "type": "value_error"}])


# Every list takes the same bounded page parameters: an integer the database cannot hold is a 422, never a 500.
Limit = Query(100, ge=1, le=MAX_PAGE, description=f"at most this many rows (1 to {MAX_PAGE})")
Offset = Query(0, ge=0, le=MAX_OFFSET, description="skip this many rows first")
