"""HTTP error answers every route shares: their documented shape, and a 405 that lists every method.

`errors(…)` gives a route's OpenAPI `responses` entries, so /openapi.json names each status a route
can answer. `install(app)` makes a 405 carry an `Allow` header with all the methods the path takes
(Starlette lists only those of the first route that matched the path).
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match


log = logging.getLogger("tuanbot.http")
REFUSALS = (400, 401, 403, 413, 422)


def log_refusal(path: str, status: int, reason: str) -> None:
    """One line per refused request: where, the status and the reason in a few words. Never the body
    (it may hold a member's messages, or be an attacker's megabyte)."""
    log.warning("request refused", extra={"path": path, "status": status, "reason": reason})


class Error(BaseModel):
    detail: str | list[dict[str, Any]] = Field(description="a sentence, or a list of {loc, msg, type} naming the field")


WHY = {
    400: "the body is not JSON: not UTF-8, malformed, or nested too deeply",
    401: "missing or wrong credentials",
    403: "signature or timestamp refused",
    404: "no such resource, or this part of the API is switched off by its setting",
    409: "the request has the right shape but conflicts with stored data or with itself (`detail` names the field)",
    413: "request body larger than 1 MiB",
    422: "a field is missing or invalid; `detail[0].loc` names it",
    503: "the database does not answer",
}


def errors(*codes: int, **why: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these statuses, all with the {detail} shape; `e401="…"` (etc.)
    says in a route's own words why it answers that status."""
    return {code: {"model": Error, "description": why.get(f"e{code}", WHY[code])} for code in codes}


async def _http_error(request: Request, exc: StarletteHTTPException):
    if exc.status_code in REFUSALS and isinstance(exc.detail, str):  # a sentence of ours, not echoed input
        log_refusal(request.url.path, exc.status_code, exc.detail)
    if exc.status_code != 405:
        return await http_exception_handler(request, exc)
    # Ask the router itself, method by method: routes may sit in included routers, not one flat list.
    routes = request.app.router.routes
    methods = [m for m in _METHODS if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)]
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": ", ".join(methods)})


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
