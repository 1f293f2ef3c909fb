"""The WeChat Official Account callback at /wechat, and the checks and XML both WeChat channels share.

Text messages go to `process`; a `subscribe` event is processed as the text `帮助` so a new
follower gets the help; any other message type or event is answered `success` without
calling `process`.
"""
from __future__ import annotations

import hashlib
import hmac
import inspect
import re
import secrets
import time
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import xmltodict
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from bot.httperrors import errors
from handlers.context import Message, Reply

# Sync (run in the threadpool) or async (Dispatcher.process_async, which picks where the database work runs).
Process = Callable[[Message], Reply] | Callable[[Message], Awaitable[Reply]]

_DIGITS = re.compile(r"[0-9]{1,11}")  # unix seconds; short enough that datetime never overflows


def refuse() -> HTTPException:
    return HTTPException(status_code=403, detail="signature or timestamp refused")


def bad_request() -> HTTPException:
    return HTTPException(status_code=400, detail="malformed or undecryptable body")


def success() -> Response:
    """What WeChat expects when there is nothing to say."""
    return PlainTextResponse("success")


def signed_params(request: Request, max_skew_seconds: int) -> tuple[str, str]:
    """The callback's timestamp and nonce, after the replay guard (skew 0: guard off)."""
    timestamp, nonce = request.query_params.get("timestamp"), request.query_params.get("nonce")
    if timestamp is None or nonce is None or not _DIGITS.fullmatch(timestamp):
        raise refuse()
    if max_skew_seconds and abs(time.time() - int(timestamp)) > max_skew_seconds:
        raise refuse()
    return timestamp, nonce


def signature(token: str, *parts: str) -> str:
    """WeChat's and WeCom's signature: hex SHA-1 of the token and the parts, sorted and joined."""
    return hashlib.sha1("".join(sorted((token, *parts))).encode()).hexdigest()


def check_signature(given: str | None, token: str, *parts: str) -> None:
    """WeChat's SHA-1 over the sorted parts, compared in constant time.

    wechatpy compares with `!=`, which leaks timing, so the check is done here. Bytes,
    because compare_digest refuses a non-ASCII str and a client may send one.
    """
    expected = signature(token, *parts)
    if given is None or not hmac.compare_digest(expected.encode(), given.encode()):
        raise refuse()


def parse_xml(body: bytes | str) -> dict[str, Any]:
    """The children of a callback's <xml> root; anything else is a 400.

    xmltodict refuses entity declarations, so there is no entity expansion and no external entity.
    """
    try:
        root = xmltodict.parse(body)["xml"]
    except Exception:  # expat, encoding, entity and missing-root errors alike: unreadable input
        raise bad_request() from None
    if not isinstance(root, dict):
        raise bad_request()
    return root


def field(xml: dict[str, Any], name: str, required: bool = True) -> str:
    """One text child. Missing (when required) or nested is a 400; empty reads as ""."""
    value = xml.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise bad_request()
    return value


def open_encrypted(body: bytes, signature: str | None, token: str, timestamp: str, nonce: str,
                   key: bytes, receive_id: str) -> dict[str, Any]:
    """The message inside a safe-mode envelope: signature over its Encrypt field, then AES.

    WeChat and WeCom share this AES scheme; the plaintext ends with the AppID or CorpID it is for.
    """
    encrypted = field(parse_xml(body), "Encrypt")
    check_signature(signature, token, timestamp, nonce, encrypted)
    return parse_xml(decrypt(key, receive_id, encrypted))


def decrypt(key: bytes, receive_id: str, encrypted: str) -> str:
    """WeChat's AES-CBC plaintext, which must end with receive_id; any failure is a 400."""
    try:
        return PrpCrypto(key).decrypt(encrypted, receive_id)
    except Exception:  # wechatpy lets anything from binascii.Error to IndexError out of a bad ciphertext
        raise bad_request() from None


def seal(crypto: Any, reply_xml: str) -> str:
    """A reply in the envelope the request came in, with a fresh nonce (never echo the client's)."""
    return crypto.encrypt_message(reply_xml, secrets.token_hex(8))


def to_message(channel: str, xml: dict[str, Any]) -> Message | None:
    """The Message for a callback, or None when there is nothing to process."""
    sender = field(xml, "FromUserName")
    created = field(xml, "CreateTime")
    if not _DIGITS.fullmatch(created):
        raise bad_request()
    kind = field(xml, "MsgType").lower()
    if kind == "text":
        text = field(xml, "Content", required=False)
        msg_id = field(xml, "MsgId", required=False) or f"{sender}:{created}:text"
    elif kind == "event" and field(xml, "Event", required=False).lower() == "subscribe":
        text, msg_id = "帮助", f"{sender}:{created}:subscribe"
    else:
        return None
    return Message(
        channel=channel,
        chat_id=f"{channel}:{sender}",
        sender_id=sender,
        text=text,
        msg_id=msg_id,
        sent_at=datetime.fromtimestamp(int(created), timezone.utc),
        is_private=True,
    )


def _cdata(value: str) -> str:
    # A "]]>" inside the text would close the section early: split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


async def answer(channel: str, xml: dict[str, Any], process: Process) -> str | None:
    """The passive text reply XML for a callback, or None when nothing is to be said."""
    shop = field(xml, "ToUserName")  # read before processing: a 400 must not follow side effects
    msg = to_message(channel, xml)
    if msg is None:
        return None
    reply = await process(msg) if inspect.iscoroutinefunction(process) else await run_in_threadpool(process, msg)
    if not reply.text:
        return None
    return (
        f"<xml><ToUserName>{_cdata(msg.sender_id)}</ToUserName>"
        f"<FromUserName>{_cdata(shop)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(reply.text)}</Content></xml>"
    )


def make_router(settings: Any, process: Process) -> APIRouter:
    """GET/POST /wechat; a router without routes (so 404) when TUANBOT_WECHAT_TOKEN is unset."""
    router = APIRouter()
    token = settings.wechat_token
    if not token:
        return router
    appid = settings.wechat_appid
    # Safe mode needs both; without them an encrypted request is undecryptable (400).
    crypto = WeChatCrypto(token, settings.wechat_aes_key, appid) if settings.wechat_aes_key and appid else None
    max_skew = settings.wechat_max_skew_seconds

    @router.get("/wechat", response_class=Response, responses={200: {"content": {"text/plain": {}}}, **errors(400, 403)})
    async def verify(request: Request) -> Response:
        timestamp, nonce = signed_params(request, max_skew)
        check_signature(request.query_params.get("signature"), token, timestamp, nonce)
        echostr = request.query_params.get("echostr")
        if echostr is None:
            raise bad_request()
        return PlainTextResponse(echostr)

    @router.post("/wechat", response_class=Response, responses={
        200: {"content": {"application/xml": {}, "text/plain": {}}}, **errors(400, 403, 413)})
    async def receive(request: Request) -> Response:
        query = request.query_params
        timestamp, nonce = signed_params(request, max_skew)
        mode = query.get("encrypt_type") or "raw"
        if mode == "aes":
            if crypto is None:
                raise bad_request()
            body = await request.body()
            xml = open_encrypted(body, query.get("msg_signature"), token, timestamp, nonce, crypto.key, appid)
        elif mode == "raw":
            check_signature(query.get("signature"), token, timestamp, nonce)
            xml = parse_xml(await request.body())
        else:
            raise bad_request()
        reply_xml = await answer("wechat", xml, process)
        if reply_xml is None:
            return success()
        return Response(seal(crypto, reply_xml) if mode == "aes" else reply_xml, media_type="application/xml")

    return router
