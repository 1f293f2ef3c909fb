"""Admin: a group's settings (owners, push target, nudging) and its counts."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Request
from sqlalchemy import func, select

from bot.admin.common import db, field_error, now
from bot.admin.schemas import GroupFields, GroupOut, errors
from catalog.groups import get_group, put_group
from catalog.shelf import UnknownCodes, set_shelf, shelf_codes
from storage.tables import groupbuys, inbound_messages, orders

router = APIRouter(tags=["groups"])

GroupId = Path(..., min_length=1, max_length=128)


def _fields(body: GroupFields, *, given_only: bool) -> dict:
    """The stored form of the body's fields: all of them (PUT) or only those given (PATCH)."""
    fields = body.model_dump(exclude_unset=given_only)
    fields.pop("shelf", None)  # its own table (catalog.shelf), set by _save
    if "owners" in fields:
        fields["owners"] = [o.strip() for o in fields["owners"] if o.strip()]
    return fields


@router.put("/groups/{group_id}", response_model=GroupOut, responses=errors(422))
def put(request: Request, body: GroupFields, group_id: str = GroupId):
    """Creates the group or replaces ALL its settings: a field left out is reset to its default
    (no name, no owners, no push target, no nudging), except `shelf`, which a PUT without it
    leaves as it is. To change some fields only, use PATCH."""
    with db(request).begin() as conn:
        group = put_group(conn, group_id, _fields(body, given_only=False), now(request))
        return _save(conn, request, group, body)


@router.patch("/groups/{group_id}", response_model=GroupOut, responses=errors(404, 422))
def patch(request: Request, body: GroupFields, group_id: str = GroupId):
    """Changes only the fields given; the others stay as they are. A group not seen yet: 404
    (PUT creates one)."""
    with db(request).begin() as conn:
        if get_group(conn, group_id) is None:
            raise HTTPException(404, f"no group {group_id}")
        group = put_group(conn, group_id, _fields(body, given_only=True), now(request))
        return _save(conn, request, group, body)


@router.get("/groups/{group_id}", response_model=GroupOut, responses=errors(404, 422))
def read(request: Request, group_id: str = GroupId):
    with db(request).read() as conn:
        group = get_group(conn, group_id)
        if group is None:
            raise HTTPException(404, f"no group {group_id}")
        return _out(conn, group)


def _save(conn, request: Request, group, body: GroupFields) -> dict:
    """The shelf, when given ([]: the whole catalog again); a code with no product: 422 naming
    `shelf`, and the raise rolls the whole request back."""
    if body.shelf is not None:
        try:
            set_shelf(conn, group.group_id, body.shelf, now(request))
        except UnknownCodes as e:
            raise field_error("shelf", f"no product with code {', '.join(e.codes)}") from None
    return _out(conn, group)


def _out(conn, group) -> dict:
    return {**group.to_json(), "shelf": shelf_codes(conn, group.group_id), "counts": _counts(conn, group.group_id)}


def _counts(conn, group_id: str) -> dict[str, int]:
    texts = select(func.count(), func.count(func.distinct(inbound_messages.c.sender_id))).where(
        inbound_messages.c.group_id == group_id, inbound_messages.c.kind == "text"
    )
    messages, members = conn.execute(texts).one()
    n_orders = conn.execute(
        select(func.count()).select_from(orders).where(orders.c.group_id == group_id, orders.c.status != "cancelled")
    ).scalar_one()
    open_gbs = conn.execute(
        select(func.count()).select_from(groupbuys).where(groupbuys.c.group_id == group_id, groupbuys.c.status == "open")
    ).scalar_one()
    return {"messages": messages, "members": members, "orders": n_orders, "open_groupbuys": open_gbs}
