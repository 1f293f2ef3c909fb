"""The group-chat bridge: signed JSON in (POST /bridge/messages), replies out; also signs outbound pushes."""
from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime, timezone
from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.httperrors import errors, log_refusal
from bot.jsonbody import BadJson, parse
from handlers.context import Message

MAX_SKEW_SECONDS = 300
_ID = Field(min_length=1, max_length=128)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, the X-Tuanbot-Signature value."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class BridgeText(BaseModel):
    model_config = ConfigDict(extra="ignore")
    msg_id: str = _ID
    group_id: str = _ID
    sender_id: str = _ID
    text: str  # any length the body limit lets through; the router treats a very long one as talk
    group_name: str | None = Field(default=None, max_length=200)
    sender_name: str | None = Field(default=None, max_length=200)
    sender_role: Literal["owner", "admin", "member"] = "member"
    mentions_bot: bool = False
    sent_at: int | None = None


class BridgeEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    msg_id: str = _ID
    event: str = Field(min_length=1, max_length=32)
    group_id: str = _ID
    member_id: str | None = Field(default=None, max_length=128)
    member_name: str | None = Field(default=None, max_length=200)
    inviter_id: str | None = Field(default=None, max_length=128)
    group_name: str | None = Field(default=None, max_length=200)


def add_routes(app: FastAPI, settings, handle) -> None:
    """`handle` is `async (Message) -> Handled` (Dispatcher.handle_async: it decides where the database work runs).

    Added to the app itself, not through an APIRouter: an included router is one more layer of
    matching and dispatch for every message."""

    async def bridge_messages(request: Request):
        secret = settings.bridge_secret
        if not secret:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        body = await request.body()
        ts = request.headers.get("x-tuanbot-timestamp", "")
        given = request.headers.get("x-tuanbot-signature", "")
        if not ts or not given:
            return _unauthorized("missing X-Tuanbot-Timestamp or X-Tuanbot-Signature")
        if not hmac.compare_digest(given.encode(), sign(secret, ts, body).encode()):
            return _unauthorized("bad signature")
        try:
            skew = abs(time.time() - int(ts))
        except ValueError:
            return _unauthorized("bad timestamp")
        if skew > MAX_SKEW_SECONDS:
            return _unauthorized("timestamp too far from now")
        try:
            msg = to_message(parse(body))
        except BadJson as e:
            return _unprocessable(["body"], e.reason)
        except _Invalid as e:
            return _unprocessable(e.loc, e.msg)
        handled = await handle(msg)
        return JSONResponse({"replies": handled.reply.to_json(), "duplicate": handled.duplicate})

    # Served by a plain Starlette route: the endpoint reads and checks its body itself, so FastAPI's
    # per-request work (dependency solving, endpoint wrapping) is pure cost on the busiest path
    # (measured: bench/README.md). The same function registered after it as a
    # FastAPI route never wins the match; it is there so /docs describes the endpoint.
    app.add_route("/bridge/messages", bridge_messages, methods=["POST"])
    app.add_api_route(
        "/bridge/messages", bridge_messages, methods=["POST"], tags=["bridge"], summary="A group-chat message or event",
        responses=errors(401, 404, 413, 422, e401="missing or wrong signature, or timestamp skew over 300 s",
                         e404="TUANBOT_BRIDGE_SECRET is unset"),
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
            "oneOf": [BridgeText.model_json_schema(), BridgeEvent.model_json_schema()]}}}}},
    )


class _Invalid(Exception):
    def __init__(self, loc: list, msg: str):
        self.loc, self.msg = loc, msg


def to_message(data) -> Message:
    if not isinstance(data, dict):
        raise _Invalid(["body"], "must be a JSON object")
    try:
        if "event" in data:
            ev = BridgeEvent.model_validate(data)
            if ev.event == "member_joined" and not ev.member_id:
                raise _Invalid(["body", "member_id"], "Field required")
            return Message(
                channel="bridge", chat_id=ev.group_id, sender_id=ev.member_id or "", msg_id=ev.msg_id,
                event=ev.event, member_id=ev.member_id, member_name=ev.member_name, inviter_id=ev.inviter_id,
                chat_name=ev.group_name,
            )
        m = BridgeText.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise _Invalid(["body", *err["loc"]], err["msg"]) from None
    sent_at = datetime.fromtimestamp(m.sent_at, timezone.utc) if m.sent_at and 0 < m.sent_at < 2**33 else None
    return Message(
        channel="bridge", chat_id=m.group_id, sender_id=m.sender_id, text=m.text, msg_id=m.msg_id,
        sender_role=m.sender_role, sent_at=sent_at, mentions_bot=m.mentions_bot,
        chat_name=m.group_name, sender_name=m.sender_name,
    )


def _unauthorized(why: str) -> JSONResponse:
    log_refusal("/bridge/messages", 401, why)
    return JSONResponse({"detail": why}, status_code=401)


def _unprocessable(loc: list, msg: str) -> JSONResponse:
    log_refusal("/bridge/messages", 422, f"{'.'.join(map(str, loc))}: {msg}")
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": "value_error"}]}, status_code=422)
