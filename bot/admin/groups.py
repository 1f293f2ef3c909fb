"""Admin: a group's settings (owners, push target, nudging) and its counts."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import func, select

from bot.admin.common import db, field_error, now
from catalog.groups import get_group, put_group
from catalog.shelf import UnknownCodes, set_shelf, shelf_codes
from storage.tables import groupbuys, inbound_messages, orders

router = APIRouter(tags=["groups"])


class PushTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["bridge", "wecom_robot"]
    url: HttpUrl


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    owners: list[str] = Field(default_factory=list, max_length=100)
    push_target: PushTarget | None = None
    nudge_after_hours: int | None = Field(default=None, ge=1, le=24 * 30)
    # The products this group sells (product codes); [] sells the whole catalog. Left out: unchanged.
    shelf: list[str] | None = Field(default=None, max_length=1000)


@router.put("/groups/{group_id}")
def put(request: Request, group_id: str, body: GroupIn):
    if not 1 <= len(group_id) <= 128:
        raise HTTPException(422, [{"loc": ["path", "group_id"], "msg": "1 to 128 characters", "type": "value_error"}])
    fields = {
        "name": body.name,
        "owners": [o.strip() for o in body.owners if o.strip()],
        "push_target": None if body.push_target is None else {"kind": body.push_target.kind, "url": str(body.push_target.url)},
        "nudge_after_hours": body.nudge_after_hours,
    }
    with db(request).begin() as conn:
        group = put_group(conn, group_id, fields, now(request))
        if body.shelf is not None:
            _set_shelf(conn, group_id, body.shelf, now(request))
        return {**group.to_json(), "shelf": shelf_codes(conn, group_id), "counts": _counts(conn, group_id)}


def _set_shelf(conn, group_id: str, codes: list[str], at) -> None:
    try:
        set_shelf(conn, group_id, codes, at)
    except UnknownCodes as e:  # raising inside the transaction rolls the whole PUT back
        raise field_error("shelf", f"no product with code {', '.join(e.codes)}") from None


@router.get("/groups/{group_id}")
def read(request: Request, group_id: str):
    with db(request).read() as conn:
        group = get_group(conn, group_id)
        if group is None:
            raise HTTPException(404, f"no group {group_id}")
        return {**group.to_json(), "shelf": shelf_codes(conn, group_id), "counts": _counts(conn, group_id)}


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
