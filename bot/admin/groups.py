"""Admin: a group's settings (owners, push target, nudging, pickup points, its shelf) and its counts."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Request

from bot.admin.common import db, field_error, now
from bot.admin.schemas import GroupFields, GroupOut, errors
from catalog.groups import get_group, group_counts, put_group
from catalog.pickups import BadPickupName, list_points, replace_points
from catalog.shelf import UnknownCodes, set_shelf, shelf_codes

router = APIRouter(tags=["groups"])

GroupId = Path(..., min_length=1, max_length=128)


def _fields(body: GroupFields, *, given_only: bool) -> dict:
    """The stored form of the body's fields: all of them (PUT) or only those given (PATCH)."""
    fields = body.model_dump(exclude_unset=given_only)
    fields.pop("pickup_points", None)  # a table of their own: _pickup_points
    fields.pop("shelf", None)  # so is the shelf: _shelf
    if "owners" in fields:
        fields["owners"] = [o.strip() for o in fields["owners"] if o.strip()]
    return fields


@router.put("/groups/{group_id}", response_model=GroupOut, responses=errors(400, 409, 422))
def put(request: Request, body: GroupFields, group_id: str = GroupId):
    """Creates the group or replaces ALL its settings: a field left out is reset to its default
    (no name, no owners, no push target, no nudging). To change some fields only, use PATCH."""
    with db(request).begin() as conn:
        group = put_group(conn, group_id, _fields(body, given_only=False), now(request))
        _pickup_points(conn, group_id, body, now(request))
        _shelf(conn, group_id, body, now(request))
        return _shown(conn, group)


@router.patch("/groups/{group_id}", response_model=GroupOut, responses=errors(400, 404, 409, 422))
def patch(request: Request, body: GroupFields, group_id: str = GroupId):
    """Changes only the fields given; the others stay as they are. A group not seen yet: 404
    (PUT creates one)."""
    with db(request).begin() as conn:
        if get_group(conn, group_id) is None:
            raise HTTPException(404, f"no group {group_id}")
        group = put_group(conn, group_id, _fields(body, given_only=True), now(request))
        _pickup_points(conn, group_id, body, now(request))
        _shelf(conn, group_id, body, now(request))
        return _shown(conn, group)


@router.get("/groups/{group_id}", response_model=GroupOut, responses=errors(404, 422))
def read(request: Request, group_id: str = GroupId):
    with db(request).read() as conn:
        group = get_group(conn, group_id)
        if group is None:
            raise HTTPException(404, f"no group {group_id}")
        return _shown(conn, group)


def _pickup_points(conn, group_id: str, body: GroupFields, when) -> None:
    """Given: the group's whole list, in order. Left out (PUT too): as they are, since owners keep
    them in chat as well and a PUT of the other settings must not wipe them and members' choices."""
    if body.pickup_points is None:
        return
    try:
        replace_points(conn, group_id, body.pickup_points, when)
    except BadPickupName:
        # Well-formed but empty or too long once read as half-width with spaces collapsed: a conflict (409).
        raise field_error("pickup_points", "names of 1 to 100 characters (read as half-width, spaces collapsed), at most 50 of them", 409) from None


def _shelf(conn, group_id: str, body: GroupFields, when) -> None:
    """Given: the products this group sells ([]: the whole catalog again). Left out (PUT too): as it
    is, like the pickup points. A well-formed code with no product: 409 naming `shelf` (it conflicts
    with the catalog, not with the schema); the raise rolls the whole request back."""
    if body.shelf is None:
        return
    try:
        set_shelf(conn, group_id, body.shelf, when)
    except UnknownCodes as e:
        raise field_error("shelf", f"no product with code {', '.join(e.codes)}", status=409) from None


def _shown(conn, group) -> dict:
    return {**group.to_json(), "pickup_points": list_points(conn, group.group_id),
            "shelf": shelf_codes(conn, group.group_id), "counts": group_counts(conn, group.group_id)}

