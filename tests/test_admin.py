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
    assert got == {**SNEAKERS, "variants": []}
    r = await http.patch("/admin/products/A12", json={"stock": 10, "price_fen": 19000}, headers=AUTH)
    assert r.status_code == 200 and (r.json()["stock"], r.json()["price_fen"]) == (10, 19000)
    assert (await http.get("/admin/products/ZZ9", headers=AUTH)).status_code == 404
    assert (await http.patch("/admin/products/ZZ9", json={"stock": 1}, headers=AUTH)).status_code == 404


@pytest.mark.parametrize("field, value", [
    ("price_fen", -5), ("price_fen", "199"), ("stock", -1), ("code", "A-12"), ("name", ""), ("active", "yes"),
    ("tiers", [{"min_qty": 1, "price_fen": 100}]), ("colour", "red"), ("name", None), ("stock", 1.5),
])
async def test_bad_product_fields_are_422_naming_the_field(http, field, value):
    r = await http.post("/admin/products", json={**SNEAKERS, field: value}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["body", field]
    assert (await http.get("/admin/products/A12", headers=AUTH)).status_code == 404


@pytest.mark.parametrize("tiers", [
    [{"min_qty": 2, "price_fen": 99999}],  # not below the price
    [{"min_qty": 5, "price_fen": 18900}, {"min_qty": 2, "price_fen": 16900}],  # quantities not rising
    [{"min_qty": 2, "price_fen": 16900}, {"min_qty": 5, "price_fen": 18900}],  # prices not falling
])
async def test_a_well_formed_ladder_that_does_not_fit_the_price_is_409_naming_tiers(http, tiers):
    r = await http.post("/admin/products", json={**SNEAKERS, "tiers": tiers}, headers=AUTH)
    assert r.status_code == 409 and r.json()["detail"][0]["loc"] == ["body", "tiers"]
    assert (await http.get("/admin/products/A12", headers=AUTH)).status_code == 404


async def test_patch_cannot_raise_a_tier_above_the_new_price(http):
    await http.post("/admin/products", json=SNEAKERS, headers=AUTH)
    r = await http.patch("/admin/products/A12", json={"price_fen": 15000}, headers=AUTH)
    assert r.status_code == 409 and r.json()["detail"][0]["loc"] == ["body", "tiers"]
    assert (await http.get("/admin/products/A12", headers=AUTH)).json()["price_fen"] == 19900


async def test_product_patch_changes_only_the_fields_given(http):
    await http.post("/admin/products", json=SNEAKERS, headers=AUTH)
    r = await http.patch("/admin/products/A12", json={"name": "新鞋", "market_price_fen": None}, headers=AUTH)
    assert r.status_code == 200
    assert r.json() == {**SNEAKERS, "name": "新鞋", "market_price_fen": None, "variants": []}
    assert (await http.patch("/admin/products/A12", json={"stock": None}, headers=AUTH)).status_code == 422
    assert (await http.patch("/admin/products/A12", json={"code": "B1"}, headers=AUTH)).status_code == 409


async def test_products_list_filters_by_word_and_active_and_pages_by_code(http):
    for code, name, active in [("C3", "雨伞", True), ("A12", "潮流男鞋", True), ("B7", "男鞋旧款", False)]:
        body = {"code": code, "name": name, "price_fen": 1000, "stock": 5, "active": active}
        assert (await http.post("/admin/products", json=body, headers=AUTH)).status_code == 201

    async def codes(query):
        r = await http.get(f"/admin/products{query}", headers=AUTH)
        assert r.status_code == 200
        return [p["code"] for p in r.json()]

    assert await codes("") == ["A12", "B7", "C3"]
    assert await codes("?q=男鞋") == ["A12", "B7"]
    assert await codes("?q=男鞋&active=true") == ["A12"]
    assert await codes("?active=false") == ["B7"]
    assert await codes("?limit=1&offset=1") == ["B7"]
    assert await codes("?q=100%25") == []  # LIKE wildcards are literal
    full = (await http.get("/admin/products?q=c3", headers=AUTH)).json()
    assert full == [{"code": "C3", "name": "雨伞", "description": "", "category": "", "price_fen": 1000,
                     "market_price_fen": None, "stock": 5, "active": True, "tiers": [], "variants": []}]


@pytest.mark.parametrize("query", [
    "/admin/groupbuys?offset=422710861959794379624284160", "/admin/orders?offset=-1", "/admin/orders?limit=0",
    "/admin/outbox?limit=1001", "/admin/products?offset=1000000001", "/admin/groupbuys/99999999999999999999",
    "/admin/stats?days=100000000000000000000", "/admin/groups/g1/members?offset=10000000000",
])
async def test_integers_out_of_range_are_422_naming_the_parameter(http, query):
    r = await http.get(query, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][0] in ("query", "path")


async def test_push_id_out_of_range_is_422(http):
    r = await http.delete("/admin/groups/g1/pushes/99999999999999999999999", headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "push_id"]


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


async def test_group_patch_changes_only_the_fields_given_and_put_replaces_all(http):
    body = {"name": "潮鞋团", "owners": ["boss"], "push_target": {"kind": "bridge", "url": "http://127.0.0.1:9/hook"},
            "nudge_after_hours": 24}
    assert (await http.patch("/admin/groups/g1", json={"name": "x"}, headers=AUTH)).status_code == 404
    await http.put("/admin/groups/g1", json=body, headers=AUTH)
    r = await http.patch("/admin/groups/g1", json={"nudge_after_hours": 48}, headers=AUTH)
    assert r.status_code == 200
    got = (await http.get("/admin/groups/g1", headers=AUTH)).json()
    assert {k: got[k] for k in body} == {**body, "nudge_after_hours": 48}
    r = await http.patch("/admin/groups/g1", json={"push_target": None, "owners": ["a", "b"]}, headers=AUTH)
    assert {k: r.json()[k] for k in body} == {**body, "nudge_after_hours": 48, "push_target": None, "owners": ["a", "b"]}
    bad = await http.patch("/admin/groups/g1", json={"owners": None}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][:2] == ["body", "owners"]
    # PUT is a full replace: what it leaves out goes back to its default.
    r = await http.put("/admin/groups/g1", json={"name": "新名"}, headers=AUTH)
    assert {k: r.json()[k] for k in body} == {"name": "新名", "owners": [], "push_target": None, "nudge_after_hours": None}


async def test_put_and_patch_say_what_they_do_in_the_openapi(http):
    spec = (await http.get("/openapi.json")).json()
    group = spec["paths"]["/admin/groups/{group_id}"]
    assert "replaces ALL" in group["put"]["description"] and "only the fields given" in group["patch"]["description"]
    for method in ("put", "patch", "get"):
        assert {"401", "404", "413", "422"} <= set(group[method]["responses"])
    assert {"401", "404", "409", "413", "422"} <= set(spec["paths"]["/admin/products"]["post"]["responses"])
    body = spec["paths"]["/admin/products"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ProductIn"}


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
    assert d1 == {"order_no": "D1", "group_id": "g1", "user_id": "alice", "product_code": "A12", "quantity": 2,
                  "unit_price_fen": 18900, "total_fen": 37800, "status": "pending", "created_at": d1["created_at"],
                  "join_no": None, "pickup_point": None, "collected_at": None, "user_name": "alice", "variant": ""}
    assert [o["order_no"] for o in (await http.get("/admin/orders?status=cancelled", headers=AUTH)).json()] == ["D2"]
    assert [o["order_no"] for o in (await http.get("/admin/orders?group_id=g1&user_id=alice", headers=AUTH)).json()] == ["D1"]
    assert (await http.get("/admin/orders?status=shipped", headers=AUTH)).status_code == 422


async def test_a_wrong_method_is_405_listing_every_method_of_the_path(http):
    r = await http.delete("/admin/groups/g1", headers=AUTH)
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "PUT", "PATCH"}


async def test_a_body_that_is_not_json_is_a_documented_400(http):
    r = await http.post("/admin/products", content=b"\xff\xfe{", headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400
    spec = (await http.get("/openapi.json")).json()
    assert "400" in spec["paths"]["/admin/products"]["post"]["responses"]
