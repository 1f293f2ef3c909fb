"""The bridge endpoint is served by a plain Starlette route (cheaper per message) and documented by a
FastAPI route after it that never wins the match: both must be the same function, or editing the
documented one would silently change nothing."""
import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match, Route

from bot.app import create_app
from bot.settings import load_settings
from helpers import signed_bridge_post

pytestmark = pytest.mark.anyio


def _post_scope(path: str) -> dict:
    return {"type": "http", "method": "POST", "path": path, "root_path": "", "headers": [], "query_string": b""}


def _routes_for(app, path: str):
    return [r for r in app.routes if isinstance(r, Route) and r.path == path]


def test_the_plain_route_serves_bridge_messages_and_runs_the_documented_function(sqlite_db):
    app = create_app(load_settings(database_url=sqlite_db.url, bridge_secret="s"), db=sqlite_db)
    winner = next(r for r in app.routes if r.matches(_post_scope("/bridge/messages"))[0] == Match.FULL)
    assert type(winner) is Route  # not the FastAPI route
    [documented] = [r for r in _routes_for(app, "/bridge/messages") if isinstance(r, APIRoute)]
    assert winner.endpoint is documented.endpoint


async def test_the_bridge_answers_through_it_and_openapi_documents_it(sqlite_db):
    app = create_app(load_settings(database_url=sqlite_db.url, bridge_secret="s"), db=sqlite_db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        body, headers = signed_bridge_post("s", {"msg_id": "m1", "group_id": "g1", "sender_id": "u1", "text": "帮助"})
        r = await client.post("/bridge/messages", content=body, headers=headers)
        assert r.status_code == 200 and "可用命令" in r.json()["replies"][0]["text"]
        spec = (await client.get("/openapi.json")).json()
    post = spec["paths"]["/bridge/messages"]["post"]
    schemas = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert any("msg_id" in s.get("properties", {}) for s in schemas)
