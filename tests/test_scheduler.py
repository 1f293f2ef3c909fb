"""The scheduler's jobs with a fixed clock: due pushes enqueued once, quiet hours, nudges, deadline
reminders, settlement; and the Scheduler itself ticking them in the background."""
import threading
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import jobs
from bot.scheduler import Scheduler
from bot.settings import load_settings
from catalog.content import add_item
from catalog.groups import put_group
from helpers import T0, add_product
from receiver import Receiver
from storage.tables import groupbuys, outbox

TZ = ZoneInfo("Asia/Shanghai")


def outbox_rows(db):
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]


def in_threads(n, fn):
    barrier = threading.Barrier(n)
    results = []

    def run():
        barrier.wait()
        results.append(fn())

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_one_off_push_is_enqueued_once_when_due(chat, db, clock):
    assert "#1" in chat.send("推送 1h 今晚 8 点开团", role="owner")
    assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 0
    clock.advance(hours=1)
    assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 1
    assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 0
    clock.advance(days=2)
    assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 0
    [row] = outbox_rows(db)
    assert (row["group_id"], row["text"], row["source"]) == ("g1", "今晚 8 点开团", "push:1")
    assert "没有定时推送" in chat.send("推送 列表", role="owner")


def test_due_pushes_from_two_threads_at_once_go_out_once(chat, db, clock):
    for i in range(10):
        chat.send(f"推送 30m 第{i}条", role="owner", group=f"g{i % 3}")
    clock.advance(minutes=30)
    assert sum(in_threads(4, lambda: jobs.enqueue_due_pushes(db, clock, tz=TZ))) == 10
    assert sorted(r["text"] for r in outbox_rows(db)) == sorted(f"第{i}条" for i in range(10))


def test_a_daily_push_runs_every_day_once(chat, db, clock):
    assert "下次 2026-11-25 09:00" in chat.send("推送 每天 09:00 早上好", role="owner")
    clock.now = T0.replace(hour=1)  # 2026-11-25 09:00 Shanghai is 01:00 UTC
    clock.advance(days=1)
    assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 1
    clock.advance(hours=23, minutes=59)
    assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 0
    clock.advance(minutes=1)
    assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 1
    assert [r["text"] for r in outbox_rows(db)] == ["早上好", "早上好"]
    assert "下次 2026-11-27 09:00" in chat.send("推送 列表", role="owner")


def test_a_daily_push_missed_for_days_is_sent_once_not_once_per_missed_day(chat, db, clock):
    chat.send("推送 每天 09:00 早上好", role="owner")
    clock.advance(days=5)
    assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 1
    assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 0


def test_a_push_due_in_quiet_hours_is_sent_when_they_end(chat, db, clock):
    receiver = Receiver()
    try:
        with db.begin() as conn:
            put_group(conn, "g1", {"push_target": {"kind": "bridge", "url": receiver.url()}}, T0)
        chat.send("推送 每天 23:00 晚安", role="owner")
        clock.now = T0.replace(hour=15)  # 23:00 Shanghai
        quiet = (22, 8)
        assert jobs.enqueue_due_pushes(db, clock, tz=TZ) == 1
        assert jobs.dispatch_outbox(db, clock, secret="k", quiet=quiet, tz=TZ).quiet
        clock.advance(hours=8, minutes=59)
        jobs.dispatch_outbox(db, clock, secret="k", quiet=quiet, tz=TZ)
        assert not receiver.got
        clock.advance(minutes=1)  # 08:00
        assert jobs.dispatch_outbox(db, clock, secret="k", quiet=quiet, tz=TZ).sent == 1
        assert receiver.got[0]["body"]["text"] == "晚安"
    finally:
        receiver.close()


# ---- nudges ------------------------------------------------------------------------------------


def nudge(db, clock, quiet=None):
    return jobs.nudge_quiet_groups(db, clock, quiet=quiet, tz=TZ)


