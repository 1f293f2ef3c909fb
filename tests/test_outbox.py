"""The outbox dispatcher: signed deliveries, retries with backoff, dead letters, per-target rate, leases,
quiet hours, groups without a target; against a real local HTTP receiver, on SQLite and PostgreSQL."""
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.channels.bridge import sign
from bot.jobs import LEASE, dispatch_outbox
from catalog.groups import put_group
from helpers import T0
from receiver import Receiver
from storage.outbox import claim_due, enqueue, mark_sent, split_message
from storage.tables import outbox

TZ = ZoneInfo("Asia/Shanghai")
SECRET = "s3cret"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def target(db, group_id, url, kind="bridge"):
    with db.begin() as conn:
        put_group(conn, group_id, {"push_target": {"kind": kind, "url": url}}, T0)


def queue(db, group_id, text, now=T0):
    with db.begin() as conn:
        return enqueue(conn, group_id, text, now, source="test")


def rows(db):
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]


def dispatch(db, clock, quiet=None):
    return dispatch_outbox(db, clock, secret=SECRET, quiet=quiet, tz=TZ)


def test_bridge_push_is_signed_like_inbound_and_marked_sent(db, clock, receiver):
    target(db, "g1", receiver.url())
    delivery_id = queue(db, "g1", "今晚 8 点开团")
    assert dispatch(db, clock).sent == 1
    [req] = receiver.got
    assert req["body"] == {"group_id": "g1", "text": "今晚 8 点开团", "delivery_id": delivery_id}
    ts = req["headers"]["X-Tuanbot-Timestamp"]
    assert req["headers"]["X-Tuanbot-Signature"] == sign(SECRET, ts, req["raw"])
    [row] = rows(db)
    assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 1, T0)
    assert dispatch(db, clock).sent == 0 and len(receiver.got) == 1


def test_fails_twice_then_succeeds_one_delivery_id_three_tries(db, clock, receiver):
    target(db, "g1", receiver.url())
    receiver.answers = [(500, {"e": 1}), (503, {"e": 2})]
    delivery_id = queue(db, "g1", "hello")
    assert dispatch(db, clock).retried == 1
    first_wait = rows(db)[0]["next_attempt_at"] - clock.now
    assert timedelta(0) < first_wait <= timedelta(seconds=30)
    assert dispatch(db, clock).sent == 0  # not yet due
    clock.advance(seconds=first_wait.total_seconds())
    assert dispatch(db, clock).retried == 1
    second_wait = rows(db)[0]["next_attempt_at"] - clock.now
    assert first_wait < second_wait <= 2 * first_wait
    clock.advance(seconds=second_wait.total_seconds())
    assert dispatch(db, clock).sent == 1
    assert [r["body"]["delivery_id"] for r in receiver.got] == [delivery_id] * 3
    [row] = rows(db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, None)


def test_always_failing_receiver_is_dead_after_at_least_24_hours(db, clock, receiver):
    receiver.default = (500, {"error": "down"})
    target(db, "g1", receiver.url())
    queue(db, "g1", "hello")
    start, waits = clock.now, []
    while True:
        dispatch(db, clock)
        [row] = rows(db)
        if row["status"] != "pending":
            break
        waits.append(row["next_attempt_at"] - clock.now)
        clock.now = row["next_attempt_at"]
    assert row["status"] == "dead" and "HTTP 500" in row["last_error"]
    assert clock.now - start >= timedelta(hours=24)
    assert waits[0] <= timedelta(seconds=30)
    assert all(b <= 2 * a for a, b in zip(waits, waits[1:]))
    assert max(waits) <= timedelta(hours=1)
    assert row["attempts"] == len(receiver.got) == len(waits) + 1
    assert len({r["body"]["delivery_id"] for r in receiver.got}) == 1
    clock.advance(hours=2)
    dispatch(db, clock)
    assert len(receiver.got) == row["attempts"]  # dead rows are not tried again


