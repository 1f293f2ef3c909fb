"""The admin API under /admin: bearer-token JSON calls, one module per resource."""
from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, HTTPException, Request

from bot.admin import fulfilment, groupbuys, groups, orders, outbox, products, pushes, stats
from bot.admin.schemas import errors


def make_router(settings) -> APIRouter:
    def authorized(request: Request) -> None:
        token = settings.admin_token
        if not token:
            raise HTTPException(404, "Not Found")
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    # Every admin call may answer these: no or a wrong token, the API switched off, a body over 1 MiB.
    router = APIRouter(prefix="/admin", dependencies=[Depends(authorized)], responses=errors(401, 404, 413))
    for module in (products, groups, orders, groupbuys, pushes, outbox, stats, fulfilment):
        router.include_router(module.router)
    return router
