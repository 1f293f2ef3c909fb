"""Admin: create, read and patch products (SPEC sections 4 and 5)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, Request

from bot.admin.common import db, field_error, now
from catalog.groupbuys import promote_product
from catalog.products import (
    DuplicateCode,
    ProductError,
    create_product,
    get_product,
    normalize_code,
    update_product,
    validate_product,
)
from handlers.common import promotion_text
from storage.outbox import enqueue

router = APIRouter(tags=["products"])

_EXAMPLE = {
    "code": "A12", "name": "潮流男鞋", "description": "…", "category": "鞋", "price_fen": 19900,
    "market_price_fen": 39900, "stock": 3000, "active": True,
    "tiers": [{"min_qty": 2, "price_fen": 18900}, {"min_qty": 5, "price_fen": 16900}],
}


@router.post("/products", status_code=201)
def create(request: Request, body: dict[str, Any] = Body(..., examples=[_EXAMPLE])):
    try:
        data = validate_product(body)
    except ProductError as e:
        raise field_error(e.field, e.message) from None
    try:
        with db(request).begin() as conn:
            return create_product(conn, data, now(request)).to_json()
    except DuplicateCode:
        raise HTTPException(409, f"a product with code {data['code']} exists") from None


@router.get("/products/{code}")
def read(request: Request, code: str):
    with db(request).read() as conn:
        p = get_product(conn, code)
    if p is None:
        raise HTTPException(404, f"no product with code {code}")
    return p.to_json()


@router.patch("/products/{code}")
def patch(request: Request, code: str, body: dict[str, Any] = Body(..., examples=[{"stock": 2500, "price_fen": 18900}])):
    try:
        data = validate_product(body, partial=True)
    except ProductError as e:
        raise field_error(e.field, e.message) from None
    if "code" in data and data["code"] != normalize_code(code):
        raise field_error("code", "cannot be changed")
    try:
        with db(request).begin() as conn:
            at = now(request)
            p = update_product(conn, code, data, at)
            if p is not None and ("stock" in data or "variants" in data):
                # Stock raised: waitlisted joins take it at once, in this same transaction, and
                # each group hears who moved up (the outbox row commits with the stock it took).
                for promoted in promote_product(conn, p.id, at):
                    enqueue(conn, promoted.group_id, promotion_text(promoted, "zh"), at, source="waitlist")
                p = get_product(conn, p.code)
    except ProductError as e:
        raise field_error(e.field, e.message) from None
    if p is None:
        raise HTTPException(404, f"no product with code {code}")
    return p.to_json()