def setup_nudging(db, group, hours=24, items=("第一条", "第二条")):
    with db.begin() as conn:
        put_group(conn, group, {"nudge_after_hours": hours}, T0)
        for text in items:
            add_item(conn, group, text, T0)


def test_a_quiet_group_gets_its_next_content_item_an_active_one_does_not(chat, db, clock):
    setup_nudging(db, "quiet")
    setup_nudging(db, "busy")
    clock.advance(hours=23)
    chat.send("今天天气不错", group="busy")  # talk counts as activity
    assert nudge(db, clock) == 0
    clock.advance(hours=1)
    assert nudge(db, clock) == 1
    assert [(r["group_id"], r["text"]) for r in outbox_rows(db)] == [("quiet", "第一条")]
    assert nudge(db, clock) == 0  # not again until quiet for another full period
    clock.advance(hours=23)  # busy has been quiet for 24 hours now; quiet was nudged 23 hours ago
    assert nudge(db, clock) == 1
    assert outbox_rows(db)[-1]["group_id"] == "busy"
    clock.advance(hours=1)
    assert nudge(db, clock) == 1
    assert [(r["group_id"], r["text"]) for r in outbox_rows(db)] == [
        ("quiet", "第一条"), ("busy", "第一条"), ("quiet", "第二条")]
    clock.advance(days=2)
    assert nudge(db, clock) == 1  # busy gets its second item; quiet's queue is used up: nothing sent to it
    assert [r["group_id"] for r in outbox_rows(db)] == ["quiet", "busy", "quiet", "busy"]


def test_nudges_wait_out_quiet_hours_and_two_threads_nudge_once(db, clock):
    setup_nudging(db, "g1", hours=1)
    clock.now = T0.replace(hour=15)  # 23:00 Shanghai
    assert nudge(db, clock, quiet=(22, 8)) == 0
    clock.advance(hours=9)  # 08:00
    assert sum(in_threads(4, lambda: nudge(db, clock, quiet=(22, 8)))) == 1
    assert [r["text"] for r in outbox_rows(db)] == ["第一条"]


def test_groups_without_nudging_or_content_get_nothing(db, clock):
    setup_nudging(db, "empty", items=())
    with db.begin() as conn:
        put_group(conn, "off", {"nudge_after_hours": None}, T0)
        add_item(conn, "off", "never", T0)
    clock.advance(days=3)
    assert nudge(db, clock) == 0 and outbox_rows(db) == []


# ---- group buys --------------------------------------------------------------------------------


def open_groupbuy(chat, db, until="90m"):
    add_product(db)
    chat.send(f"开团 A12 3:150 5:120 截止 {until}", role="owner", user="boss")
    with db.read() as conn:
        return conn.execute(select(groupbuys.c.id).order_by(groupbuys.c.id.desc())).scalar_one()


def test_a_deadline_reminder_goes_out_once_an_hour_before(chat, db, clock):
    gb = open_groupbuy(chat, db)
    chat.send(f"参团 {gb}", user="u1")
    assert jobs.remind_deadlines(db, clock, quiet=None, tz=TZ) == 0  # 90 minutes left
    clock.advance(minutes=30)
    assert sum(in_threads(3, lambda: jobs.remind_deadlines(db, clock, quiet=None, tz=TZ))) == 1
    clock.advance(minutes=10)
    assert jobs.remind_deadlines(db, clock, quiet=None, tz=TZ) == 0
    [row] = [r for r in outbox_rows(db) if r["source"].startswith("reminder")]
    assert "还剩 1 小时" in row["text"] and "再 2 人降到 ¥150.00" in row["text"]
    assert row["group_id"] == "g1"


def test_no_reminder_when_the_deadline_was_already_within_the_hour_at_opening(chat, db, clock):
    gb = open_groupbuy(chat, db, until="50m")
    chat.send(f"参团 {gb}", user="u1")
    assert jobs.remind_deadlines(db, clock, quiet=None, tz=TZ) == 0
    clock.advance(minutes=30)
    assert jobs.remind_deadlines(db, clock, quiet=None, tz=TZ) == 0
    assert not [r for r in outbox_rows(db) if r["source"].startswith("reminder")]


