"""Admin: a group's scheduled pushes (one-off `at` or `cron`) and its content queue for nudges."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from bot.admin.common import db, field_error, now
from bot.admin.schemas import NOT_BLANK, ContentOut, PushOut, errors
from catalog import content
from catalog.groups import ensure_group
from catalog.pushes import MAX_TEXT, create_push, cron_trigger, delete_push, list_pushes, next_fire

router = APIRouter(tags=["pushes"])


def _cron_field(number: str, step: str) -> str:
    item = rf"(?:\*(?:/{step})?|{number}(?:-{number}(?:/{step})?)?)"
    return rf"{item}(?:,{item})*"


# Five crontab fields (minute hour day month weekday 0-6), each `*`, `N`, `N-M`, `*/S` or `N-M/S`,
# comma-separated; numbers in the field's range, steps within it. The schema says exactly this, so
# what it allows parses; a range written backwards or a date that never comes is a 409.
CRON_PATTERN = "^" + " ".join(_cron_field(n, s) for n, s in (
    (r"(?:[0-5]?[0-9])", r"(?:[1-9]|[1-5][0-9])"),
    (r"(?:[01]?[0-9]|2[0-3])", r"(?:[1-9]|1[0-9]|2[0-3])"),
    (r"(?:0?[1-9]|[12][0-9]|3[01])", r"(?:[1-9]|[12][0-9]|30)"),
    (r"(?:0?[1-9]|1[0-2])", r"(?:[1-9]|1[01])"),
    (r"[0-6]", r"[1-6]"),
)) + "$"
# ISO-8601 local or with an offset; years 2000-2099.
AT_PATTERN = (r"^20[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]"
              r"(?::[0-5][0-9](?:\.[0-9]{1,6})?)?(?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9])?$")
NotBlank = Field(min_length=1, max_length=MAX_TEXT, pattern=NOT_BLANK)


class PushIn(BaseModel):
    """Exactly one of `at` (once) and `cron` (repeating)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [{"required": ["at"]}, {"required": ["cron"]}]})
    text: StrictStr = NotBlank
    at: StrictStr = Field(None, pattern=AT_PATTERN, examples=["2026-12-01T20:00:00+08:00"],
                          description="ISO-8601; without an offset it is read in TUANBOT_TIMEZONE; must be in the future (else 409)")
    cron: StrictStr = Field(None, pattern=CRON_PATTERN, examples=["0 9 * * *"],
                            description="minute hour day month weekday, in TUANBOT_TIMEZONE; must fire some day (else 409)")


class ContentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(min_length=1, max_length=content.MAX_TEXT, pattern=NOT_BLANK)


GroupId = Path(..., min_length=1, max_length=128)
PushId = Path(..., ge=1, le=2**31 - 1)


@router.post("/groups/{group_id}/pushes", status_code=201, response_model=PushOut, responses=errors(400, 409, 422))
def create(request: Request, body: PushIn, group_id: str = GroupId):
    if (body.at is None) == (body.cron is None):
        raise field_error("at" if body.at is None else "cron", "give exactly one of at or cron")
    settings, current = request.app.state.settings, now(request)
    at = None
    if body.at is not None:
        try:
            at = datetime.fromisoformat(body.at)
        except ValueError:
            raise field_error("at", "is not a date in the calendar", status=409) from None
        at = at.replace(tzinfo=settings.tz) if at.tzinfo is None else at
        if at <= current:
            raise field_error("at", "is in the past", status=409)
    else:
        try:
            cron_trigger(body.cron, settings.tz)
        except ValueError as e:
            raise field_error("cron", f"cannot be used: {e}", status=409) from None
        if next_fire(body.cron, settings.tz, current) is None:
            raise field_error("cron", "never fires", status=409)
    with db(request).begin() as conn:
        ensure_group(conn, group_id, None, current)
        push = create_push(conn, group_id, body.text.strip(), now=current, tz=settings.tz,
                           at=at, cron=body.cron, created_by="admin")
    return push.to_json()


@router.get("/groups/{group_id}/pushes", response_model=list[PushOut], responses=errors(422))
def index(request: Request, group_id: str = GroupId):
    with db(request).read() as conn:
        return [p.to_json() for p in list_pushes(conn, group_id)]


@router.delete("/groups/{group_id}/pushes/{push_id}", status_code=204, response_class=Response,
               responses=errors(404, 422))
def remove(request: Request, group_id: str = GroupId, push_id: int = PushId):
    with db(request).begin() as conn:
        if not delete_push(conn, group_id, push_id):
            raise HTTPException(404, f"no push {push_id} in group {group_id}")
    return Response(status_code=204)


@router.post("/groups/{group_id}/content", status_code=201, response_model=ContentOut, responses=errors(400, 422))
def add_content(request: Request, body: ContentIn, group_id: str = GroupId):
    current = now(request)
    with db(request).begin() as conn:
        ensure_group(conn, group_id, None, current)
        return content.add_item(conn, group_id, body.text.strip(), current).to_json()


@router.get("/groups/{group_id}/content", response_model=list[ContentOut], responses=errors(422))
def list_content(request: Request, group_id: str = GroupId):
    with db(request).read() as conn:
        return [i.to_json() for i in content.list_items(conn, group_id)]
