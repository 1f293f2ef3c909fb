"""Whole paths from outside: a WeChat safe-mode message becomes a stored order; no text ever breaks a handler."""
import hashlib
import time

import httpx
import pytest
import xmltodict
from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from bot.app import create_app
from bot.settings import load_settings
from helpers import Chat, add_product, make_message
from storage.tables import orders

TOKEN, AES_KEY, APPID = "tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx0123456789abcdef"


@pytest.mark.anyio
async def test_wechat_safe_mode_order_round_trip(db, clock):
    add_product(db)
    settings = load_settings(database_url=db.url, wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_appid=APPID)
    app = create_app(settings, db=db, clock=clock)
    ts = str(int(time.time()))
    body = (f"<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>"
            f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[下单 Ａ１２ ２]]></Content><MsgId>99001</MsgId></xml>")
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    envelope = crypto.encrypt_message(body, "n1", ts)
    fields = xmltodict.parse(envelope)["xml"]
    signature = hashlib.sha1("".join(sorted([TOKEN, ts, "n1"])).encode()).hexdigest()
    params = {"encrypt_type": "aes", "msg_signature": fields["MsgSignature"], "timestamp": ts, "nonce": "n1",
              "signature": signature}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        r = await http.post("/wechat", params=params, content=envelope.encode())
        again = await http.post("/wechat", params=params, content=envelope.encode())  # WeChat retries
    assert r.status_code == 200
    out = xmltodict.parse(r.text)["xml"]
    reply = xmltodict.parse(crypto.decrypt_message(r.text, out["MsgSignature"], out["TimeStamp"], out["Nonce"]))["xml"]
    assert reply["ToUserName"] == "oUser" and "单价 ¥189.00" in reply["Content"]
    assert again.status_code == 200
    with db.read() as c:
        rows = c.execute(select(orders.c.group_id, orders.c.user_id, orders.c.quantity)).all()
    assert rows == [("wechat:oUser", "oUser", 2)]  # once, in the follower's private chat


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(
    st.text(max_size=60),
    st.builds(lambda w, rest: f"{w} {rest}", st.sampled_from(
        ["下单", "buy", "取消", "cancel", "详情", "info", "商品", "browse", "更多", "+", "/", "#", "开团", "参团",
         "join", "退团", "团购", "结束", "发布", "deal", "推送", "push", "统计", "stats", "帮助"]),
        st.text(max_size=40)),
))
# Digits str.isdigit() accepts and int() does not (found by this test): superscripts, circled numbers.
@example(text="参团0¹")
@example(text="下单 A12 ②")
@example(text="推送 删除 ³")
def test_no_text_breaks_a_handler(sqlite_db, text):
    chat = _fuzz_chat(sqlite_db)
    for role in ("member", "owner"):
        handled = chat.handle(make_message(text, role=role, mentions_bot=True))
        assert handled.outcome != "error", (text, handled.reply.texts)


_chats = {}


def _fuzz_chat(db):
    if db.url not in _chats:
        add_product(db, stock=1_000_000)
        _chats[db.url] = Chat(db)
    return _chats[db.url]
