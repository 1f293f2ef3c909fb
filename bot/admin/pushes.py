"""Admin: a group's scheduled pushes (one-off `at` or `cron`) and its content queue for nudges."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from bot.admin.common import db, field_error, now
from catalog import content
from catalog.groups import ensure_group
from catalog.pushes import MAX_TEXT, create_push, cron_trigger, delete_push, list_pushes, next_fire

router = APIRouter(tags=["pushes"])


class PushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    at: datetime | None = None  # ISO-8601; without an offset it is read in TUANBOT_TIMEZONE
    cron: str | None = Field(default=None, max_length=64)


class ContentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=content.MAX_TEXT)


def _group_id(group_id: str) -> str:
    if not 1 <= len(group_id) <= 128:
        raise HTTPException(422, [{"loc": ["path", "group_id"], "msg": "1 to 128 characters", "type": "value_error"}])
    return group_id


@router.post("/groups/{group_id}/pushes", status_code=201)
def create(request: Request, group_id: str, body: PushIn):
    _group_id(group_id)
    if not body.text.strip():
        raise field_error("text", "must not be blank")
    if (body.at is None) == (body.cron is None):
        raise field_error("at" if body.at is None else "cron", "give exactly one of at or cron")
    settings, current = request.app.state.settings, now(request)
    at = body.at
    if at is not None:
        at = at.replace(tzinfo=settings.tz) if at.tzinfo is None else at
        if at <= current:
            raise field_error("at", "is in the past")
    else:
        try:
            cron_trigger(body.cron, settings.tz)
        except ValueError as e:
            raise field_error("cron", f"is not a 5-field crontab expression: {e}") from None
        if next_fire(body.cron, settings.tz, current) is None:
            raise field_error("cron", "never fires")
    with db(request).begin() as conn:
        ensure_group(conn, group_id, None, current)
        push = create_push(conn, group_id, body.text.strip(), now=current, tz=settings.tz,
                           at=at, cron=body.cron, created_by="admin")
    return push.to_json()


@router.get("/groups/{group_id}/pushes")
def index(request: Request, group_id: str):
    with db(request).read() as conn:
        return [p.to_json() for p in list_pushes(conn, group_id)]


@router.delete("/groups/{group_id}/pushes/{push_id}", status_code=204)
def remove(request: Request, group_id: str, push_id: int):
    if not 1 <= push_id < 2**31:
        raise HTTPException(404, f"no push {push_id} in group {group_id}")
    with db(request).begin() as conn:
        if not delete_push(conn, group_id, push_id):
            raise HTTPException(404, f"no push {push_id} in group {group_id}")
    return Response(status_code=204)


@router.post("/groups/{group_id}/content", status_code=201)
def add_content(request: Request, group_id: str, body: ContentIn):
    _group_id(group_id)
    if not body.text.strip():
        raise field_error("text", "must not be blank")
    current = now(request)
    with db(request).begin() as conn:
        ensure_group(conn, group_id, None, current)
        return content.add_item(conn, group_id, body.text.strip(), current).to_json()


@router.get("/groups/{group_id}/content")
def list_content(request: Request, group_id: str):
    with db(request).read() as conn:
        return [i.to_json() for i in content.list_items(conn, group_id)]
