"""Input a client controls never makes a 500: bodies nested thousands of levels deep on every JSON
endpoint, and a chat text longer than any command."""
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import create_app
from bot.jsonbody import MAX_DEPTH, BadJson, parse, too_deep
from bot.settings import load_settings
from helpers import ADMIN_AUTH, ADMIN_TOKEN, add_product, signed_bridge_post
from storage.tables import inbound_messages

pytestmark = pytest.mark.anyio
SECRET = "s3cret"

# Every endpoint that reads a JSON body, with the method it takes.
JSON_ENDPOINTS = [
    ("POST", "/admin/products"),
    ("PATCH", "/admin/products/A12"),
    ("PUT", "/admin/groups/g1"),
    ("PATCH", "/admin/groups/g1"),
    ("POST", "/admin/groups/g1/pushes"),
    ("POST", "/admin/groups/g1/content"),
    ("POST", "/chat/messages"),
]


def nested(depth: int, leaf: str = "1") -> bytes:
    """`{"a": {"a": … 1 …}}` or `[[[…]]]` depth levels deep, as raw bytes (json.dumps itself would recurse)."""
    return ('{"a":' * depth + leaf + "}" * depth).encode()


def nested_list(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


@pytest.fixture
async def client(db, clock):
    settings = load_settings(database_url=db.url, admin_token=ADMIN_TOKEN, bridge_secret=SECRET, web_chat=True,
                             aibot_token="t", aibot_aes_key="a" * 43, wechat_token="t")
    app = create_app(settings, db=db, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        yield c


@pytest.mark.parametrize("body", [nested(100_000), nested_list(100_000), nested(900), nested(MAX_DEPTH + 1)],
                         ids=["object-100k", "list-100k", "object-900", "object-just-too-deep"])
async def test_a_deeply_nested_body_is_a_4xx_on_every_json_endpoint(client, db, body):
    add_product(db)
    for method, path in JSON_ENDPOINTS:
        r = await client.request(method, path, content=body,
                                 headers={**ADMIN_AUTH, "Content-Type": "application/json"})
        assert r.status_code in (400, 422), (method, path, r.status_code)
    r = await client.post("/bridge/messages", content=body, headers=signed_bridge_post(SECRET, body)[1])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"]
    assert "nested" in r.json()["detail"][0]["msg"] or "object" in r.json()["detail"][0]["msg"]
    # The WeCom robot reads its JSON envelope before the signature over its contents can be checked.
    r = await client.post(f"/wecom/aibot?msg_signature=x&timestamp={int(time.time())}&nonce=n", content=body)
    assert r.status_code == 400


async def test_deeply_nested_xml_on_the_wechat_callback_is_400(client):
    from bot.channels.wechat import signature

    ts, nonce = str(int(time.time())), "n"
    body = ("<xml>" + "<a>" * 100_000 + "x" + "</a>" * 100_000 + "</xml>").encode()
    r = await client.post(f"/wechat?signature={signature('t', ts, nonce)}&timestamp={ts}&nonce={nonce}", content=body)
    assert r.status_code in (200, 400)  # refused as unreadable, or read as a message that is not text: never a 500


async def test_a_deeply_nested_field_inside_a_valid_bridge_message_is_422(client, db):
    inner = nested(50_000).decode()
    body = ('{"msg_id":"m-1","group_id":"g1","sender_id":"u1","text":"hi","extra":' + inner + "}").encode()
    r = await client.post("/bridge/messages", content=body, headers=signed_bridge_post(SECRET, body)[1])
    assert r.status_code == 422
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(inbound_messages)).scalar_one() == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=1, max_value=3000), kind=st.sampled_from(["{", "["]))
def test_parse_never_raises_anything_but_badjson(depth, kind):
    body = nested(depth) if kind == "{" else nested_list(depth)
    try:
        value = parse(body)
    except BadJson as e:
        assert depth > MAX_DEPTH and "nested" in e.reason
    else:
        assert depth <= MAX_DEPTH and not too_deep(value)


def test_parse_names_malformed_json_without_quoting_it():
    with pytest.raises(BadJson) as e:
        parse(b'{"secret": "abc"')
    assert e.value.reason == "malformed JSON"
    with pytest.raises(BadJson):
        parse(b"\xff\xfe")


async def test_a_text_longer_than_4000_characters_is_counted_talk_not_a_refusal(client, db):
    add_product(db)
    for n, text in enumerate(["下单 A12 1 " + "很" * 5000, "/帮助" + "x" * 4000, "@团购助手 " + "商品" * 3000]):
        payload = {"msg_id": f"m-{n}", "group_id": "g1", "sender_id": "u1", "text": text, "mentions_bot": True}
        body, headers = signed_bridge_post(SECRET, payload)
        r = await client.post("/bridge/messages", content=body, headers=headers)
        assert r.status_code == 200 and r.json() == {"replies": [], "duplicate": False}
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(inbound_messages)
                            .where(inbound_messages.c.kind == "text")).scalar_one() == 3
    # 4,000 characters exactly is still a command.
    payload = {"msg_id": "m-9", "group_id": "g1", "sender_id": "u1", "text": "商品" + " " * 3998}
    body, headers = signed_bridge_post(SECRET, payload)
    assert (await client.post("/bridge/messages", content=body, headers=headers)).json()["replies"]
