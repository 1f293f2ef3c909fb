"""The member list from folded totals (catalog/member_totals.py): the same figures whatever has been folded,
each step folded once however many processes fold at once, never the last GRACE (both databases)."""
import threading
from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, func, select, update

from bot import jobs
from catalog import member_totals
from catalog.activity import GRACE
from catalog.groups import ensure_group
from catalog.stats import members
from helpers import T0
from storage.inbound import record_inbound
from storage.tables import inbound_messages, member_totals as totals, member_totals_mark
from test_stats import NOW, at, seed


def listed(db, group="g1", **page):
    with db.read() as conn:
        return [(m.user_id, m.first_seen, m.last_seen, m.messages, m.invited_by, m.invited)
                for m in members(conn, group, **page)]


def mark(db):
    with db.read() as conn:
        return conn.execute(select(member_totals_mark.c.through)).scalar_one()


def fold_one(db, now) -> bool:
    with db.read() as conn:
        step = member_totals.next_step(conn, now)
        if step is None:
            return False
        counted = member_totals.count_step(conn, *step)
    with db.begin() as conn:
        return member_totals.fold(conn, *step, counted)


def test_the_member_list_is_the_same_before_during_and_after_folding(db, clock):
    chat = seed(db, clock)
    before = {g: listed(db, g) for g in ("g1", "g2")}
    assert len(before["g1"]) == 10 and mark(db) is None
    steps = 0
    while fold_one(db, NOW):
        steps += 1
        assert {g: listed(db, g) for g in ("g1", "g2")} == before, f"after step {steps}"
    assert steps == 168  # from the oldest message, 7 days and 1 second before NOW, to NOW - GRACE, an hour at a time
    assert mark(db) == NOW - GRACE  # the last GRACE is never folded
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(totals)).scalar() == 11  # g1's 10 and g2's u1
    assert listed(db, limit=3, offset=2) == before["g1"][2:5]

    at(clock, NOW + timedelta(minutes=1))
    chat.send("又来了", user="u4")  # after the mark: read from the messages, added to u4's folded totals
    u4 = next(m for m in listed(db) if m[0] == "u4")
    assert listed(db)[0] == u4 and u4[2] == NOW + timedelta(minutes=1) and u4[3] == 4


def test_the_job_folds_at_most_a_run_of_steps_and_nothing_recent(db, clock, monkeypatch):
    seed(db, clock)
    before = listed(db)
    assert jobs.fold_member_totals(db, lambda: NOW - timedelta(days=7)) == 0  # nothing older than GRACE
    assert jobs.fold_member_totals(db, lambda: NOW - timedelta(days=6)) == 24  # hours, up to then less GRACE
    assert mark(db) == NOW - timedelta(days=6, minutes=10)
    monkeypatch.setattr(member_totals, "STEPS_PER_RUN", 100)
    assert jobs.fold_member_totals(db, lambda: NOW) == 100
    assert jobs.fold_member_totals(db, lambda: NOW) == 44  # the 6 days to NOW - GRACE are 144 hours
    assert jobs.fold_member_totals(db, lambda: NOW) == 0
    assert listed(db) == before


def test_two_processes_folding_at_once_fold_each_step_once(db, clock, monkeypatch):
    seed(db, clock)
    monkeypatch.setattr(member_totals, "STEPS_PER_RUN", 1000)  # each runs until nothing is left
    before = listed(db)
    with db.read() as conn:  # both read the same step and count it
        step = member_totals.next_step(conn, NOW)
        counted = member_totals.count_step(conn, *step)
    with db.begin() as conn:
        assert member_totals.fold(conn, *step, counted)
    with db.begin() as conn:
        assert not member_totals.fold(conn, *step, counted)  # the mark has moved: nothing written

    done, start = [], threading.Barrier(2)

    def fold():
        start.wait()
        done.append(jobs.fold_member_totals(db, lambda: NOW))

    threads = [threading.Thread(target=fold) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(done) == 167 and listed(db) == before  # texts counted once each


EVENTS = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["text", "joined", "other event"]),
              st.integers(0, 5 * 24 * 60)),
    max_size=25,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS, cut=st.integers(0, 6 * 24 * 60))
def test_any_messages_folded_up_to_any_time_give_the_members_the_messages_give(db, events, cut):
    with db.begin() as conn:
        for table in (inbound_messages, totals):
            conn.execute(delete(table))
        conn.execute(update(member_totals_mark).values(through=None))
        ensure_group(conn, "g", None, T0)
        for i, (user, kind, minute) in enumerate(events):
            record_inbound(conn, channel="bridge", msg_id=f"p{i}", group_id="g", sender_id=user,
                           kind="text" if kind == "text" else "event",
                           event={"joined": "member_joined", "other event": "media"}.get(kind),
                           received_at=T0 + timedelta(minutes=minute))
    expected = {}
    for user, kind, minute in events:
        if kind == "other event":
            continue
        when = T0 + timedelta(minutes=minute)
        first, last, n = expected.get(user, (when, when, 0))
        expected[user] = (min(first, when), max(last, when), n + (kind == "text"))
    while fold_one(db, T0 + timedelta(minutes=cut)):
        pass
    got = {user: (first, last, n) for user, first, last, n, _, _ in listed(db, "g")}
    assert got == expected
