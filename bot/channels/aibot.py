"""The WeCom intelligent robot (企业微信智能机器人, API mode) at /wecom/aibot: real group chats.

Members @-mention the robot in a group (or chat with it alone); WeCom posts the message as JSON
encrypted with WeCom's callback scheme and an empty receive id, and shows our encrypted answer
quoting the member. Each callback becomes one Message for the dispatcher (dedupe by msgid); the
answer is a finished stream, with a one-tap joining card (bot.channels.aibot_card) when the
reply shows a group buy to join. Signature, replay guard and AES are those of bot.channels.wechat.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

from bot import jsonbody
from bot.httperrors import errors
from bot.channels.aibot_card import JOIN_KEY, LEAVE_KEY, card, task_id_for, valid_task_id
from bot.channels.wechat import bad_request, check_signature, decrypt, refuse, signature, signed_params
from bot.dispatch import Handled
from bot.jsonbody import BadJson
from handlers.context import Message, Reply
from handlers.registry import BY_NAME
from storage.db import Database
from storage.inbound import stored_reply

CHANNEL = "wecom_aibot"
RECEIVE_ID = ""  # the robot's callbacks carry no CorpID: the plaintext ends right after the message
MAX_ID, MAX_TEXT = 128, 4000
# "@团购助手 下单 A12 2": the robot only hears messages that mention it, and the mention comes first.
# WeCom puts a space (often U+2005) after each name.
_LEADING_MENTIONS = re.compile(r"\s*(?:@\S+\s+)*@\S+(?:\s+|$)")

Handle = Callable[[Message], Awaitable[Handled]]


def make_router(settings: Any, handle: Handle, db: Database) -> APIRouter:
    """GET/POST /wecom/aibot; a router without routes (so 404) when TUANBOT_AIBOT_TOKEN is unset.

    `handle` is Dispatcher.handle_async; `db` answers stream refreshes from the stored replies."""
    router = APIRouter()
    token = settings.aibot_token
    if not token:
        return router
    key = WeChatCrypto(token, settings.aibot_aes_key, RECEIVE_ID).key  # base64(AES_KEY + "=")
    max_skew = settings.wechat_max_skew_seconds

    @router.get("/wecom/aibot", response_class=Response, responses={200: {"content": {"text/plain": {}}}, **errors(403)})
    async def verify(request: Request) -> Response:
        timestamp, nonce = signed_params(request, max_skew)
        echostr = request.query_params.get("echostr")
        if echostr is None:
            raise refuse()  # the signature covers the echostr: without it nothing can be verified
        echostr = echostr.replace(" ", "+")  # a "+" a client left unencoded in the query string
        check_signature(request.query_params.get("msg_signature"), token, timestamp, nonce, echostr)
        return PlainTextResponse(decrypt(key, RECEIVE_ID, echostr))

    @router.post("/wecom/aibot", responses=errors(400, 403, 413))
    async def receive(request: Request) -> Response:
        timestamp, nonce = signed_params(request, max_skew)
        envelope = _json_object(await request.body())
        encrypted = envelope.get("encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise bad_request()
        check_signature(request.query_params.get("msg_signature"), token, timestamp, nonce, encrypted)
        callback = _json_object(decrypt(key, RECEIVE_ID, encrypted))
        answer = await _answer(callback, handle, db)
        if answer is None:
            return Response(status_code=200)  # nothing to say: an empty body
        plaintext = json.dumps(answer, ensure_ascii=False)
        sealed = PrpCrypto(key).encrypt(plaintext, RECEIVE_ID).decode()
        now = str(int(time.time()))
        return JSONResponse({"encrypt": sealed, "msgsignature": signature(token, now, nonce, sealed),
                             "timestamp": int(now), "nonce": nonce})

    return router


async def _answer(data: dict[str, Any], handle: Handle, db: Database) -> dict[str, Any] | None:
    """The plaintext answer to one decrypted callback, or None for an empty body. Every field is
    checked before anything is handled, so a 400 never follows a side effect."""
    kind = _text(data, "msgtype")
    if kind == "stream":
        return await _refresh(_text(_obj(data, "stream"), "id"), db)
    msg_id = _text(data, "msgid")
    sender = _text(_obj(data, "from"), "userid")
    chat_type = _text(data, "chattype")
    if chat_type not in ("group", "single"):
        raise bad_request()
    private = chat_type == "single"
    base = {
        "channel": CHANNEL,
        "chat_id": f"{CHANNEL}:{sender}" if private else _text(data, "chatid"),
        "sender_id": sender,
        "msg_id": msg_id,
        "sent_at": _sent_at(data.get("create_time")),
        "is_private": private,
        "mentions_bot": not private,  # in a group the robot only hears messages addressed to it
    }
    if kind == "event":
        event = _obj(data, "event")
        event_type = _text(event, "eventtype")
        if event_type == "enter_chat":
            reply = (await handle(Message(text=BY_NAME["help"].zh[0], **base))).reply
            return {"msgtype": "text", "text": {"content": _joined(reply)}} if reply.texts else None
        if event_type == "template_card_event":
            click = _obj(event, "template_card_event")
            return await _click(_text(click, "event_key"), valid_task_id(click.get("task_id")), base, handle)
        return None
    if kind in ("text", "voice"):
        text = _text(_obj(data, kind), "content", limit=MAX_TEXT, empty=True)
    elif kind == "mixed":
        text = _mixed_text(_obj(data, "mixed"))
    else:  # image, file, video and anything else without words
        return _stream(msg_id, (await handle(Message(event="media", **base))).reply)
    if not private:
        text = _LEADING_MENTIONS.sub("", text, count=1) if text.lstrip().startswith("@") else text
    handled = await handle(Message(text=text.strip(), **base))
    return _stream(msg_id, handled.reply)


async def _click(key: str, task_id: str | None, base: dict[str, Any], handle: Handle) -> dict[str, Any] | None:
    """A card button: `join:ID:N` is `参团 ID N`, `leave:ID` is `退团 ID`, for the member who clicked."""
    if m := JOIN_KEY.fullmatch(key):
        gb_id, text = int(m.group(1)), f"{BY_NAME['join'].zh[0]} {m.group(1)} {m.group(2)}"
    elif m := LEAVE_KEY.fullmatch(key):
        gb_id, text = int(m.group(1)), f"{BY_NAME['leave'].zh[0]} {m.group(1)}"
    else:
        return None  # not one of our buttons
    reply = (await handle(Message(text=text, **{**base, "mentions_bot": True}))).reply
    if not reply.texts:
        return None
    task_id = task_id or task_id_for(gb_id, base["msg_id"])
    return {
        "response_type": "update_template_card",
        "userids": [base["sender_id"]],
        "template_card": card(reply.groupbuy, gb_id, task_id, sub_title=_joined(reply)),
    }


async def _refresh(stream_id: str, db: Database) -> dict[str, Any] | None:
    """WeCom asks again for a stream: the stream id is the msgid of the message it answers, so the
    stored reply is read back; the command never runs a second time."""

    def read() -> list | None:
        with db.read() as conn:
            return stored_reply(conn, CHANNEL, stream_id)

    stored = await run_in_threadpool(read)
    if not stored:
        return None
    return _stream(stream_id, Reply.from_stored(stored), with_card=False)


def _stream(msg_id: str, reply: Reply, with_card: bool = True) -> dict[str, Any] | None:
    """A finished stream with the reply; with the joining card when the reply shows a group buy to join."""
    if not reply.texts:
        return None
    stream = {"id": msg_id, "finish": True, "content": _joined(reply)}
    view = reply.groupbuy
    if not (with_card and reply.invites_joining and view is not None):
        return {"msgtype": "stream", "stream": stream}
    return {"msgtype": "stream_with_template_card", "stream": stream,
            "template_card": card(view, view.id, task_id_for(view.id, msg_id))}


def _joined(reply: Reply) -> str:
    return "\n\n".join(reply.texts)  # several replies: one markdown paragraph each


def _mixed_text(mixed: dict[str, Any]) -> str:
    """The text items of a mixed message, in order, joined by a space (pictures dropped)."""
    items = mixed.get("msg_item")
    if not isinstance(items, list):
        raise bad_request()
    texts = []
    for item in items:
        if not isinstance(item, dict):
            raise bad_request()
        if item.get("msgtype") == "text":
            texts.append(_text(_obj(item, "text"), "content", limit=MAX_TEXT, empty=True).strip())
    text = " ".join(t for t in texts if t)
    if len(text) > MAX_TEXT:
        raise bad_request()
    return text


def _json_object(raw: bytes | str) -> dict[str, Any]:
    try:
        data = jsonbody.parse(raw)
    except BadJson:  # bad JSON or UTF-8, or nested deeper than any callback is
        raise bad_request() from None
    if not isinstance(data, dict):
        raise bad_request()
    return data


def _obj(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise bad_request()
    return value


def _text(data: dict[str, Any], name: str, limit: int = MAX_ID, empty: bool = False) -> str:
    value = data.get(name)
    if not isinstance(value, str) or len(value) > limit or (not empty and not value.strip()):
        raise bad_request()
    return value


def _sent_at(value: Any) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**33:
        return datetime.fromtimestamp(value, timezone.utc)
    return None
