"""What the admin modules share: the database and clock of the app, and the 422 shape naming a field."""
from __future__ import annotations

from fastapi import HTTPException, Request


def db(request: Request):
    return request.app.state.db


def now(request: Request):
    return request.app.state.clock()


def field_error(field: str, message: str, status: int = 422) -> HTTPException:
    return HTTPException(status, [{"loc": ["body", field], "msg": message, "type": "value_error"}])
