"""The Official Account adapter at /wechat, driven over HTTP and checked with wechatpy's own crypto."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from types import SimpleNamespace

import httpx
import pytest
import xmltodict
from fastapi import FastAPI
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

from bot.channels import wechat
from handlers.context import Message, Reply

pytestmark = pytest.mark.anyio

TOKEN = "tuantoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx0123456789abcdef"
OPENID = "oUser-42"
SHOP = "gh_shop"
CREATED = 1795500000


class Recorder:
    """A stand-in for the dispatcher: remembers each Message and echoes its text."""

    def __init__(self, reply: Reply | None = None):
        self.messages: list[Message] = []
        self.reply = reply

    def __call__(self, msg: Message) -> Reply:
        self.messages.append(msg)
        return self.reply if self.reply is not None else Reply(["echo: " + msg.text])


def make_settings(**overrides):
    values = dict(wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_appid=APPID, wecom_token=None,
                  wecom_aes_key=None, wecom_corpid=None, wechat_max_skew_seconds=300)
    values.update(overrides)
    return SimpleNamespace(**values)


def client(process, **overrides) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(wechat.make_router(make_settings(**overrides), process))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def now() -> str:
    return str(int(time.time()))


def text_xml(content: str, msg_id: str = "10001") -> str:
    return (f"<xml><ToUserName><![CDATA[{SHOP}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{CREATED}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def event_xml(event: str) -> str:
    return (f"<xml><ToUserName>{SHOP}</ToUserName><FromUserName>{OPENID}</FromUserName>"
            f"<CreateTime>{CREATED}</CreateTime><MsgType>event</MsgType><Event>{event}</Event></xml>")


def plain_params(timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or now()
    return {"signature": sign(TOKEN, timestamp, "n1"), "timestamp": timestamp, "nonce": "n1"}


async def post_plain(http: httpx.AsyncClient, body: str, timestamp: str | None = None) -> httpx.Response:
    return await http.post("/wechat", params=plain_params(timestamp), content=body.encode())


def encrypt(body: str, appid: str = APPID) -> tuple[str, dict[str, str]]:
    """A safe-mode request as WeChat sends it: the envelope and its query parameters."""
    timestamp = now()
    envelope = WeChatCrypto(TOKEN, AES_KEY, appid).encrypt_message(body, "n2", timestamp)
    fields = xmltodict.parse(envelope)["xml"]
    params = {"encrypt_type": "aes", "msg_signature": fields["MsgSignature"], "timestamp": timestamp,
              "nonce": "n2", "signature": sign(TOKEN, timestamp, "n2")}
    return envelope, params


def open_reply(response: httpx.Response) -> dict:
    envelope = xmltodict.parse(response.text)["xml"]
    plain = WeChatCrypto(TOKEN, AES_KEY, APPID).decrypt_message(
        response.text, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
    return xmltodict.parse(plain)["xml"]


async def test_get_with_right_signature_echoes_echostr_as_text():
    timestamp = now()
    async with client(Recorder()) as http:
        r = await http.get("/wechat", params={"signature": sign(TOKEN, timestamp, "abc"), "timestamp": timestamp,
                                              "nonce": "abc", "echostr": "hello-42"})
    assert r.status_code == 200
    assert r.text == "hello-42"
    assert r.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("params", [
    {"signature": "0" * 40},
    {"signature": "签名"},  # non-ASCII must not reach compare_digest as str
    {"signature": None},
    {"nonce": None},
    {"timestamp": None},
    {"timestamp": "12x"},
])
async def test_get_with_wrong_or_missing_signature_is_403(params):
    timestamp = now()
    query = {"signature": sign(TOKEN, timestamp, "abc"), "timestamp": timestamp, "nonce": "abc", "echostr": "e"}
    query.update(params)
    async with client(Recorder()) as http:
        r = await http.get("/wechat", params={k: v for k, v in query.items() if v is not None})
    assert r.status_code == 403


async def test_plain_text_gets_passive_reply_with_users_swapped():
    process = Recorder()
    async with client(process) as http:
        r = await post_plain(http, text_xml("下单 A12 2"))
    assert r.status_code == 200
    reply = xmltodict.parse(r.text)["xml"]
    assert reply["ToUserName"] == OPENID
    assert reply["FromUserName"] == SHOP
    assert reply["MsgType"] == "text"
    assert reply["Content"] == "echo: 下单 A12 2"
    assert abs(int(reply["CreateTime"]) - time.time()) < 60


async def test_text_becomes_one_private_message():
    process = Recorder()
    async with client(process) as http:
        await post_plain(http, text_xml("帮助", msg_id="6054768590064713728"))
    assert process.messages == [Message(
        channel="wechat", chat_id=f"wechat:{OPENID}", sender_id=OPENID, text="帮助",
        msg_id="6054768590064713728", sent_at=datetime.fromtimestamp(CREATED, timezone.utc), is_private=True)]
    assert process.messages[0].sent_at.tzinfo is not None


async def test_several_texts_are_one_reply_and_cdata_end_cannot_break_it():
    async with client(Recorder(Reply(["第一行", "a ]]> b", "<x>&"]))) as http:
        r = await post_plain(http, text_xml("x"))
    assert xmltodict.parse(r.text)["xml"]["Content"] == "第一行\na ]]> b\n<x>&"


async def test_empty_reply_is_success():
    process = Recorder(Reply([]))
    async with client(process) as http:
        r = await post_plain(http, text_xml("随便聊聊"))
    assert (r.status_code, r.text) == (200, "success")
    assert len(process.messages) == 1


async def test_subscribe_is_processed_as_help_with_a_stable_msg_id():
    process = Recorder()
    async with client(process) as http:
        r = await post_plain(http, event_xml("subscribe"))
        await post_plain(http, event_xml("subscribe"))
    assert xmltodict.parse(r.text)["xml"]["Content"] == "echo: 帮助"
    first, again = process.messages
    assert first.text == "帮助" and first.msg_id == again.msg_id == f"{OPENID}:{CREATED}:subscribe"


@pytest.mark.parametrize("body", [
    event_xml("unsubscribe"),
    f"<xml><ToUserName>{SHOP}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>{CREATED}</CreateTime>"
    "<MsgType>image</MsgType><PicUrl>http://x/y.jpg</PicUrl><MsgId>7</MsgId></xml>",
])
async def test_other_messages_are_answered_success_without_processing(body):
    process = Recorder()
    async with client(process) as http:
        r = await post_plain(http, body)
    assert (r.status_code, r.text) == (200, "success")
    assert process.messages == []


async def test_plain_post_with_bad_signature_is_403_and_not_processed():
    process = Recorder()
    async with client(process) as http:
        r = await http.post("/wechat", params={"signature": "f" * 40, "timestamp": now(), "nonce": "n1"},
                            content=text_xml("下单 A12").encode())
    assert r.status_code == 403
    assert process.messages == []


@pytest.mark.parametrize("body", [
    "<xml><ToUserName>",
    "not xml at all",
    "",
    "<other><a>1</a></other>",
    "<xml>just text</xml>",
    f"<xml><ToUserName>{SHOP}</ToUserName><MsgType>text</MsgType><CreateTime>1</CreateTime></xml>",  # no sender
    text_xml("x").replace(f"<CreateTime>{CREATED}", "<CreateTime>soon"),
    text_xml("x").replace(f"<![CDATA[{OPENID}]]>", "<a>1</a><b>2</b>"),  # nested element, not text
    '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><Content>&b;</Content></xml>',
])
async def test_malformed_plain_body_is_400_and_not_processed(body):
    process = Recorder()
    async with client(process) as http:
        r = await post_plain(http, body)
    assert r.status_code == 400
    assert process.messages == []


async def test_safe_mode_round_trip_replies_encrypted():
    process = Recorder()
    envelope, params = encrypt(text_xml("商品 鞋"))
    async with client(process) as http:
        r = await http.post("/wechat", params=params, content=envelope.encode())
    assert r.status_code == 200
    assert "echo" not in r.text and "Encrypt" in r.text
    reply = open_reply(r)
    assert (reply["ToUserName"], reply["FromUserName"], reply["Content"]) == (OPENID, SHOP, "echo: 商品 鞋")
    assert process.messages[0].text == "商品 鞋"


async def test_safe_mode_with_empty_reply_is_success():
    envelope, params = encrypt(text_xml("hi"))
    async with client(Recorder(Reply([]))) as http:
        r = await http.post("/wechat", params=params, content=envelope.encode())
    assert (r.status_code, r.text) == (200, "success")


@pytest.mark.parametrize("params", [{"msg_signature": "0" * 40}, {"msg_signature": None}])
async def test_safe_mode_with_bad_msg_signature_is_403(params):
    process = Recorder()
    envelope, query = encrypt(text_xml("hi"))
    query.update(params)
    async with client(process) as http:
        r = await http.post("/wechat", params={k: v for k, v in query.items() if v is not None},
                            content=envelope.encode())
    assert r.status_code == 403
    assert process.messages == []


def signed_envelope(encrypted: str) -> tuple[str, dict[str, str]]:
    timestamp = now()
    params = {"encrypt_type": "aes", "timestamp": timestamp, "nonce": "n3",
              "msg_signature": sign(TOKEN, timestamp, "n3", encrypted)}
    return f"<xml><ToUserName>{SHOP}</ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>", params


@pytest.mark.parametrize("encrypted", [
    "not base64 !!",
    "QUJD",  # base64, but not a whole AES block
    "A" * 64,  # whole blocks that decrypt to garbage
    PrpCrypto(WeChatCrypto(TOKEN, AES_KEY, APPID).key).encrypt(text_xml("x"), "wxSomeoneElse").decode(),
    PrpCrypto(WeChatCrypto(TOKEN, AES_KEY, APPID).key).encrypt("<xml><unclosed>", APPID).decode(),
], ids=["not-base64", "part-block", "garbage-blocks", "other-appid", "bad-xml"])  # fixed ids: the ciphertexts are random
async def test_undecryptable_body_with_valid_signature_is_400(encrypted):
    process = Recorder()
    envelope, params = signed_envelope(encrypted)
    async with client(process) as http:
        r = await http.post("/wechat", params=params, content=envelope.encode())
    assert r.status_code == 400
    assert process.messages == []


async def test_safe_mode_without_encrypt_field_is_400_and_unknown_mode_is_400():
    timestamp = now()
    async with client(Recorder()) as http:
        r = await http.post("/wechat", content=b"<xml><ToUserName>x</ToUserName></xml>", params={
            "encrypt_type": "aes", "timestamp": timestamp, "nonce": "n", "msg_signature": sign(TOKEN, timestamp, "n")})
        assert r.status_code == 400
        r = await http.post("/wechat", params={**plain_params(), "encrypt_type": "rot13"}, content=text_xml("x"))
        assert r.status_code == 400


async def test_safe_mode_without_aes_key_configured_is_400():
    envelope, params = encrypt(text_xml("hi"))
    async with client(Recorder(), wechat_aes_key=None) as http:
        r = await http.post("/wechat", params=params, content=envelope.encode())
    assert r.status_code == 400


async def test_stale_timestamp_is_403_on_get_and_post():
    stale = str(int(time.time()) - 301)
    future = str(int(time.time()) + 400)
    process = Recorder()
    async with client(process) as http:
        for timestamp in (stale, future):
            r = await http.get("/wechat", params={**plain_params(timestamp), "echostr": "e"})
            assert r.status_code == 403
            assert (await post_plain(http, text_xml("x"), timestamp)).status_code == 403
    assert process.messages == []


async def test_skew_zero_turns_the_replay_guard_off():
    process = Recorder()
    async with client(process, wechat_max_skew_seconds=0) as http:
        r = await http.get("/wechat", params={**plain_params("1000"), "echostr": "old"})
        assert (r.status_code, r.text) == (200, "old")
        assert (await post_plain(http, text_xml("x"), "1000")).status_code == 200
    assert len(process.messages) == 1


@pytest.mark.parametrize("token", [None, ""])
async def test_unset_token_answers_404(token):
    process = Recorder()
    async with client(process, wechat_token=token) as http:
        assert (await http.get("/wechat", params={**plain_params(), "echostr": "e"})).status_code == 404
        assert (await post_plain(http, text_xml("x"))).status_code == 404
    assert process.messages == []
