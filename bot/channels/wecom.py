"""The WeCom (企业微信) app callback at /wecom: always encrypted, otherwise as the Official Account.

Message mapping, the replay guard and the reply rules are those of bot.channels.wechat.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.channels.wechat import (
    Process,
    answer,
    check_signature,
    decrypt,
    open_encrypted,
    refuse,
    seal,
    signed_params,
    success,
)
from bot.httperrors import errors


def make_router(settings: Any, process: Process) -> APIRouter:
    """GET/POST /wecom; a router without routes (so 404) unless token, AES key and CorpID are all set.

    Every WeCom callback is encrypted, so without the key or the CorpID nothing could be served.
    """
    router = APIRouter()
    token, aes_key, corpid = settings.wecom_token, settings.wecom_aes_key, settings.wecom_corpid
    if not (token and aes_key and corpid):
        return router
    crypto = WeChatCrypto(token, aes_key, corpid)
    max_skew = settings.wechat_max_skew_seconds

    @router.get("/wecom", response_class=Response, responses={200: {"content": {"text/plain": {}}}, **errors(400, 403)})
    async def verify(request: Request) -> Response:
        timestamp, nonce = signed_params(request, max_skew)
        echostr = request.query_params.get("echostr")
        if echostr is None:
            raise refuse()  # the signature covers the echostr: without it nothing can be verified
        # Base64 has no spaces: a space is a "+" a client left unencoded in the query string.
        echostr = echostr.replace(" ", "+")
        check_signature(request.query_params.get("msg_signature"), token, timestamp, nonce, echostr)
        return PlainTextResponse(decrypt(crypto.key, corpid, echostr))

    @router.post("/wecom", response_class=Response, responses={
        200: {"content": {"application/xml": {}, "text/plain": {}}}, **errors(400, 403, 413)})
    async def receive(request: Request) -> Response:
        timestamp, nonce = signed_params(request, max_skew)
        body = await request.body()
        xml = open_encrypted(body, request.query_params.get("msg_signature"), token, timestamp, nonce,
                             crypto.key, corpid)
        reply_xml = await answer("wecom", xml, process)
        return success() if reply_xml is None else Response(seal(crypto, reply_xml), media_type="application/xml")

    return router
