"""What operators reach: health, readiness, metrics, OpenAPI, and JSON logs."""
import json
import logging

import httpx
import pytest

from bot.app import create_app
from bot.logs import JsonFormatter
from bot.settings import load_settings
from helpers import add_product, signed_bridge_post
from storage.db import Database

pytestmark = pytest.mark.anyio


async def test_healthz_readyz_docs(sqlite_db):
    app = create_app(load_settings(database_url=sqlite_db.url), db=sqlite_db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        assert (await c.get("/readyz")).status_code == 200
        assert (await c.get("/docs")).status_code == 200
        assert "/bridge/messages" in (await c.get("/openapi.json")).json()["paths"]


async def test_the_bridge_is_served_by_its_plain_route_and_documented_by_the_fastapi_one(sqlite_db):
    from fastapi.routing import APIRoute

    app = create_app(load_settings(database_url=sqlite_db.url), db=sqlite_db)
    bridge_routes = [r for r in app.router.routes if getattr(r, "path", None) == "/bridge/messages"]
    assert [type(r) is APIRoute for r in bridge_routes] == [False, True]  # the plain one matches first
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        spec = (await c.get("/openapi.json")).json()["paths"]["/bridge/messages"]["post"]
    schemas = spec["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert {"msg_id", "group_id", "sender_id", "text"} <= set(schemas[0]["properties"])
    assert "event" in schemas[1]["properties"]


async def test_readyz_is_503_when_the_database_does_not_answer(tmp_path):
    broken = Database(f"sqlite:///{tmp_path}/missing-dir/x.db")
    app = create_app(load_settings(database_url=broken.url), db=broken)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.get("/healthz")).status_code == 200
        assert (await c.get("/readyz")).status_code == 503


async def test_metrics_count_messages_orders_and_outbox(sqlite_db):
    add_product(sqlite_db)
    app = create_app(load_settings(database_url=sqlite_db.url, bridge_secret="s"), db=sqlite_db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        for i, text in enumerate(["下单 A12 2", "下单 A12 1", "闲聊"]):
            body, headers = signed_bridge_post("s", {"msg_id": f"m{i}", "group_id": "g", "sender_id": "u", "text": text})
            await c.post("/bridge/messages", content=body, headers=headers)
        page = (await c.get("/metrics")).text
    assert 'tuanbot_messages_total{channel="bridge",outcome="ok"} 2.0' in page
    assert 'tuanbot_messages_total{channel="bridge",outcome="ignored"} 1.0' in page
    assert 'tuanbot_handle_seconds_count{channel="bridge"} 3.0' in page
    assert "tuanbot_orders_total 2.0" in page
    assert 'tuanbot_outbox_messages{status="pending"} 0.0' in page


def test_json_log_lines_carry_the_message_fields():
    record = logging.LogRecord("tuanbot.messages", logging.INFO, __file__, 1, "message handled", None, None)
    for k, v in {"msg_id": "m-1", "channel": "bridge", "group": "g1", "command": "buy", "outcome": "ok", "ms": 1.5}.items():
        setattr(record, k, v)
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "message handled"
    assert {k: line[k] for k in ("msg_id", "channel", "group", "command", "outcome", "ms")} == {
        "msg_id": "m-1", "channel": "bridge", "group": "g1", "command": "buy", "outcome": "ok", "ms": 1.5}
