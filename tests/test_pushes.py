"""推送/push commands and the admin pushes, content and outbox endpoints."""
import re
from datetime import timedelta

import pytest

from helpers import T0

AUTH = {"Authorization": "Bearer tok"}
CJK = re.compile(r"[\u3400-\u9fff]")


def test_members_cannot_schedule_pushes(chat):
    assert "只有群主或管理员" in chat.send("推送 1h 大家好")
    assert "Only the group owner" in chat.send("push 1h hello")


def test_push_create_list_delete_in_chinese(chat):
    reply = chat.send("推送 明天 20:00 今晚上新\n记得来看", role="owner")
    assert reply.splitlines()[0] == "已安排推送 #1：2026-11-25 20:00 发送。"
    assert "每天 09:00" in chat.send("推送 每天 09:00 早上好", role="admin")
    listed = chat.send("推送 列表", role="owner")
    assert "#2 每天 09:00（下次 2026-11-25 09:00）：早上好" in listed
    assert "#1 2026-11-25 20:00：今晚上新 记得来看" in listed
    assert chat.send("推送 删除 1", role="owner") == "已删除推送 #1。"
    assert "没有推送 #1" in chat.send("推送 删除 1", role="owner")
    assert "#1" not in chat.send("推送 列表", role="owner")
    assert "没有推送 #2" in chat.send("推送 删除 2", role="owner", group="other")  # another group's push


def test_push_in_english_has_no_chinese(chat):
    for text in ("push 2h Flash sale tonight", "push daily 09:00 Morning", "push list", "push delete 1",
                 "push delete 9", "push 25:00 x", "push", "push 2h", "push yesterday hi"):
        reply = chat.send(text, role="owner")
        assert reply and not CJK.search(reply), (text, reply)


@pytest.mark.parametrize("text, expected", [
    ("推送", "格式：推送"),
    ("推送 大家好", "格式：推送"),
    ("推送 2h", "写上推送内容"),
    ("推送 25:00 你好", "没有这个时刻"),
    ("推送 2020-01-01 10:00 你好", "已经过去"),
    ("推送 删除 abc", "不是推送编号"),
    ("推送 每天 24:00 你好", "没有这个时刻"),
])
def test_bad_push_commands_get_one_sentence_and_change_nothing(chat, text, expected):
    assert expected in chat.send(text, role="owner")
    assert "还没有定时推送" in chat.send("推送 列表", role="owner")


def test_the_text_keeps_its_spacing_after_the_when(chat, db):
    from catalog.pushes import list_pushes
    chat.send("推送 30m 第一行\n  第二行", role="owner")
    with db.read() as conn:
        assert list_pushes(conn, "g1")[0].text == "第一行\n  第二行"


# ---- admin API -------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_admin_push_at_and_cron_list_delete(http):
    at = (T0 + timedelta(hours=2)).isoformat()
    r = await http.post("/admin/groups/g9/pushes", json={"text": "上新", "at": at}, headers=AUTH)
    assert r.status_code == 201 and isinstance(r.json()["id"], int)
    one = r.json()
    r = await http.post("/admin/groups/g9/pushes", json={"text": "早安", "cron": "0 9 * * *"}, headers=AUTH)
    assert r.status_code == 201
    daily = r.json()
    assert daily["next_run_at"] == "2026-11-25T01:00:00+00:00"  # 09:00 Shanghai
    listed = (await http.get("/admin/groups/g9/pushes", headers=AUTH)).json()
    assert [p["id"] for p in listed] == [one["id"], daily["id"]]
    assert (await http.delete(f"/admin/groups/g9/pushes/{one['id']}", headers=AUTH)).status_code == 204
    assert (await http.delete(f"/admin/groups/g9/pushes/{one['id']}", headers=AUTH)).status_code == 404
    assert (await http.delete(f"/admin/groups/other/pushes/{daily['id']}", headers=AUTH)).status_code == 404
    assert [p["id"] for p in (await http.get("/admin/groups/g9/pushes", headers=AUTH)).json()] == [daily["id"]]


@pytest.mark.anyio
@pytest.mark.parametrize("body, field", [
    ({"text": "x"}, "at"),
    ({"text": "x", "at": "2026-12-01T20:00:00+08:00", "cron": "0 9 * * *"}, "cron"),
    ({"text": "x", "at": "tomorrow"}, "at"),
    ({"text": "x", "cron": "61 9 * * *"}, "cron"),
    ({"text": "x", "cron": "every day"}, "cron"),
    ({"text": "", "cron": "0 9 * * *"}, "text"),
    ({"text": "   ", "cron": "0 9 * * *"}, "text"),
    ({"cron": "0 9 * * *"}, "text"),
])
async def test_admin_push_validation_is_422_naming_the_field(http, body, field):
    r = await http.post("/admin/groups/g9/pushes", json=body, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["body", field]
    assert (await http.get("/admin/groups/g9/pushes", headers=AUTH)).json() == []


@pytest.mark.anyio
@pytest.mark.parametrize("body, field", [
    ({"text": "x", "at": "2020-01-01T00:00:00+00:00"}, "at"),  # in the past
    ({"text": "x", "at": "2027-02-30T09:00:00"}, "at"),  # no such day
    ({"text": "x", "cron": "0 9 * * 5-3"}, "cron"),  # a range written backwards
    ({"text": "x", "cron": "0 0 30 2 *"}, "cron"),  # never fires
])
async def test_admin_push_well_formed_but_unusable_is_409_naming_the_field(http, body, field):
    r = await http.post("/admin/groups/g9/pushes", json=body, headers=AUTH)
    assert r.status_code == 409
    assert r.json()["detail"][0]["loc"] == ["body", field]
    assert (await http.get("/admin/groups/g9/pushes", headers=AUTH)).json() == []


@pytest.mark.anyio
async def test_admin_at_without_offset_is_local_time(http):
    r = await http.post("/admin/groups/g9/pushes", json={"text": "x", "at": "2026-11-24T20:00:00"}, headers=AUTH)
    assert r.status_code == 201 and r.json()["next_run_at"] == "2026-11-24T12:00:00+00:00"


@pytest.mark.anyio
async def test_admin_content_queue_and_outbox_listing(http, db, clock):
    from bot import jobs
    from zoneinfo import ZoneInfo

    for text in ("第一条", "第二条"):
        r = await http.post("/admin/groups/g9/content", json={"text": text}, headers=AUTH)
        assert r.status_code == 201 and r.json()["used_at"] is None
    assert (await http.post("/admin/groups/g9/content", json={"text": ""}, headers=AUTH)).status_code == 422
    r = await http.put("/admin/groups/g9", json={"nudge_after_hours": 1}, headers=AUTH)
    assert r.status_code == 200
    clock.advance(hours=1)
    assert jobs.nudge_quiet_groups(db, clock, quiet=None, tz=ZoneInfo("Asia/Shanghai")) == 1
    items = (await http.get("/admin/groups/g9/content", headers=AUTH)).json()
    assert [i["used_at"] is not None for i in items] == [True, False]
    rows = (await http.get("/admin/outbox?status=pending", headers=AUTH)).json()
    assert len(rows) == 1
    assert {"id", "group_id", "delivery_id", "text", "status", "attempts", "last_error"} <= set(rows[0])
    assert (rows[0]["group_id"], rows[0]["text"], rows[0]["status"], rows[0]["attempts"]) == ("g9", "第一条", "pending", 0)
    assert (await http.get("/admin/outbox?status=sent", headers=AUTH)).json() == []
    assert (await http.get("/admin/outbox?status=bogus", headers=AUTH)).status_code == 422
