"""POST /bridge/messages: signatures, replay window, 4xx for bad input, duplicates, events."""
import json
import time

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.settings import load_settings
from helpers import add_product, signed_bridge_post
from storage.tables import inbound_messages, orders

pytestmark = pytest.mark.anyio
SECRET = "s3cret"


@pytest.fixture
def app(db, clock):
    return create_app(load_settings(database_url=db.url, bridge_secret=SECRET), db=db, clock=clock)


@pytest.fixture
async def http(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        yield client


def text(msg_id="m-1", text="下单 A12 2", **kw):
    return {"msg_id": msg_id, "group_id": "g1", "group_name": "潮鞋团", "sender_id": "u42",
            "sender_name": "小王", "sender_role": "member", "text": text, **kw}


async def post(http, payload, **kw):
    body, headers = signed_bridge_post(SECRET, payload, **kw)
    return await http.post("/bridge/messages", content=body, headers=headers)


async def test_a_signed_order_message_gets_its_reply(http, db):
    add_product(db)
    r = await post(http, text())
    assert r.status_code == 200
    data = r.json()
    assert data["duplicate"] is False
    assert len(data["replies"]) == 1 and "订单号 D1" in data["replies"][0]["text"]


async def test_the_same_msg_id_again_returns_the_first_answer_without_a_second_effect(http, db):
    add_product(db)
    first = (await post(http, text())).json()
    again = (await post(http, text())).json()
    assert again == {"replies": first["replies"], "duplicate": True}
    with db.read() as c:
        assert c.execute(select(func.count()).select_from(orders)).scalar_one() == 1


async def test_talk_gets_an_empty_reply_list_and_still_counts(http, db):
    r = await post(http, text(text="今天天气不错"))
    assert r.json() == {"replies": [], "duplicate": False}
    with db.read() as c:
        assert c.execute(select(inbound_messages.c.kind, inbound_messages.c.is_command)).one() == ("text", False)


async def test_member_joined_event_is_recorded_with_its_inviter(http, db):
    r = await post(http, {"msg_id": "e-9", "event": "member_joined", "group_id": "g1",
                          "member_id": "u77", "member_name": "阿花", "inviter_id": "u42"})
    assert r.status_code == 200 and "阿花" in r.json()["replies"][0]["text"]
    with db.read() as c:
        row = c.execute(select(inbound_messages)).mappings().one()
    assert (row["kind"], row["event"], row["sender_id"], row["inviter_id"]) == ("event", "member_joined", "u77", "u42")


@pytest.mark.parametrize("headers", [
    {},
    {"X-Tuanbot-Timestamp": "1"},
    {"X-Tuanbot-Signature": "sha256=00"},
])
async def test_missing_signature_headers_are_401(http, headers):
    r = await http.post("/bridge/messages", content=json.dumps(text()).encode(), headers=headers)
    assert r.status_code == 401


async def test_wrong_signature_is_401(http):
    body, headers = signed_bridge_post("other-secret", text())
    assert (await http.post("/bridge/messages", content=body, headers=headers)).status_code == 401
    body, headers = signed_bridge_post(SECRET, text())
    tampered = body.replace(b"A12 2", b"A12 9")
    assert (await http.post("/bridge/messages", content=tampered, headers=headers)).status_code == 401


async def test_stale_timestamp_is_401(http):
    assert (await post(http, text(), timestamp=int(time.time()) - 301)).status_code == 401
    assert (await post(http, text(), timestamp=int(time.time()) + 400)).status_code == 401
    assert (await post(http, text(), timestamp=int(time.time()) - 200)).status_code == 200


async def test_malformed_json_is_422(http):
    r = await post(http, b"{not json")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize("field", ["msg_id", "group_id", "sender_id", "text"])
async def test_a_missing_field_is_422_naming_it(http, field):
    payload = text()
    del payload[field]
    r = await post(http, payload)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", field]


async def test_a_wrong_role_or_type_is_422_naming_the_field(http):
    r = await post(http, text(sender_role="king"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "sender_role"]
    r = await post(http, text(mentions_bot="maybe"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "mentions_bot"]
    r = await post(http, ["a", "list"])
    assert r.status_code == 422


async def test_bodies_over_1_mib_are_413(http):
    big = text(text="x" * (1024 * 1024 + 10))
    assert (await post(http, big)).status_code == 413

    async def chunks():  # no Content-Length: the limit counts streamed bytes
        for _ in range(20):
            yield b"x" * 65536

    body, headers = signed_bridge_post(SECRET, b"")
    r = await http.post("/bridge/messages", content=chunks(), headers=headers)
    assert r.status_code == 413


async def test_the_bridge_is_404_without_a_secret(db):
    app = create_app(load_settings(database_url=db.url), db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        body, headers = signed_bridge_post(SECRET, text())
        assert (await client.post("/bridge/messages", content=body, headers=headers)).status_code == 404


async def test_owner_role_and_tuanbot_owners_reach_owner_commands(db, clock):
    settings = load_settings(database_url=db.url, bridge_secret=SECRET, owners="boss")
    app = create_app(settings, db=db, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        async def help_for(**kw):
            body, headers = signed_bridge_post(SECRET, text(text="帮助", **kw))
            return (await client.post("/bridge/messages", content=body, headers=headers)).json()["replies"][0]["text"]

        member = await help_for(msg_id="h1")
        owner = await help_for(msg_id="h2", sender_role="owner")
        listed = await help_for(msg_id="h3", sender_id="boss")
    assert "开团" not in member
    assert "开团" in owner and "开团" in listed


@pytest.mark.anyio
async def test_a_busy_sqlite_writer_sends_messages_to_the_threadpool_not_the_event_loop(sqlite_db):
    import asyncio
    import threading

    app = create_app(load_settings(database_url=sqlite_db.url, bridge_secret=SECRET), db=sqlite_db)
    release, holding = threading.Event(), threading.Event()

    def hold_the_write_lock():
        with sqlite_db.begin():
            holding.set()
            release.wait(3)

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    holding.wait(3)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            body, headers = signed_bridge_post(SECRET, text(text="商品"))
            pending = asyncio.ensure_future(client.post("/bridge/messages", content=body, headers=headers))
            await asyncio.sleep(0.05)
            started = time.monotonic()
            assert (await client.get("/healthz")).status_code == 200
            assert time.monotonic() - started < 1  # the loop was free while the message waited
            assert not pending.done()
            release.set()
            assert (await pending).status_code == 200
    finally:
        release.set()
        holder.join()