def test_groupbuys_and_the_reminder_count_the_minutes_left_the_same_way(chat, db, clock):
    open_groupbuy(chat, db)  # 90 minutes
    clock.advance(minutes=30, seconds=30)  # 59 minutes 30 seconds left
    assert jobs.remind_deadlines(db, clock, quiet=None, tz=TZ) == 1
    [row] = [r for r in outbox_rows(db) if r["source"].startswith("reminder")]
    assert "还剩 59 分钟" in row["text"]
    assert "还剩 59 分钟" in chat.send("团购")


def test_a_reminder_held_by_quiet_hours_is_withdrawn_when_its_group_buy_closes(chat, db, clock):
    receiver = Receiver()
    try:
        with db.begin() as conn:
            put_group(conn, "g1", {"push_target": {"kind": "bridge", "url": receiver.url()}}, T0)
        gb = open_groupbuy(chat, db, until="2h")
        clock.advance(minutes=70)
        assert jobs.remind_deadlines(db, clock, quiet=None, tz=TZ) == 1
        # Quiet hours around the clock: the dispatcher holds everything, the deadline passes.
        always = (clock().astimezone(TZ).hour, clock().astimezone(TZ).hour)
        assert jobs.dispatch_outbox(db, clock, secret="s", quiet=always, tz=TZ).quiet
        clock.advance(hours=1)
        assert jobs.settle_due_groupbuys(db, clock) == 1
        by_source = {r["source"]: r for r in outbox_rows(db)}
        reminder = by_source[f"reminder:{gb}"]
        assert (reminder["status"], reminder["attempts"]) == ("dead", 0)
        assert reminder["last_error"] == f"group buy #{gb} closed before the reminder went out"
        jobs.dispatch_outbox(db, clock, secret="s", quiet=None, tz=TZ)  # morning
        texts = [r["body"]["text"] for r in receiver.got]
        assert any(f"#{gb}" in t for t in texts)  # the result went out
        assert not any("还剩" in t for t in texts)  # the stale reminder did not
        assert {r["status"] for r in outbox_rows(db)} == {"sent", "dead"}
    finally:
        receiver.close()


def test_a_group_buy_past_its_deadline_settles_once(chat, db, clock):
    gb = open_groupbuy(chat, db, until="2h")
    for u in ("u1", "u2", "u3"):
        chat.send(f"参团 {gb}", user=u)
    assert jobs.settle_due_groupbuys(db, clock) == 0
    clock.advance(hours=2)
    assert sum(in_threads(3, lambda: jobs.settle_due_groupbuys(db, clock))) == 1
    assert jobs.settle_due_groupbuys(db, clock) == 0
    with db.read() as conn:
        assert conn.execute(select(groupbuys.c.status).where(groupbuys.c.id == gb)).scalar_one() == "succeeded"
    [row] = [r for r in outbox_rows(db) if r["source"] == f"groupbuy:{gb}"]
    assert "¥150.00" in row["text"] and row["group_id"] == "g1"


# ---- the Scheduler -------------------------------------------------------------------------------


def test_the_scheduler_ticks_the_jobs_in_the_background(db, chat):
    receiver = Receiver()
    try:
        settings = load_settings(database_url=db.url, bridge_secret="k", quiet_hours="", scheduler_tick_seconds=0.05)
        with db.begin() as conn:
            put_group(conn, "g1", {"push_target": {"kind": "bridge", "url": receiver.url()}}, T0)
        chat.send("推送 1m 你好", role="owner")
        clock = chat.clock
        clock.advance(minutes=1)
        scheduler = Scheduler(settings, db, clock=clock)
        scheduler.start()
        try:
            assert receiver.arrived.wait(20), "the scheduler did not deliver the due push"
        finally:
            scheduler.shutdown()
        assert receiver.got[0]["body"]["text"] == "你好"
        assert [r["status"] for r in outbox_rows(db)] == ["sent"]
    finally:
        receiver.close()