def test_at_most_20_a_minute_per_target_across_groups(db, clock, receiver):
    url = receiver.url("/shared")
    for g in ("g1", "g2"):  # two groups behind one target share its budget
        target(db, g, url)
    for i in range(25):
        queue(db, "g1" if i % 2 else "g2", f"m{i}")
    target(db, "g3", receiver.url("/other"))
    queue(db, "g3", "elsewhere")
    assert dispatch(db, clock).sent == 21
    shared = lambda: sum(r["path"] == "/shared" for r in receiver.got)  # noqa: E731
    assert shared() == 20
    clock.advance(seconds=59)
    dispatch(db, clock)
    assert shared() == 20
    clock.advance(seconds=1)
    assert dispatch(db, clock).sent == 5
    assert shared() == 25 and sum(r["status"] == "sent" for r in rows(db)) == 26


def test_wecom_robot_markdown_and_errcode_45009_is_not_delivered(db, clock, receiver):
    target(db, "g1", receiver.url("/robot"), kind="wecom_robot")
    receiver.answers = [(200, {"errcode": 45009, "errmsg": "api freq out of limit"})]
    receiver.default = (200, {"errcode": 0, "errmsg": "ok"})
    queue(db, "g1", "**新品**上架")
    queue(db, "g1", "second")
    assert dispatch(db, clock).throttled == 1
    assert receiver.got[0]["body"] == {"msgtype": "markdown", "markdown": {"content": "**新品**上架"}}
    first = rows(db)[0]
    assert first["status"] == "pending" and "45009" in first["last_error"]
    # The target is paused after a 45009: nothing more goes to it for a while, and the row is not dead.
    sent_before = len(receiver.got)
    clock.advance(seconds=30)
    dispatch(db, clock)
    assert len(receiver.got) == sent_before
    clock.advance(minutes=2)
    dispatch(db, clock)
    assert [r["status"] for r in rows(db)] == ["sent", "sent"]
    assert rows(db)[0]["attempts"] == 2


def test_wecom_other_errcode_is_a_failed_try(db, clock, receiver):
    target(db, "g1", receiver.url("/robot"), kind="wecom_robot")
    receiver.default = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    queue(db, "g1", "hi")
    assert dispatch(db, clock).retried == 1
    assert "93000" in rows(db)[0]["last_error"]


def wecom_limit(body):
    """WeCom's group robot: markdown over 4,096 bytes of UTF-8 is refused, whatever the retry."""
    if len(body["markdown"]["content"].encode()) > 4096:
        return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def test_a_push_over_wecoms_4096_bytes_goes_out_as_several_messages_in_order(db, clock, receiver):
    target(db, "g1", receiver.url("/robot"), kind="wecom_robot")
    receiver.default = wecom_limit
    lines = [f"{i:02d}. 内蒙古风干牛肉干 500g 今晚八点开团，先到先得，数量有限" for i in range(80)]
    text = "\n".join(lines)  # 80 lines of 74 bytes: 5,999 bytes
    first_id = queue(db, "g1", text)
    assert dispatch(db, clock).sent == 2
    contents = [r["body"]["markdown"]["content"] for r in receiver.got]
    assert all(r["status"] == 200 and len(c.encode()) <= 4096 for r, c in zip(receiver.got, contents))
    assert "\n".join(contents) == text  # cut between lines, in order
    sent = rows(db)
    assert [r["status"] for r in sent] == ["sent", "sent"] and sent[0]["delivery_id"] == first_id
    assert len({r["delivery_id"] for r in sent}) == 2 and {r["source"] for r in sent} == {"test"}


def test_one_line_over_4096_bytes_is_cut_between_characters(db, clock, receiver):
    target(db, "g1", receiver.url("/robot"), kind="wecom_robot")
    receiver.default = wecom_limit
    text = "团" * 2000 + "🎉" * 500  # 6,000 + 2,000 bytes, no line break; 4-byte characters across a cut
    queue(db, "g1", text)
    assert dispatch(db, clock).sent == 2
    contents = [r["body"]["markdown"]["content"] for r in receiver.got]
    assert "".join(contents) == text and all(len(c.encode()) <= 4096 for c in contents)


