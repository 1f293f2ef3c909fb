"""The admin API: bearer auth, products, groups, orders."""
import httpx
import pytest

from bot.app import create_app
from bot.settings import load_settings
from helpers import SNEAKERS, Chat

pytestmark = pytest.mark.anyio
AUTH = {"Authorization": "Bearer tok"}


async def test_admin_is_404_without_a_token_setting(sqlite_db):
    app = create_app(load_settings(database_url=sqlite_db.url), db=sqlite_db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        assert (await client.get("/admin/products/A12", headers=AUTH)).status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "tok"}])
async def test_wrong_or_missing_bearer_is_401(http, headers):
    assert (await http.get("/admin/orders", headers=headers)).status_code == 401


async def test_product_create_read_patch(http):
    r = await http.post("/admin/products", json=SNEAKERS, headers=AUTH)
    assert r.status_code == 201 and r.json()["code"] == "A12"
    assert (await http.post("/admin/products", json={**SNEAKERS, "code": "a12"}, headers=AUTH)).status_code == 409
    got = (await http.get("/admin/products/a12", headers=AUTH)).json()
    assert got == SNEAKERS
    r = await http.patch("/admin/products/A12", json={"stock": 10, "price_fen": 19000}, headers=AUTH)
    assert r.status_code == 200 and (r.json()["stock"], r.json()["price_fen"]) == (10, 19000)
    assert (await http.get("/admin/products/ZZ9", headers=AUTH)).status_code == 404
    assert (await http.patch("/admin/products/ZZ9", json={"stock": 1}, headers=AUTH)).status_code == 404


@pytest.mark.parametrize("field, value", [
    ("price_fen", -5), ("price_fen", "199"), ("stock", -1), ("code", "A-12"), ("name", ""), ("active", "yes"),
    ("tiers", [{"min_qty": 2, "price_fen": 99999}]), ("colour", "red"),
])
async def test_bad_product_fields_are_422_naming_the_field(http, field, value):
    r = await http.post("/admin/products", json={**SNEAKERS, field: value}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", field]
    assert (await http.get("/admin/products/A12", headers=AUTH)).status_code == 404


async def test_patch_cannot_raise_a_tier_above_the_new_price(http):
    await http.post("/admin/products", json=SNEAKERS, headers=AUTH)
    r = await http.patch("/admin/products/A12", json={"price_fen": 15000}, headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "tiers"]


async def test_group_put_and_get_with_counts(http, db, clock):
    body = {"name": "潮鞋团", "owners": ["boss"], "push_target": {"kind": "bridge", "url": "http://127.0.0.1:9/hook"},
            "nudge_after_hours": 24}
    r = await http.put("/admin/groups/g1", json=body, headers=AUTH)
    assert r.status_code == 200
    Chat(db, clock).send("大家好", group="g1", user="a")
    got = (await http.get("/admin/groups/g1", headers=AUTH)).json()
    assert {k: got[k] for k in body} == body
    assert got["counts"]["messages"] == 1 and got["counts"]["members"] == 1
    bad = await http.put("/admin/groups/g1", json={**body, "push_target": {"kind": "fax", "url": "x"}}, headers=AUTH)
    assert bad.status_code == 422 and "push_target" in bad.json()["detail"][0]["loc"]
    assert (await http.get("/admin/groups/nope", headers=AUTH)).status_code == 404


async def test_group_owners_may_use_owner_commands(http, db, clock):
    await http.put("/admin/groups/g1", json={"owners": ["boss"]}, headers=AUTH)
    chat = Chat(db, clock)
    assert "开团" in chat.send("帮助", user="boss") and "开团" not in chat.send("帮助", user="member")


async def test_orders_list_with_filters(http, db, clock):
    await http.post("/admin/products", json=SNEAKERS, headers=AUTH)
    chat = Chat(db, clock)
    chat.send("下单 A12 2", user="alice")
    chat.send("下单 A12 1", user="bob", group="g2")
    chat.send("取消 D2", user="bob", group="g2")
    everything = (await http.get("/admin/orders", headers=AUTH)).json()
    assert [o["order_no"] for o in everything] == ["D2", "D1"]
    d1 = everything[1]
    assert d1 == {"order_no": "D1", "group_id": "g1", "user_id": "alice", "user_name": "alice", "product_code": "A12", "quantity": 2,
                  "unit_price_fen": 18900, "total_fen": 37800, "status": "pending", "created_at": d1["created_at"]}
    assert [o["order_no"] for o in (await http.get("/admin/orders?status=cancelled", headers=AUTH)).json()] == ["D2"]
    assert [o["order_no"] for o in (await http.get("/admin/orders?group_id=g1&user_id=alice", headers=AUTH)).json()] == ["D1"]
    assert (await http.get("/admin/orders?status=shipped", headers=AUTH)).status_code == 422
