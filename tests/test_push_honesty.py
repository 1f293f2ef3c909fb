"""推送 says what it will really do: weekly pushes, quiet hours holding a push until they end, and a group
with no push target; the same in GET /admin/outbox (held_until, last_error) and a log line."""
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.jobs import dispatch_outbox, enqueue_due_pushes
from bot.settings import load_settings
from catalog.groups import put_group
from handlers.pushes import weekly_words
from handlers.when import WhenError, parse_weekly, quiet_until
from helpers import ADMIN_AUTH, ADMIN_TOKEN, SHANGHAI, T0, Chat
from storage.tables import pushes

OWNER = {"user": "boss", "role": "owner"}
QUIET = (22, 8)


def with_target(db, group="g1"):
    with db.begin() as conn:
        put_group(conn, group, {"push_target": {"kind": "bridge", "url": "http://127.0.0.1:9/hook"}}, T0)


@pytest.mark.parametrize("text, day", [
    ("每周一 09:00", "mon"), ("每周二 09:00", "tue"), ("每周三 09:00", "wed"), ("每周四 09:00", "thu"),
    ("每周五 09:00", "fri"), ("每周六 09:00", "sat"), ("每周日 09:00", "sun"), ("每周天 09:00", "sun"),
    ("每星期三 09:00", "wed"), ("weekly mon 09:00", "mon"), ("WEEKLY Sunday 09:00", "sun"), ("weekly sat ０９：００", "sat"),
])
def test_weekly_forms(text, day):
    assert parse_weekly(text) == (day, 9, 0)


@pytest.mark.parametrize("text", ["每周八 09:00", "weekly xyz 09:00", "每周一 25:00"])
def test_bad_weekly_forms_get_a_sentence(text):
    with pytest.raises(WhenError):
        parse_weekly(text)


def test_quiet_until_is_the_end_of_the_quiet_hours_containing_the_moment():
    at_23 = T0.replace(hour=15)  # 23:00 Shanghai
    assert quiet_until(at_23, QUIET, SHANGHAI) == T0.replace(hour=0) + timedelta(days=1)  # 08:00 next day
    assert quiet_until(T0.replace(hour=22), QUIET, SHANGHAI) == T0.replace(hour=0) + timedelta(days=1)  # 06:00
    assert quiet_until(T0, QUIET, SHANGHAI) is None  # 10:00
    assert quiet_until(at_23, None, SHANGHAI) is None


def test_weekly_push_is_stored_as_the_admin_apis_cron_and_runs_on_that_day(db, clock):
    chat = Chat(db, clock, quiet=QUIET)
    with_target(db)
    reply = chat.send("推送 每周一 09:00 本周团购清单", **OWNER)  # T0 is Tuesday 2026-11-24
    assert reply == "已安排推送 #1：每周一 09:00 发送，下次 2026-11-30 09:00。"
    with db.read() as c:
        row = c.execute(select(pushes)).mappings().one()
    assert (row["kind"], row["cron"]) == ("cron", "0 9 * * mon")
    assert "#1 每周一 09:00（下次 2026-11-30 09:00）：本周团购清单" in chat.send("推送 列表", **OWNER)
    assert chat.send("push weekly sun 20:30 Weekend picks", **OWNER) == \
        "Push #2 scheduled: weekly Sun 20:30, next 2026-11-29 20:30."
    clock.now = T0.replace(day=29, hour=12, minute=30)  # Sunday 20:30 Shanghai: only the Sunday push
    assert enqueue_due_pushes(db, clock, tz=SHANGHAI) == 1
    clock.now = T0.replace(day=30, hour=1)  # Monday 09:00 Shanghai: the Monday one
    assert enqueue_due_pushes(db, clock, tz=SHANGHAI) == 1
    assert weekly_words("0 9 * * 1", "zh") == ""  # a number day stays a plain cron in the list


def test_a_push_inside_quiet_hours_says_when_it_really_goes_out(db, clock):
    chat = Chat(db, clock, quiet=QUIET)
    with_target(db)
    once = chat.send("推送 23:30 夜宵团开始", **OWNER)
    assert once == ("已安排推送 #1：2026-11-24 23:30 发送。"
                    "这个时间在免打扰时段（22:00–8:00）内，要等到 2026-11-25 08:00 才会发出。")
    daily = chat.send("push daily 07:00 Good morning", **OWNER)
    assert daily.endswith("That time is inside quiet hours (22:00–8:00), so it will each time go out at 08:00.")
    assert "免打扰" not in chat.send("推送 20:00 今晚上新", **OWNER)


def test_a_group_without_a_push_target_is_warned(chat):
    reply = chat.send("推送 2h 下午茶团购开始啦", **OWNER)
    first, warning = reply.splitlines()
    assert first == "已安排推送 #1：2026-11-24 12:00 发送。"
    assert warning.startswith("本群还没有推送通道：")
    assert chat.send("push 2h tea", **OWNER).splitlines()[1].startswith("This group has no push target yet:")


@pytest.mark.anyio
async def test_admin_outbox_shows_held_until_and_no_push_target_and_one_log_line(db, clock, caplog):
    import httpx
    settings = load_settings(database_url=db.url, admin_token=ADMIN_TOKEN, quiet_hours="22-8")
    app = create_app(settings, db=db, clock=clock)
    chat = Chat(db, clock, quiet=QUIET)
    chat.send("推送 1m 无处可去", **OWNER)  # g1 has no push target
    with_target(db, "g2")
    chat.send("推送 23:30 夜里排队", **OWNER, group="g2")
    clock.advance(minutes=1)
    enqueue_due_pushes(db, clock, tz=SHANGHAI)
    with caplog.at_level(logging.WARNING, logger="tuanbot.jobs"):
        dispatch_outbox(db, clock, secret=None, quiet=QUIET, tz=SHANGHAI)
        clock.advance(minutes=2)
        dispatch_outbox(db, clock, secret=None, quiet=QUIET, tz=SHANGHAI)  # looked at again: no second line
    held = [r for r in caplog.records if "no push target" in r.getMessage()]
    assert len(held) == 1 and held[0].group == "g1"
    clock.now = T0.replace(hour=15, minute=31)  # 23:31 Shanghai: g2's push is due and quiet hours hold it
    enqueue_due_pushes(db, clock, tz=SHANGHAI)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        rows = (await http.get("/admin/outbox", headers=ADMIN_AUTH)).json()
    by_group = {r["group_id"]: r for r in rows}
    assert by_group["g1"]["last_error"] == "no push target" and by_group["g1"]["attempts"] == 0
    assert by_group["g2"]["held_until"] == (T0 + timedelta(days=1)).replace(hour=0).isoformat()
    assert by_group["g2"]["last_error"] is None
