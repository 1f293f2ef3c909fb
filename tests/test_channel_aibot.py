"""The WeCom intelligent robot at /wecom/aibot, played from outside as WeCom plays it.

Callbacks are encrypted and answers checked by docs/aibot_send.py (standard library and
`cryptography` only, nothing of tuanbot), through the real app, dispatcher and database.
"""
from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app, enabled_channels
from bot.settings import SettingsError, load_settings
from catalog.products import get_product
from helpers import add_product
from storage.tables import groupbuy_participants, inbound_messages, orders

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
import aibot_send as wecom  # noqa: E402  the independent sender doubles as the test's WeCom

pytestmark = pytest.mark.anyio

TOKEN = "aibottoken"
KEY = "Zyx9876543210abcdefghijklmnopqrstuvwxyzABCD"
GROUP = "wrOgQhDgAAcwMTB7YmDkbeBsgT_AAAAA"
BOSS = "boss"  # in TUANBOT_OWNERS: may open group buys
_seq = iter(range(1, 10**6))


@pytest.fixture
async def robot(db, clock):
    settings = load_settings(database_url=db.url, aibot_token=TOKEN, aibot_aes_key=KEY, owners=BOSS)
    app = create_app(settings, db=db, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        yield Robot(client, db)


class Robot:
    """Sends callbacks as WeCom does and opens the answers as WeCom would (signature, nonce, receive id)."""

    def __init__(self, client: httpx.AsyncClient, db):
        self.client, self.db = client, db

    async def send(self, payload: dict) -> tuple[int, dict | None]:
        query, body = wecom.callback(TOKEN, KEY, payload)
        r = await self.client.post("/wecom/aibot", params=query, content=body)
        if r.status_code != 200:
            return r.status_code, None
        return 200, wecom.open_answer(TOKEN, KEY, r.content, query["nonce"])

    async def answer(self, payload: dict) -> dict | None:
        status, answer = await self.send(payload)
        assert status == 200
        return answer

    async def say(self, text: str, user: str = "alice", msgid: str | None = None, chat: str | None = GROUP) -> dict:
        return await self.answer(text_msg(text, user=user, msgid=msgid, chat=chat))

    async def click(self, key: str, user: str = "bob", msgid: str | None = None, task_id: str = "gb1_card") -> dict:
        return await self.answer(click_msg(key, user=user, msgid=msgid, task_id=task_id))

    def stock(self, code: str = "A12") -> int:
        with self.db.read() as conn:
            return get_product(conn, code).stock

    def count(self, table) -> int:
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()


def new_id() -> str:
    return f"msg{next(_seq)}"


def text_msg(text: str, *, user: str = "alice", msgid: str | None = None, chat: str | None = GROUP,
             kind: str = "text") -> dict:
    return wecom.message(kind, msgid=msgid or new_id(), user=user, chat=chat, body={"content": text})


def click_msg(key: str, *, user: str = "bob", msgid: str | None = None, task_id: str = "gb1_card") -> dict:
    event = {"eventtype": "template_card_event", "template_card_event": {
        "card_type": "button_interaction", "event_key": key, "task_id": task_id}}
    return wecom.message("event", msgid=msgid or new_id(), user=user, chat=GROUP, body=event)


def content(answer: dict) -> str:
    assert answer["stream"]["finish"] is True
    return answer["stream"]["content"]


async def open_groupbuy(robot: Robot, stock: int = 100) -> tuple[dict, int]:
    add_product(robot.db, stock=stock)
    answer = await robot.say("@团购助手 开团 A12 3:150 5:120", user=BOSS)
    return answer, answer["template_card"]["button_list"][0]["key"].split(":")[1]


# ---- the URL check and the envelope --------------------------------------------------------------

async def test_get_with_the_right_signature_answers_the_decrypted_echostr(robot):
    echostr = wecom.encrypt(KEY, "6542718939482305573")
    r = await robot.client.get("/wecom/aibot", params={**wecom.signed_query(TOKEN, echostr), "echostr": echostr})
    assert (r.status_code, r.text) == (200, "6542718939482305573")
    assert r.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("change", [
    {"msg_signature": "0" * 40}, {"msg_signature": None}, {"echostr": None},
    {"timestamp": str(int(time.time()) - 1000)}, {"timestamp": "soon"}, {"nonce": None},
])
async def test_get_with_a_wrong_signature_or_stale_timestamp_is_403(robot, change):
    echostr = wecom.encrypt(KEY, "x")
    query = {**wecom.signed_query(TOKEN, echostr), "echostr": echostr, **change}
    r = await robot.client.get("/wecom/aibot", params={k: v for k, v in query.items() if v is not None})
    assert r.status_code == 403


async def test_get_with_a_signed_echostr_for_another_receiver_is_400(robot):
    echostr = wecom.encrypt(KEY, "x", receive_id="ww0123456789")
    r = await robot.client.get("/wecom/aibot", params={**wecom.signed_query(TOKEN, echostr), "echostr": echostr})
    assert r.status_code == 400


async def test_without_a_token_the_robot_url_is_404(db, clock):
    app = create_app(load_settings(database_url=db.url), db=db, clock=clock)
    query, body = wecom.callback(TOKEN, KEY, text_msg("帮助"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        assert (await client.post("/wecom/aibot", params=query, content=body)).status_code == 404
        assert (await client.get("/wecom/aibot", params=query)).status_code == 404


async def test_every_answer_is_signed_encrypted_with_an_empty_receive_id_and_keeps_the_nonce(robot):
    query, body = wecom.callback(TOKEN, KEY, text_msg("@团购助手 帮助"))
    r = await robot.client.post("/wecom/aibot", params=query, content=body)
    outer = r.json()
    assert set(outer) == {"encrypt", "msgsignature", "timestamp", "nonce"} and outer["nonce"] == query["nonce"]
    assert outer["msgsignature"] == wecom.sign(TOKEN, str(outer["timestamp"]), outer["nonce"], outer["encrypt"])
    plaintext, receive_id = wecom.decrypt(KEY, outer["encrypt"])
    assert receive_id == ""
    assert json.loads(plaintext)["msgtype"] == "stream"


# ---- every message type ------------------------------------------------------------------------

async def test_group_text_drops_the_mention_and_places_an_order(robot):
    add_product(robot.db, stock=10)
    payload = text_msg("@团购助手\u2005下单 A12 2", user="alice")
    answer = await robot.answer(payload)
    assert answer["msgtype"] == "stream" and answer["stream"]["id"] == payload["msgid"]
    assert "下单成功" in content(answer) and "×2" in content(answer)
    assert robot.stock() == 8
    with robot.db.read() as conn:
        order = conn.execute(select(orders)).one()
        row = conn.execute(select(inbound_messages)).one()
    assert (order.group_id, order.user_id, order.quantity) == (GROUP, "alice", 2)
    assert (row.channel, row.msg_id, row.group_id, row.sender_id, row.command) == (
        "wecom_aibot", payload["msgid"], GROUP, "alice", "buy")


async def test_several_leading_mentions_are_dropped(robot):
    add_product(robot.db, stock=10)
    await robot.say("@团购助手 @张三 下单 A12")
    assert robot.stock() == 9


async def test_voice_is_handled_as_its_transcribed_text(robot):
    add_product(robot.db, stock=10)
    answer = await robot.answer(text_msg("下单 A12 3", kind="voice"))
    assert robot.stock() == 7 and "下单成功" in content(answer)


async def test_mixed_joins_its_text_items(robot):
    add_product(robot.db, stock=10)
    items = [{"msgtype": "text", "text": {"content": "@团购助手 下单"}},
             {"msgtype": "image", "image": {"url": "https://example.com/a.jpg"}},
             {"msgtype": "text", "text": {"content": "A12 2"}}]
    payload = wecom.message("mixed", msgid=new_id(), user="alice", chat=GROUP, body={"msg_item": items})
    answer = await robot.answer(payload)
    assert robot.stock() == 8 and "下单成功" in content(answer)


@pytest.mark.parametrize("kind", ["image", "file", "video"])
async def test_pictures_files_and_videos_get_one_sentence_and_change_nothing(robot, kind):
    add_product(robot.db, stock=10)
    payload = wecom.message(kind, msgid=new_id(), user="alice", chat=GROUP, body={"url": "https://example.com/x"})
    answer = await robot.answer(payload)
    assert answer["msgtype"] == "stream" and "文字" in content(answer) and "\n" not in content(answer)
    assert await robot.answer(payload) == answer  # deduplicated like any message
    with robot.db.read() as conn:
        row = conn.execute(select(inbound_messages)).one()
    assert (row.channel, row.kind, row.event, row.group_id) == ("wecom_aibot", "event", "media", GROUP)
    assert robot.stock() == 10 and robot.count(orders) == 0


async def test_a_single_chat_is_the_senders_private_chat(robot):
    answer = await robot.say("帮助", user="carol", chat=None)  # no mention needed
    assert "下单" in content(answer)
    with robot.db.read() as conn:
        row = conn.execute(select(inbound_messages)).one()
    assert (row.group_id, row.sender_id) == ("wecom_aibot:carol", "carol")


async def test_group_talk_after_the_mention_gets_an_answer_not_silence(robot):
    answer = await robot.say("@团购助手")
    assert "下单" in content(answer)  # the bare mention is a call for help


async def test_enter_chat_is_answered_with_the_help_text(robot):
    payload = wecom.message("event", msgid=new_id(), user="dave", chat=None, body={"eventtype": "enter_chat"})
    answer = await robot.answer(payload)
    assert set(answer) == {"msgtype", "text"} and answer["msgtype"] == "text"
    assert "帮助" in answer["text"]["content"] and "下单" in answer["text"]["content"]


async def test_other_events_and_unknown_buttons_get_an_empty_body(robot):
    other = wecom.message("event", msgid=new_id(), user="dave", chat=GROUP, body={"eventtype": "feedback_event"})
    assert await robot.answer(other) is None
    assert await robot.click("vote:3") is None


# ---- dedupe and stream refresh -----------------------------------------------------------------

async def test_a_repeated_msgid_has_one_effect_and_the_same_answer(robot):
    add_product(robot.db, stock=10)
    first = await robot.say("@团购助手 下单 A12 2", msgid="same-1")
    again = await robot.say("@团购助手 下单 A12 2", msgid="same-1")
    assert again == first
    assert robot.stock() == 8 and robot.count(orders) == 1


async def test_ten_concurrent_copies_have_one_effect_and_one_answer(robot):
    add_product(robot.db, stock=10)
    payload = text_msg("@团购助手 下单 A12 1", msgid="burst-1")
    answers = await asyncio.gather(*(robot.answer(payload) for _ in range(10)))
    assert all(a == answers[0] for a in answers) and "下单成功" in content(answers[0])
    assert robot.stock() == 9 and robot.count(orders) == 1


async def test_a_stream_refresh_answers_the_stored_reply_without_running_again(robot):
    add_product(robot.db, stock=10)
    payload = text_msg("@团购助手 下单 A12 2")
    first = await robot.answer(payload)
    refresh = wecom.message("stream", msgid=new_id(), user="alice", chat=GROUP, body={"id": first["stream"]["id"]})
    again = await robot.answer(refresh)
    assert again == {"msgtype": "stream", "stream": first["stream"]}
    assert robot.stock() == 8 and robot.count(orders) == 1 and robot.count(inbound_messages) == 1


async def test_a_refresh_of_an_unknown_stream_gets_an_empty_body(robot):
    refresh = wecom.message("stream", msgid=new_id(), user="alice", chat=GROUP, body={"id": "never-sent"})
    assert await robot.answer(refresh) is None


# ---- one-tap joining ---------------------------------------------------------------------------

def check_card(card: dict, gb_id: str, title: str = "潮流男鞋") -> None:
    assert card["card_type"] == "button_interaction"
    assert card["main_title"]["title"] == title
    assert [b["key"] for b in card["button_list"]] == [f"join:{gb_id}:1", f"join:{gb_id}:2", f"leave:{gb_id}"]
    assert card["task_id"]


async def test_opening_a_group_buy_answers_with_a_joining_card(robot):
    answer, gb_id = await open_groupbuy(robot)
    assert answer["msgtype"] == "stream_with_template_card"
    assert "开团啦" in content(answer)
    check_card(answer["template_card"], gb_id)
    assert "0 人 0 件" in answer["template_card"]["main_title"]["desc"]


async def test_deals_answer_carries_the_card_of_the_newest_group_buy_with_a_new_task_id(robot):
    opened, first_id = await open_groupbuy(robot)
    add_product(robot.db, code="B7", name="保温杯")  # one open group buy per product and group
    newer = await robot.say("@团购助手 开团 B7 2:160", user=BOSS)
    newest = newer["template_card"]["button_list"][0]["key"].split(":")[1]
    assert newest != first_id
    deals = await robot.say("@团购助手 团购")
    assert deals["msgtype"] == "stream_with_template_card" and f"#{first_id}" in content(deals)
    check_card(deals["template_card"], newest, "保温杯")
    task_ids = {a["template_card"]["task_id"] for a in (opened, newer, deals)}
    assert len(task_ids) == 3


async def test_deals_without_a_group_buy_is_a_plain_stream(robot):
    assert (await robot.say("@团购助手 团购"))["msgtype"] == "stream"


async def test_a_click_joins_like_join_and_a_repeated_click_changes_nothing(robot):
    _, gb_id = await open_groupbuy(robot, stock=100)
    click = click_msg(f"join:{gb_id}:2", user="bob", task_id="gb_card_1")
    answer = await robot.answer(click)
    assert answer["response_type"] == "update_template_card" and answer["userids"] == ["bob"]
    card = answer["template_card"]
    check_card(card, gb_id)
    assert card["task_id"] == "gb_card_1"  # the card clicked is the card updated
    assert "跟团号 1" in card["sub_title_text"] and "1 人 2 件" in card["main_title"]["desc"]
    assert robot.stock() == 98
    assert await robot.answer(click) == answer  # WeCom retried the same click
    assert robot.stock() == 98 and robot.count(groupbuy_participants) == 1
    typed = await robot.say(f"@团购助手 参团 {gb_id} 1", user="carol")
    assert "跟团号 2" in content(typed) and robot.stock() == 97


async def test_leave_returns_the_stock(robot):
    _, gb_id = await open_groupbuy(robot, stock=100)
    await robot.click(f"join:{gb_id}:2", user="bob")
    answer = await robot.click(f"leave:{gb_id}", user="bob")
    assert "已退出" in answer["template_card"]["sub_title_text"]
    assert "0 人 0 件" in answer["template_card"]["main_title"]["desc"]
    assert robot.stock() == 100 and robot.count(groupbuy_participants) == 0


async def test_a_refused_click_says_why_and_shows_unchanged_figures(robot):
    _, gb_id = await open_groupbuy(robot, stock=3)
    await robot.click(f"join:{gb_id}:2", user="bob")
    answer = await robot.click(f"join:{gb_id}:2", user="carol")
    card = answer["template_card"]
    # Too little stock is no refusal since the waitlist (候补): carol waits, the figures stay.
    assert "已加入候补第 1 位" in card["sub_title_text"] and "1 人 2 件" in card["main_title"]["desc"]
    assert robot.stock() == 1
    gone = await robot.click("join:999:1", user="carol")
    assert "没有团购 #999" in gone["template_card"]["sub_title_text"]
    assert robot.stock() == 1


# ---- garbage ------------------------------------------------------------------------------------

def envelope(encrypted: str) -> tuple[dict, bytes]:
    return wecom.signed_query(TOKEN, encrypted), json.dumps({"encrypt": encrypted}).encode()


GARBAGE = {
    "bad JSON": lambda: (wecom.signed_query(TOKEN, "x"), b'{"encrypt": '),
    "not an object": lambda: (wecom.signed_query(TOKEN, "x"), b'["encrypt"]'),
    "missing encrypt": lambda: (wecom.signed_query(TOKEN, "x"), b'{"Encrypt": "x"}'),
    "encrypt not a string": lambda: (wecom.signed_query(TOKEN, "x"), b'{"encrypt": 5}'),
    "bad base64": lambda: envelope("%%%not base64%%%"),
    "short ciphertext": lambda: envelope(base64.b64encode(b"abc").decode()),
    "wrong padding": lambda: envelope(wecom.encrypt(KEY, json.dumps(text_msg("帮助")), wrong_padding=True)),
    "wrong receiveid": lambda: envelope(wecom.encrypt(KEY, json.dumps(text_msg("帮助")), receive_id="wwcorp")),
    "plaintext not JSON": lambda: envelope(wecom.encrypt(KEY, "<xml>hi</xml>")),
    "deeply nested envelope": lambda: (wecom.signed_query(TOKEN, "x"), b"[" * 200_000 + b"]" * 200_000),
    "deeply nested plaintext": lambda: envelope(wecom.encrypt(KEY, "[" * 100_000 + "]" * 100_000)),
    "no msgid": lambda: envelope(wecom.encrypt(KEY, json.dumps({**text_msg("帮助"), "msgid": None}))),
    "no sender": lambda: envelope(wecom.encrypt(KEY, json.dumps({**text_msg("帮助"), "from": "alice"}))),
    "no chatid in a group": lambda: envelope(wecom.encrypt(KEY, json.dumps(
        {k: v for k, v in text_msg("帮助").items() if k != "chatid"}))),
    "bad chattype": lambda: envelope(wecom.encrypt(KEY, json.dumps({**text_msg("帮助"), "chattype": "room"}))),
    "text not a string": lambda: envelope(wecom.encrypt(KEY, json.dumps({**text_msg("帮助"), "text": {"content": 1}}))),
    "text too long": lambda: envelope(wecom.encrypt(KEY, json.dumps(text_msg("下单 " * 3000)))),
    "mixed without items": lambda: envelope(wecom.encrypt(KEY, json.dumps(
        wecom.message("mixed", msgid="m", user="a", chat=GROUP, body={"msg_item": "x"})))),
    "event without type": lambda: envelope(wecom.encrypt(KEY, json.dumps(
        wecom.message("event", msgid="m", user="a", chat=GROUP, body={})))),
}


@pytest.mark.parametrize("name", GARBAGE)
async def test_garbage_is_400_and_changes_nothing(robot, name):
    query, body = GARBAGE[name]()
    r = await robot.client.post("/wecom/aibot", params=query, content=body)
    assert r.status_code == 400, r.text
    assert robot.count(inbound_messages) == 0


async def test_a_bad_signature_or_a_stale_timestamp_is_403(robot):
    query, body = wecom.callback(TOKEN, KEY, text_msg("帮助"))
    bad = await robot.client.post("/wecom/aibot", params={**query, "msg_signature": "f" * 40}, content=body)
    stale = {**query, "timestamp": str(int(time.time()) - 400)}
    stale["msg_signature"] = wecom.sign(TOKEN, stale["timestamp"], stale["nonce"], json.loads(body)["encrypt"])
    old = await robot.client.post("/wecom/aibot", params=stale, content=body)
    assert (bad.status_code, old.status_code) == (403, 403)
    assert robot.count(inbound_messages) == 0


async def test_a_body_over_one_mib_is_413(robot):
    query, _ = wecom.callback(TOKEN, KEY, text_msg("帮助"))
    body = json.dumps({"encrypt": "A" * (1024 * 1024)}).encode()
    r = await robot.client.post("/wecom/aibot", params=query, content=body)
    assert r.status_code == 413


# ---- settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", [
    {"TUANBOT_AIBOT_TOKEN": "t", "TUANBOT_AIBOT_AES_KEY": "tooshort"},
    {"TUANBOT_AIBOT_TOKEN": "t"},
])
def test_a_malformed_or_missing_robot_key_stops_start_up_naming_it(env, tmp_path):
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("TUANBOT_")}
    full.update(env, TUANBOT_DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    r = subprocess.run([sys.executable, "-m", "bot", "serve", "--no-scheduler"], capture_output=True, text=True,
                       env=full, timeout=60, cwd=Path(__file__).resolve().parents[1])
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "TUANBOT_AIBOT_AES_KEY" in lines[0]


def test_the_robot_is_listed_among_enabled_channels():
    assert "wecom_aibot" in enabled_channels(load_settings(aibot_token=TOKEN, aibot_aes_key=KEY))
    assert "wecom_aibot" not in enabled_channels(load_settings())
    with pytest.raises(SettingsError, match="TUANBOT_AIBOT_AES_KEY"):
        load_settings(aibot_token=TOKEN, aibot_aes_key="x" * 42)


async def test_ten_concurrent_copies_of_a_click_join_once(robot):
    _, gb_id = await open_groupbuy(robot, stock=100)
    click = click_msg(f"join:{gb_id}:2", user="bob", msgid="tap-burst")
    answers = await asyncio.gather(*(robot.answer(click) for _ in range(10)))
    assert all(a == answers[0] for a in answers) and "跟团号 1" in answers[0]["template_card"]["sub_title_text"]
    assert robot.stock() == 98 and robot.count(groupbuy_participants) == 1


# ---- the stored reply and the card, without HTTP ----------------------------------------------------

def test_a_reply_with_its_view_survives_the_dedupe_record_and_an_unreadable_view_is_dropped():
    from handlers.context import GroupBuyView, Reply

    view = GroupBuyView(3, "潮流男鞋", "people", 2, 3, 15000, "2 人 3 件")
    reply = Reply(["开团啦", "第二段"], view, invites_joining=True)
    stored = json.loads(json.dumps(reply.stored()))  # as the JSON column gives it back
    assert Reply.from_stored(stored) == reply
    assert Reply.from_stored(["只有文字"]) == Reply(["只有文字"])
    older = [*reply.texts, {"groupbuy": {"id": 3}, "invites_joining": True}]
    assert Reply.from_stored(older) == Reply(reply.texts)


def test_the_card_cuts_long_names_to_what_wecom_shows():
    from bot.channels.aibot_card import card, task_id_for, valid_task_id
    from handlers.context import GroupBuyView

    view = GroupBuyView(12, "超长的商品名称" * 10, "quantity", 7, 123, None, "进度" * 100)
    c = card(view, 12, task_id_for(12, "m-1"))
    assert len(c["main_title"]["title"]) == 26 and c["main_title"]["title"].endswith("…")
    assert c["main_title"]["desc"] == "#12 未到第一档 · 7 人 123 件"
    assert len(c["sub_title_text"]) == 112
    assert valid_task_id(c["task_id"]) and task_id_for(12, "m-1") != task_id_for(12, "m-2")
    assert valid_task_id("has space") is None and valid_task_id("x" * 129) is None
