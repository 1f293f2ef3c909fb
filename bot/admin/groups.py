"""Admin: a group's settings (owners, push target, nudging) and its counts."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import func, select

from bot.admin.common import db, now
from bot.admin.common import field_error
from catalog.groups import get_group, put_group
from catalog.pickups import MAX_NAME, MAX_POINTS, BadPickupName, list_points, replace_points
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
    # The group's pickup points (自提点), in order; omitted: left as they are (the owners keep them in chat too).
    pickup_points: list[Annotated[str, Field(min_length=1, max_length=MAX_NAME)]] | None = Field(
        default=None, max_length=MAX_POINTS
    )


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
        if body.pickup_points is not None:
            try:
                replace_points(conn, group_id, body.pickup_points, now(request))
            except BadPickupName:
                raise field_error("pickup_points", "each a name of 1 to 100 characters, at most 50") from None
        return _shown(conn, group)


@router.get("/groups/{group_id}")
def read(request: Request, group_id: str):
    with db(request).read() as conn:
        group = get_group(conn, group_id)
        if group is None:
            raise HTTPException(404, f"no group {group_id}")
        return _shown(conn, group)


def _shown(conn, group) -> dict:
    return {**group.to_json(), "pickup_points": list_points(conn, group.group_id), "counts": _counts(conn, group.group_id)}


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
