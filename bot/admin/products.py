"""Admin: list, create, read and patch products."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request

from bot.admin.common import Limit, Offset, db, field_error, now
from bot.admin.schemas import ProductIn, ProductOut, ProductPatch, errors
from catalog.groupbuys import promote_product
from catalog.products import (
    DuplicateCode,
    ProductError,
    create_product,
    get_product,
    list_products,
    normalize_code,
    update_product,
    validate_product,
)
from handlers.common import promotion_text
from storage.outbox import enqueue

router = APIRouter(tags=["products"])


def _refusal(e: ProductError) -> HTTPException:
    """The body's shape was checked by its schema; what validate_product still refuses is a rule
    between fields (the ladder against the price, against itself): a conflict, 409, naming the field."""
    return field_error(e.field, e.message, status=409)


@router.get("/products", response_model=list[ProductOut], responses=errors(422))
def index(
    request: Request,
    q: str = Query("", max_length=100, description="code, name, category or description contains this"),
    active: bool | None = Query(None, description="only active (true) or inactive (false) products"),
    limit: int = Limit,
    offset: int = Offset,
):
    """Products by code, each with its `stock` and ladder."""
    with db(request).read() as conn:
        return [p.to_json() for p in list_products(conn, q, active=active, limit=limit, offset=offset)]


@router.post("/products", status_code=201, response_model=ProductOut, responses=errors(400, 409, 422))
def create(request: Request, body: ProductIn):
    """A new product; the same code again (in any case): 409."""
    try:
        data = validate_product(body.model_dump(exclude_unset=True))
    except ProductError as e:
        raise _refusal(e) from None
    try:
        with db(request).begin() as conn:
            return create_product(conn, data, now(request)).to_json()
    except DuplicateCode:
        raise HTTPException(409, f"a product with code {data['code']} exists") from None


@router.get("/products/{code}", response_model=ProductOut, responses=errors(404))
def read(request: Request, code: str):
    with db(request).read() as conn:
        p = get_product(conn, code)
    if p is None:
        raise HTTPException(404, f"no product with code {code}")
    return p.to_json()


@router.patch("/products/{code}", response_model=ProductOut, responses=errors(400, 404, 409, 422))
def patch(request: Request, code: str, body: ProductPatch):
    """Only the fields given change. Raising `stock` (or a variant's) serves group-buy waitlists at
    once, first come first served, and tells each group who moved up."""
    raw = body.model_dump(exclude_unset=True)
    try:
        data = validate_product(raw, partial=True)
    except ProductError as e:
        raise _refusal(e) from None
    if "code" in data and data["code"] != normalize_code(code):
        raise field_error("code", "cannot be changed", status=409)
    try:
        with db(request).begin() as conn:
            at = now(request)
            p = update_product(conn, code, data, at)
            if p is not None and ("stock" in data or "variants" in data):
                # Promotions commit with the stock they take, and each group's message with them (outbox).
                for promoted in promote_product(conn, p.id, at):
                    enqueue(conn, promoted.group_id, promotion_text(promoted, promoted.lang), at, source="waitlist")
                p = get_product(conn, p.code)
    except ProductError as e:
        raise _refusal(e) from None
    if p is None:
        raise HTTPException(404, f"no product with code {code}")
    return p.to_json()
