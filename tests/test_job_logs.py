"""Every delivery try, dead letter, settlement and reminder is one log line with its group and outcome
(JSON fields in json mode); SQLite and PostgreSQL."""
import json
import logging
from zoneinfo import ZoneInfo

import httpx
import respx

from bot import jobs
from bot.logs import JsonFormatter
from helpers import Chat, add_product

TZ = ZoneInfo("Asia/Shanghai")
HOOK = "http://127.0.0.1:9/hook"


def lines(caplog, msg):
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.getMessage() == msg]


def put_target(db, clock, group="g1"):
    from catalog.groups import put_group
    with db.begin() as conn:
        put_group(conn, group, {"push_target": {"kind": "bridge", "url": HOOK}}, clock())


def test_settlement_reminder_and_each_delivery_try_log_one_line(db, clock, caplog):
    caplog.set_level(logging.INFO, logger="tuanbot")
    add_product(db)
    put_target(db, clock)
    chat = Chat(db, clock)
    chat.send("开团 A12 2:150 截止 2h", user="boss", role="owner")
    chat.send("参团 1", user="a")
    clock.advance(minutes=61)
    assert jobs.remind_deadlines(db, clock, quiet=None, tz=TZ) == 1
    [reminder] = lines(caplog, "deadline reminder queued")
    assert (reminder["group"], reminder["groupbuy"], reminder["outcome"]) == ("g1", 1, "queued")
    clock.advance(hours=1)
    assert jobs.settle_due_groupbuys(db, clock) == 1
    [settled] = lines(caplog, "group buy settled")
    assert (settled["group"], settled["groupbuy"], settled["outcome"]) == ("g1", 1, "failed")
    assert len(settled["delivery_id"]) == 32

    with respx.mock(assert_all_called=False) as router:
        router.post(HOOK).mock(return_value=httpx.Response(500))
        jobs.dispatch_outbox(db, clock, secret="s", quiet=None, tz=TZ)
        tries = lines(caplog, "delivery")
        assert tries and {t["outcome"] for t in tries} == {"retry"}
        assert all(t["group"] == "g1" and t["attempt"] == 1 and t["delivery_id"] and t["error"] for t in tries)
        router.post(HOOK).mock(return_value=httpx.Response(200))
        clock.advance(minutes=5)
        caplog.clear()
        jobs.dispatch_outbox(db, clock, secret="s", quiet=None, tz=TZ)
    sent = lines(caplog, "delivery")
    assert sent and {(t["outcome"], t["attempt"]) for t in sent} == {("sent", 2)}
    assert {t["delivery_id"] for t in sent} == {t["delivery_id"] for t in tries}


def test_a_dead_letter_logs_one_error_line(db, clock, caplog):
    from storage.outbox import enqueue
    caplog.set_level(logging.INFO, logger="tuanbot")
    put_target(db, clock)
    with db.begin() as conn:
        delivery_id = enqueue(conn, "g1", "hello", clock())
    with respx.mock() as router:
        router.post(HOOK).mock(return_value=httpx.Response(500))
        for _ in range(200):
            jobs.dispatch_outbox(db, clock, secret="s", quiet=None, tz=TZ)
            if lines(caplog, "delivery") and lines(caplog, "delivery")[-1]["outcome"] == "dead":
                break
            clock.advance(hours=1)
    tries = lines(caplog, "delivery")
    assert tries[-1]["outcome"] == "dead" and tries[-1]["level"] == "error"
    assert [t["outcome"] for t in tries[:-1]] == ["retry"] * (len(tries) - 1)
    assert [t["attempt"] for t in tries] == list(range(1, len(tries) + 1))
    assert {t["delivery_id"] for t in tries} == {delivery_id}
