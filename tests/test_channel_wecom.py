"""The WeCom app adapter at /wecom, driven over HTTP and checked with wechatpy's enterprise crypto."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from types import SimpleNamespace

import httpx
import pytest
import xmltodict
from fastapi import FastAPI
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

from bot.channels import wecom
from handlers.context import Message, Reply

pytestmark = pytest.mark.anyio

TOKEN = "wecomtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CORPID = "ww0123456789abcdef"
USERID = "ZhangSan"
CREATED = 1795500000
CRYPTO = WeChatCrypto(TOKEN, AES_KEY, CORPID)


class Recorder:
    """A stand-in for the dispatcher: remembers each Message and echoes its text."""

    def __init__(self, reply: Reply | None = None):
        self.messages: list[Message] = []
        self.reply = reply

    def __call__(self, msg: Message) -> Reply:
        self.messages.append(msg)
        return self.reply if self.reply is not None else Reply(["echo: " + msg.text])


def client(process, **overrides) -> httpx.AsyncClient:
    values = dict(wechat_token=None, wechat_aes_key=None, wechat_appid=None, wecom_token=TOKEN,
                  wecom_aes_key=AES_KEY, wecom_corpid=CORPID, wechat_max_skew_seconds=300)
    values.update(overrides)
    app = FastAPI()
    app.include_router(wecom.make_router(SimpleNamespace(**values), process))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def now() -> str:
    return str(int(time.time()))


def text_xml(content: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORPID}]]></ToUserName><FromUserName><![CDATA[{USERID}]]></FromUserName>"
            f"<CreateTime>{CREATED}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>1234567890123456</MsgId><AgentID>1000002</AgentID></xml>")


def encrypt(body: str, timestamp: str | None = None) -> tuple[str, dict[str, str]]:
    """A callback as WeCom sends it: the envelope and its query parameters."""
    timestamp = timestamp or now()
    envelope = CRYPTO.encrypt_message(body, "n2", timestamp)
    params = {"msg_signature": xmltodict.parse(envelope)["xml"]["MsgSignature"], "timestamp": timestamp, "nonce": "n2"}
    return envelope, params


def echostr_params(echo: str, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or now()
    echostr = PrpCrypto(CRYPTO.key).encrypt(echo, CORPID).decode()
    return {"msg_signature": sign(TOKEN, timestamp, "n1", echostr), "timestamp": timestamp, "nonce": "n1",
            "echostr": echostr}


async def test_get_decrypts_echostr_to_text():
    params = echostr_params("5927782489442352469")
    # wechatpy agrees that this is a well-signed verification request
    assert CRYPTO.check_signature(params["msg_signature"], params["timestamp"], "n1", params["echostr"]) == \
        "5927782489442352469"
    async with client(Recorder()) as http:
        r = await http.get("/wecom", params=params)
    assert (r.status_code, r.text) == (200, "5927782489442352469")
    assert r.headers["content-type"].startswith("text/plain")


async def test_get_tolerates_a_plus_sent_unencoded():
    while "+" not in (params := echostr_params("echo-plus"))["echostr"]:
        pass
    query = "&".join(f"{k}={v}" for k, v in params.items())  # "+" left raw: a form decoder reads a space
    async with client(Recorder()) as http:
        r = await http.get(f"/wecom?{query}")
    assert (r.status_code, r.text) == (200, "echo-plus")


@pytest.mark.parametrize("change", [
    {"msg_signature": "0" * 40},
    {"msg_signature": None},
    {"echostr": None},
    {"nonce": None},
    {"timestamp": str(int(time.time()) - 1000)},
])
async def test_get_with_bad_signature_or_params_is_403(change):
    params = {**echostr_params("x"), **change}
    async with client(Recorder()) as http:
        r = await http.get("/wecom", params={k: v for k, v in params.items() if v is not None})
    assert r.status_code == 403


async def test_get_with_signed_but_undecryptable_echostr_is_400():
    timestamp = now()
    async with client(Recorder()) as http:
        r = await http.get("/wecom", params={"msg_signature": sign(TOKEN, timestamp, "n", "QUJD"),
                                             "timestamp": timestamp, "nonce": "n", "echostr": "QUJD"})
    assert r.status_code == 400


async def test_post_round_trip_reply_is_encrypted_and_swapped():
    process = Recorder()
    envelope, params = encrypt(text_xml("下单 A12 2"))
    async with client(process) as http:
        r = await http.post("/wecom", params=params, content=envelope.encode())
    assert r.status_code == 200
    assert "echo" not in r.text
    outer = xmltodict.parse(r.text)["xml"]
    reply = xmltodict.parse(CRYPTO.decrypt_message(r.text, outer["MsgSignature"], outer["TimeStamp"],
                                                   outer["Nonce"]))["xml"]
    assert (reply["ToUserName"], reply["FromUserName"]) == (USERID, CORPID)
    assert (reply["MsgType"], reply["Content"]) == ("text", "echo: 下单 A12 2")
    assert process.messages == [Message(
        channel="wecom", chat_id=f"wecom:{USERID}", sender_id=USERID, text="下单 A12 2",
        msg_id="1234567890123456", sent_at=datetime.fromtimestamp(CREATED, timezone.utc), is_private=True)]


async def test_post_with_empty_reply_is_success():
    envelope, params = encrypt(text_xml("hi"))
    async with client(Recorder(Reply([]))) as http:
        r = await http.post("/wecom", params=params, content=envelope.encode())
    assert (r.status_code, r.text) == (200, "success")


async def test_post_with_bad_msg_signature_is_403():
    process = Recorder()
    envelope, params = encrypt(text_xml("hi"))
    async with client(process) as http:
        r = await http.post("/wecom", params={**params, "msg_signature": "1" * 40}, content=envelope.encode())
    assert r.status_code == 403
    assert process.messages == []


@pytest.mark.parametrize("body", [
    "<xml><Encrypt>",
    text_xml("plain text is not accepted here"),  # no Encrypt field
    None,  # a well-signed envelope for another corp
])
async def test_post_with_malformed_or_undecryptable_body_is_400(body):
    process = Recorder()
    if body is None:
        encrypted = PrpCrypto(CRYPTO.key).encrypt(text_xml("x"), "wwOtherCorp").decode()
        timestamp = now()
        params = {"msg_signature": sign(TOKEN, timestamp, "n", encrypted), "timestamp": timestamp, "nonce": "n"}
        body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    else:
        params = {"msg_signature": "0" * 40, "timestamp": now(), "nonce": "n"}
    async with client(process) as http:
        r = await http.post("/wecom", params=params, content=body.encode())
    assert r.status_code == 400
    assert process.messages == []


async def test_stale_post_is_403_unless_the_guard_is_off():
    envelope, params = encrypt(text_xml("hi"), timestamp="1000")
    async with client(Recorder()) as http:
        assert (await http.post("/wecom", params=params, content=envelope.encode())).status_code == 403
    async with client(Recorder(), wechat_max_skew_seconds=0) as http:
        assert (await http.post("/wecom", params=params, content=envelope.encode())).status_code == 200


@pytest.mark.parametrize("unset", ["wecom_token", "wecom_aes_key", "wecom_corpid"])
async def test_unconfigured_channel_answers_404(unset):
    envelope, params = encrypt(text_xml("hi"))
    process = Recorder()
    async with client(process, **{unset: None}) as http:
        assert (await http.get("/wecom", params=echostr_params("x"))).status_code == 404
        assert (await http.post("/wecom", params=params, content=envelope.encode())).status_code == 404
    assert process.messages == []