def test_a_message_that_fits_is_one_row_unchanged(db, clock, receiver):
    target(db, "g1", receiver.url())
    text = "\n\n".join(["团" * 600] * 2) + "\n"  # 3,603 bytes, blank line and trailing newline kept
    queue(db, "g1", text)
    assert dispatch(db, clock).sent == 1 and receiver.got[0]["body"]["text"] == text


_words = st.text(st.sampled_from("ab团🎉 "), max_size=40)


@given(st.lists(_words, min_size=1, max_size=60), st.integers(4, 200))
def test_split_message_keeps_every_character_in_order_within_the_limit(lines, limit):
    text = "\n".join(lines)
    parts = split_message(text, limit)
    assert parts and all(len(p.encode()) <= limit for p in parts)
    assert all(p.strip() for p in parts) or not text.strip()  # a text of whitespace alone stays one part
    # Cuts drop only whitespace (a newline, or a part that was nothing else): the rest reads the same.
    assert "".join("".join(parts).split()) == "".join(text.split())
    if len(text.encode()) <= limit:
        assert parts == [text]
    elif all(len(line.encode()) <= limit for line in lines) and all(line.strip() for line in lines):
        assert "\n".join(parts) == text  # every line fits: cut between lines only


def test_group_without_push_target_is_held_until_it_has_one(db, clock, receiver):
    queue(db, "g1", "waiting")
    dispatch(db, clock)
    clock.advance(hours=30)
    dispatch(db, clock)
    [row] = rows(db)
    assert (row["status"], row["attempts"]) == ("pending", 0) and not receiver.got
    target(db, "g1", receiver.url())
    clock.advance(minutes=1)
    assert dispatch(db, clock).sent == 1


def test_quiet_hours_hold_sending_until_they_end(db, clock, receiver):
    target(db, "g1", receiver.url())
    clock.now = T0.replace(hour=15)  # 23:00 in Shanghai
    queue(db, "g1", "night", now=clock.now)
    assert dispatch(db, clock, quiet=(22, 8)).quiet
    clock.advance(hours=8, minutes=59)  # 07:59
    dispatch(db, clock, quiet=(22, 8))
    assert not receiver.got
    clock.advance(minutes=1)  # 08:00
    assert dispatch(db, clock, quiet=(22, 8)).sent == 1


def test_two_dispatchers_at_once_send_each_row_once(db, clock, receiver):
    for g in range(5):
        target(db, f"g{g}", receiver.url(f"/g{g}"))
        for i in range(20):
            queue(db, f"g{g}", f"{g}-{i}")
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        dispatch(db, clock)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = receiver.delivery_ids()
    assert len(counts) == 100 and set(counts.values()) == {1}
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in rows(db))


def test_a_claim_whose_process_died_is_taken_over_after_the_lease(db, clock, receiver):
    target(db, "g1", receiver.url())
    queue(db, "g1", "orphan")
    with db.begin() as conn:  # a process claims the row, then is killed before sending
        [dead_claim] = claim_due(conn, clock.now, clock.now + LEASE).claimed
    assert dispatch(db, clock).sent == 0
    clock.advance(seconds=LEASE.total_seconds())
    assert dispatch(db, clock).sent == 1
    with db.begin() as conn:
        assert mark_sent(conn, dead_claim, clock.now) is False  # the old lease cannot mark it again
    assert receiver.delivery_ids().most_common(1)[0][1] == 1


def test_unreachable_target_is_a_failed_try(db, clock):
    target(db, "g1", "http://127.0.0.1:9/nothing-listens")
    queue(db, "g1", "hi")
    with httpx.Client(timeout=2) as client:
        assert dispatch_outbox(db, clock, secret=SECRET, quiet=None, tz=TZ, client=client).retried == 1
    assert rows(db)[0]["last_error"].startswith("ConnectError")


def test_bridge_push_without_a_secret_is_not_sent_unsigned(db, clock, receiver):
    target(db, "g1", receiver.url())
    queue(db, "g1", "hi")
    assert dispatch_outbox(db, clock, secret=None, quiet=None, tz=TZ).retried == 1
    assert not receiver.got and "TUANBOT_BRIDGE_SECRET" in rows(db)[0]["last_error"]
