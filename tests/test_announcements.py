"""What a group hears about a group buy without asking (settlement announcement, last-hour reminder) is in
the language the group buy was opened in, also when the scheduler says it."""
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import jobs
from helpers import add_product
from storage.tables import groupbuys, outbox

TZ = ZoneInfo("Asia/Shanghai")
OWNER = {"user": "boss", "role": "owner"}


def scheduled_texts(db, prefix):
    with db.read() as conn:
        rows = conn.execute(select(outbox.c.source, outbox.c.text).order_by(outbox.c.id)).all()
    return [text for source, text in rows if source.startswith(prefix)]


def test_a_group_buy_opened_in_english_is_reminded_and_announced_in_english(chat, db, clock):
    add_product(db)
    assert "Group buy #1 is open" in chat.send("groupbuy A12 3:150 5:120 until 2h", **OWNER)
    chat.send("join 1 2", user="amy")
    clock.advance(minutes=70)
    assert jobs.remind_deadlines(db, clock, quiet=None, tz=TZ) == 1
    [reminder] = scheduled_texts(db, "reminder:")
    assert reminder == 'Group buy #1 A12 潮流男鞋: 50 minutes left, 2 more people to ¥150.00. Send "join 1" to join.'
    clock.advance(hours=1)
    assert jobs.settle_due_groupbuys(db, clock) == 1
    [announced] = scheduled_texts(db, "groupbuy:")
    assert announced.startswith("Group buy #1 A12 潮流男鞋 did not succeed: 1 person, 2 pieces")


def test_a_group_buy_opened_in_chinese_is_reminded_and_announced_in_chinese(chat, db, clock):
    add_product(db)
    chat.send("开团 A12 1:150 截止 2h", **OWNER)
    chat.send("参团 1", user="amy")
    clock.advance(minutes=70)
    assert jobs.remind_deadlines(db, clock, quiet=None, tz=TZ) == 1
    assert scheduled_texts(db, "reminder:") == ["团购 #1 A12 潮流男鞋 还剩 50 分钟，已到最低价 ¥150.00。发送“参团 1”加入。"]
    clock.advance(hours=1)
    assert jobs.settle_due_groupbuys(db, clock) == 1
    [announced] = scheduled_texts(db, "groupbuy:")
    assert announced.startswith("团购 #1 A12 潮流男鞋 成团啦！1 人 1 件")
    with db.read() as conn:
        assert conn.execute(select(groupbuys.c.lang)).scalar_one() == "zh"
