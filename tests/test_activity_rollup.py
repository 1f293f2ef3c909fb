"""The per-day rollup of group talk and the parts of days (catalog/activity.py): figures over rolled-up days
and written parts are exactly the figures read from the messages, across local midnights and hour edges, with
any mix of rolled and unrolled days and parts, in zones whose hours are not UTC's, when two processes roll up
at once, after a time zone change, after parts pass the horizon, and on a database migrated with history."""
import json
import random
import threading
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, strategies as st
from sqlalchemy import event, func, insert, select

from bot import jobs
from catalog import activity, stats
from catalog.groups import put_group
from catalog.stats import Window, daily_series, group_stats, stats_by_group
from helpers import SHANGHAI, T0
from storage.migrate import upgrade
from storage.tables import (
    activity_day_parts, activity_days, activity_part_rollups, activity_rollups, activity_senders, inbound_messages,
)

NOW = datetime(2026, 12, 8, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
GROUPS = ["g1", "g2", "g3"]
FULL_HORIZON, FULL_DAYS_PER_RUN = activity.HORIZON_DAYS, activity.DAYS_PER_RUN


@pytest.fixture(autouse=True)
def short_horizon(monkeypatch):
    """The job rolls up every closed day of the last 400, empty or not, each in transactions of its own; the
    history here spans 12 days, so the tests roll up 16 days, 5 a run (the job's shape, smaller). Rolling up
    the 388 empty days made this module a fifth of the suite's time. The test of a migrated database keeps
    the real horizon."""
    monkeypatch.setattr(activity, "HORIZON_DAYS", 16)
    monkeypatch.setattr(activity, "DAYS_PER_RUN", 5)


def local_midnight(days_ago: int) -> datetime:
    today = NOW.astimezone(SHANGHAI).date()
    return datetime.combine(today - timedelta(days=days_ago), time(), SHANGHAI)


def history(seed: int = 15, n: int = 900, senders: int = 12) -> list[dict]:
    """Texts (a fifth of them commands) and member_joined events over the 12 days before NOW, many of them
    right at local midnights (the instant itself and a microsecond before), from a few senders per group."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        if i % 3 == 0:
            edge = local_midnight(rnd.randrange(0, 12))
            when = edge - timedelta(microseconds=rnd.choice([0, 1]))
        elif i % 6 == 1:  # at whole UTC hours (the edges of Shanghai's hours), and a microsecond before
            when = NOW - timedelta(hours=rnd.randrange(12 * 24), microseconds=rnd.choice([0, 1]))
        else:
            when = NOW - timedelta(seconds=rnd.randrange(12 * 86400))
        joined = rnd.random() < 0.05
        rows.append({
            "channel": "bridge", "msg_id": f"m{i}", "group_id": rnd.choice(GROUPS),
            "sender_id": f"u{rnd.randrange(senders)}", "kind": "event" if joined else "text",
            "event": "member_joined" if joined else None, "inviter_id": f"u{rnd.randrange(4)}" if joined else None,
            "is_command": (not joined) and rnd.random() < 0.2, "command": None, "received_at": when, "reply": None,
        })
    return rows


def fill(db, rows) -> None:
    with db.begin() as conn:
        for gid in GROUPS:
            put_group(conn, gid, {"name": gid}, T0)
        conn.execute(insert(inbound_messages), rows)


WINDOWS = [
    Window.last(NOW, 1), Window.last(NOW, 3), Window.last(NOW, 7), Window.last(NOW, 10),
    Window.last(NOW, 7).before(),
    Window(local_midnight(9), local_midnight(2)),  # edges exactly at local midnights
    Window(local_midnight(6) - timedelta(microseconds=1), local_midnight(3) + timedelta(microseconds=1)),
    Window.last(NOW - timedelta(days=2, hours=5), 4),
]


def figures(db, tz=SHANGHAI) -> list:
    out = []
    with db.read() as conn:
        for w in WINDOWS:
            out.append({gid: s.to_json() for gid, s in sorted(stats_by_group(conn, w, tz, None).items())})
            for gid in GROUPS:
                out.append(group_stats(conn, gid, w, tz).to_json())
                out.append(daily_series(conn, gid, w, tz))
        out.append([s.to_json() for s in stats.group_stats_over(conn, "g1", [WINDOWS[2].before(), WINDOWS[2]], tz)])
    return out


def expected_talk(rows, w: Window) -> dict[str, tuple[int, int, list[str]]]:
    """{group: (messages, active members, who talked)} worked out here from the rows themselves."""
    texts = [r for r in rows if r["kind"] == "text" and w.start < r["received_at"] <= w.end]
    out = {}
    for gid in GROUPS:
        mine = [r for r in texts if r["group_id"] == gid]
        talk = defaultdict(list)
        for r in mine:
            if not r["is_command"]:
                talk[r["sender_id"]].append(r["received_at"].astimezone(SHANGHAI).date())
        talked = sorted(u for u, days in talk.items() if len(days) >= 3 and len(set(days)) >= 2)
        out[gid] = (len(mine), len({r["sender_id"] for r in mine}), talked)
    return out


def got_talk(db, w: Window, group_ids: list[str] | None = GROUPS) -> dict[str, tuple[int, int, list[str]]]:
    with db.read() as conn:
        stats = stats_by_group(conn, w, SHANGHAI, group_ids)
    return {
        gid: (s.messages, s.active_members, sorted(c["user_id"] for c in s.contributors if "talked" in c["reasons"]))
        for gid, s in stats.items()
    }


def roll_up(db, now: datetime = NOW, tz=SHANGHAI) -> None:
    """Runs the scheduler's rollup job at `now` until it has nothing left to do."""
    while jobs.roll_up_activity(db, lambda: now, tz=tz):
        pass


def rolled_up_history(db, seed: int) -> list[dict]:
    """history(seed) written and rolled up at NOW; its rows."""
    rows = history(seed=seed, n=600)
    fill(db, rows)
    roll_up(db)
    return rows


def rolled_days(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(activity_rollups)).scalar_one()


def written_parts(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(activity_part_rollups)).scalar_one()


# NOW is 10:00 in Shanghai: 23 heads and 23 tails for each of the 16 days before today, and today's heads at
# 01:00 … 09:00 (the hour from 09:00 ends at 10:00 and is in its grace).
DUE_PARTS = activity.PART_HORIZON_DAYS * 46 + 9


def test_the_rollup_gives_exactly_the_figures_of_the_messages_across_midnights(db):
    rows = history()
    fill(db, rows)
    raw = figures(db)
    for w in WINDOWS:
        assert got_talk(db, w) == expected_talk(rows, w)
    roll_up(db)
    assert rolled_days(db) == activity.HORIZON_DAYS
    assert written_parts(db) == DUE_PARTS
    with db.read() as conn:
        days_with_rows = conn.execute(select(func.count(func.distinct(activity_days.c.day)))).scalar_one()
        parts_with_rows = conn.execute(select(func.count()).select_from(
            select(activity_day_parts.c.edge, activity_day_parts.c.kind).distinct().subquery())).scalar_one()
    assert days_with_rows == 12  # the 12 closed days with texts; today is never rolled up
    # The parts of the 12 days with texts, but not those before the first text of the oldest or after the last
    # text of today: a part with no text has no row.
    assert 11 * 46 < parts_with_rows < 12 * 46 + 9
    assert figures(db) == raw
    for w in WINDOWS:
        assert got_talk(db, w) == expected_talk(rows, w)


def test_any_mix_of_rolled_and_unrolled_days_gives_the_same_figures(db):
    rows = history(seed=7)
    fill(db, rows)
    raw = figures(db)
    for days_ago in (2, 3, 5, 8):  # holes between rolled days
        with db.begin() as conn:
            assert activity.roll_up_day(conn, NOW.astimezone(SHANGHAI).date() - timedelta(days=days_ago), SHANGHAI, NOW)
    assert figures(db) == raw
    # a day already rolled up is not rolled up again
    with db.begin() as conn:
        assert not activity.roll_up_day(conn, NOW.astimezone(SHANGHAI).date() - timedelta(days=2), SHANGHAI, NOW)


def write_parts(db, days=None, now=NOW) -> None:
    with db.read() as conn:
        todo = activity.days_to_part(conn, now, SHANGHAI)
    for day in todo if days is None else days:
        with db.begin() as conn:
            assert activity.roll_up_parts(conn, day, SHANGHAI, now)


def test_parts_give_exactly_the_figures_of_the_messages(db):
    """Two days rolled up, and every part due: the other days are read from their heads and tails, the part
    of an hour at a window's ends and the hours not closed yet from the messages."""
    rows = history(seed=17)
    fill(db, rows)
    raw = figures(db)
    for days_ago in (3, 8):
        with db.begin() as conn:
            assert activity.roll_up_day(conn, NOW.astimezone(SHANGHAI).date() - timedelta(days=days_ago), SHANGHAI, NOW)
    with db.read() as conn:
        todo = activity.days_to_part(conn, NOW, SHANGHAI)
    today = NOW.astimezone(SHANGHAI).date()
    assert todo == [today - timedelta(days=i) for i in range(activity.PART_HORIZON_DAYS + 1)]
    write_parts(db, todo)
    assert (rolled_days(db), written_parts(db)) == (2, DUE_PARTS)
    assert figures(db) == raw
    for w in WINDOWS:
        assert got_talk(db, w) == expected_talk(rows, w)
    with db.begin() as conn:  # a part written already is not written again
        assert activity.roll_up_parts(conn, todo[1], SHANGHAI, NOW) == 0


def test_any_mix_of_rolled_days_and_written_parts_gives_the_same_figures(db):
    rows = history(seed=29)
    fill(db, rows)
    raw = figures(db)
    today = NOW.astimezone(SHANGHAI).date()
    write_parts(db, [today - timedelta(days=i) for i in (0, 2, 5, 7, 9)])
    assert figures(db) == raw
    for days_ago in (1, 4, 6):
        with db.begin() as conn:
            assert activity.roll_up_day(conn, today - timedelta(days=days_ago), SHANGHAI, NOW)
    assert figures(db) == raw
    for w in WINDOWS:
        assert got_talk(db, w) == expected_talk(rows, w)


def test_figures_stay_the_same_while_todays_newest_head_is_not_written(db):
    """Today's newest head is written a tick after its edge closes: until then an older head is not used
    for today (the messages are read for all of it), and the figures are the same."""
    rows = history(seed=37)
    fill(db, rows)
    raw = figures(db)
    roll_up(db, NOW - timedelta(hours=2, minutes=30))
    with db.read() as conn:
        newest = conn.execute(select(func.max(activity_part_rollups.c.edge))).scalar_one()
    assert newest == activity.epoch(NOW - timedelta(hours=3))  # 07:00: the head of 00:00 to 07:00
    assert figures(db) == raw
    for w in WINDOWS:
        assert got_talk(db, w) == expected_talk(rows, w)


def test_heads_grown_hour_by_hour_hold_exactly_the_day_so_far(db):
    """Ticks through today: each new head is the last one plus the hours since (the job counts only those),
    and holds exactly the day's texts and senders from midnight to its edge."""
    rows = history(seed=41)
    fill(db, rows)
    raw = figures(db)
    midnight = local_midnight(0)
    for minutes in range(75, 10 * 60 + 1, 45):  # 01:15, 02:00, 02:45 … 10:00
        jobs.roll_up_activity(db, lambda: midnight + timedelta(minutes=minutes), tz=SHANGHAI)
    p = activity_day_parts
    with db.read() as conn:
        heads = conn.execute(
            select(p.c.edge, p.c.group_id, p.c.texts, p.c.senders)
            .where(p.c.kind == activity.HEAD, p.c.edge > activity.epoch(midnight))
        ).all()
    assert {edge for edge, *_ in heads} == {activity.epoch(midnight + timedelta(hours=h)) for h in range(1, 10)}
    for edge, gid, texts, senders in heads:
        mine = [r for r in rows if r["kind"] == "text" and r["group_id"] == gid
                and midnight <= r["received_at"] < datetime.fromtimestamp(edge, timezone.utc)]
        assert texts == len(mine)
        assert activity.from_bits(senders).bit_count() == len({r["sender_id"] for r in mine})
    assert figures(db) == raw


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu", "America/New_York"])
def test_parts_cut_at_the_hours_of_zones_whose_hours_are_not_shanghais(db, zone):
    """In Kolkata (UTC+5:30) and Kathmandu (+5:45) an edge is a local midnight plus whole hours, not a UTC hour."""
    tz = ZoneInfo(zone)
    rows = history(seed=31)
    fill(db, rows)
    raw = figures(db, tz)
    roll_up(db, tz=tz)
    with db.read() as conn:
        edges = conn.execute(select(activity_part_rollups.c.edge)).scalars().all()
    assert edges and all(datetime.fromtimestamp(h, tz).minute == 0 for h in edges)
    assert figures(db, tz) == raw


def test_parts_past_the_horizon_are_dropped_and_the_figures_stay(db):
    rows = history(seed=19)
    fill(db, rows)
    raw = figures(db)
    roll_up(db)
    later = NOW + timedelta(days=activity.PART_HORIZON_DAYS - 5)  # the horizon is now 5 days before NOW's day
    roll_up(db, later)
    horizon = local_midnight(5)
    with db.read() as conn:
        assert conn.execute(select(func.min(activity_part_rollups.c.edge))).scalar_one() > activity.epoch(horizon)
        assert conn.execute(select(func.min(activity_day_parts.c.edge))).scalar_one() > activity.epoch(horizon)
        assert conn.execute(select(func.min(activity_part_rollups.c.edge))).scalar_one() < activity.epoch(
            horizon + timedelta(hours=2))
    assert figures(db) == raw  # the windows reaching further back read those days from the messages
    for w in WINDOWS:
        assert got_talk(db, w) == expected_talk(rows, w)


ZONES = ["Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "America/Sao_Paulo",
         "Australia/Lord_Howe", "Europe/London", "Pacific/Chatham"]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)), st.sampled_from(ZONES))
@example(date(2003, 10, 18), "America/Sao_Paulo")  # the next midnight is skipped: clocks go from 23:59 to 01:00
def test_a_local_day_is_cut_into_whole_hours_from_its_midnight_that_cover_it_exactly(day, zone):
    """Days of 23, 23.5, 24.5 or 25 hours around DST changes included: the last hour ends at the next midnight."""
    tz = ZoneInfo(zone)
    hours = activity.hours_of(day, tz)
    ends = [activity.hour_end(h, tz) for h in hours]
    assert hours[0] == activity.midnight(day, tz)
    assert ends[-1] == activity.midnight(day + timedelta(days=1), tz)
    assert ends[:-1] == hours[1:]
    assert all(e - h == activity.HOUR for h, e in zip(hours[:-1], ends[:-1]))
    assert timedelta(0) < ends[-1] - hours[-1] <= activity.HOUR
    assert {h.astimezone(tz).date() for h in hours} == {day}


def test_new_senders_after_a_rolled_day_get_bits_of_their_own(db):
    """Senders first seen today (not numbered yet) and senders numbered on a rolled day mix in one window."""
    rows = history(seed=3, n=300)
    rows += [
        {**rows[0], "msg_id": f"new{i}", "group_id": "g1", "sender_id": f"newcomer{i % 3}", "kind": "text",
         "event": None, "inviter_id": None, "is_command": False, "received_at": NOW - timedelta(hours=1, minutes=i)}
        for i in range(9)
    ]
    fill(db, rows)
    raw = figures(db)
    roll_up(db)
    assert figures(db) == raw
    w = Window.last(NOW, 7)
    assert got_talk(db, w) == expected_talk(rows, w)


def _statements(db, *words: str) -> list[list | None]:
    """Of each statement holding all these words, as they run from now on: its JSON list parameter (the pairs
    looked up), decoded; None for a statement without one."""
    seen: list[list | None] = []

    def note(conn, cursor, statement, parameters, *args):
        if all(w in statement for w in words):
            values = parameters.values() if isinstance(parameters, dict) else parameters
            seen.append(next((json.loads(v) for v in values if isinstance(v, str) and v.startswith("[")), None))

    for engine in {db.engine, db._reader}:
        event.listen(engine, "before_cursor_execute", note)
    return seen


def _reads_by_bit(db) -> list[list | None]:
    """The statements that look senders up by their bit, as they run from now on."""
    return _statements(db, "activity_senders AS s", "s.bit =")


def test_talkers_ids_are_read_once_per_process_and_a_new_talker_when_first_seen(db):
    """A bit never changes its sender: a second read of the same windows names its talkers and numbers the
    senders of its raw part from what the first one read, with no statement; a talker numbered since is read
    when first met. Ids stay exact."""
    rows = history(seed=5, n=600)
    later = NOW + timedelta(days=1)
    rows += [  # a newcomer talking today and tomorrow (numbered when today is rolled up, tomorrow)
        {**rows[1], "msg_id": f"newbie{i}", "group_id": "g2", "sender_id": "newbie", "kind": "text", "event": None,
         "inviter_id": None, "is_command": False, "received_at": NOW + timedelta(hours=h)}
        for i, h in enumerate((1, 5, 20))  # 11:00 and 15:00 today, 06:00 tomorrow
    ] + [  # in the last hour, read from the messages: senders numbered on earlier days
        {**rows[1], "msg_id": f"now{i}", "group_id": g, "sender_id": u, "kind": "text", "event": None,
         "inviter_id": None, "is_command": False, "received_at": NOW - timedelta(minutes=20)}
        for i, (g, u) in enumerate([("g1", "u1"), ("g2", "u2")])
    ]
    fill(db, rows)
    roll_up(db)
    reads = _reads_by_bit(db)
    bits_read = _statements(db, "activity_senders AS s", "s.sender_id =")  # the raw part's senders' bits
    w = Window.last(NOW, 7)
    assert got_talk(db, w) == expected_talk(rows, w)
    assert len(reads) == 1 and len(bits_read) == 1
    assert got_talk(db, w) == expected_talk(rows, w)
    assert len(reads) == 1 and len(bits_read) == 1  # all named and numbered from the first read
    roll_up(db, later)
    w2 = Window.last(later, 7)
    assert "newbie" in expected_talk(rows, w2)["g2"][2]
    assert got_talk(db, w2) == expected_talk(rows, w2)
    with db.read() as conn:
        newbie = conn.execute(select(activity_senders.c.bit).where(
            activity_senders.c.group_id == "g2", activity_senders.c.sender_id == "newbie")).scalar_one()
    first, then = ({tuple(pair) for pair in read} for read in reads)
    assert ("g2", newbie) in then and not then & first  # only what was not read before


def test_the_memory_of_talkers_ids_is_bounded_and_emptied_when_full(db, monkeypatch):
    rows = rolled_up_history(db, seed=6)
    monkeypatch.setattr(activity._SendersSeen, "MAX", 2)
    reads = _reads_by_bit(db)
    for n, w in enumerate(WINDOWS[1:4], start=1):
        assert len(expected_talk(rows, w)["g1"][2]) > 2
        assert got_talk(db, w) == expected_talk(rows, w)
        assert len(reads) == n  # over MAX after each read: emptied before the next, which reads again


def _reads_of_days(db) -> list[list | None]:
    """The statements that read rolled-up days' rows, as they run from now on."""
    return _statements(db, "FROM activity_days JOIN activity_rollups")


def test_every_groups_whole_days_are_added_up_once_per_process_and_again_when_a_day_is_rolled_up_again(db):
    """A closed day never changes, so the sum of a window's whole days over every group is read once (a few
    groups' each time); the procedure for texts added to a closed day by hand (delete the day's rollup, the job
    redoes it) is seen at once all the same."""
    rows = rolled_up_history(db, seed=8)
    reads = _reads_of_days(db)
    w = Window.last(NOW, 7)
    for n in range(3):
        assert got_talk(db, w, None) == expected_talk(rows, w)
    assert len(reads) == 1
    for n in range(2):
        assert got_talk(db, w, ["g1", "g2"]) == {g: v for g, v in expected_talk(rows, w).items() if g != "g3"}
    assert len(reads) == 3
    day = local_midnight(3).date()
    added = [  # 3 texts by a new sender, 3 and 2 days ago: they talked
        {**rows[1], "msg_id": f"late{i}", "group_id": "g3", "sender_id": "late", "kind": "text", "event": None,
         "inviter_id": None, "is_command": False, "received_at": local_midnight(ago) + timedelta(hours=h)}
        for i, (ago, h) in enumerate([(3, 3), (3, 5), (2, 3)])
    ]
    with db.begin() as conn:
        conn.execute(insert(inbound_messages), added)
        conn.execute(activity_days.delete().where(activity_days.c.day.in_([day, day + timedelta(days=1)])))
        conn.execute(activity_rollups.delete().where(activity_rollups.c.day.in_([day, day + timedelta(days=1)])))
    roll_up(db, NOW + timedelta(minutes=1))
    assert "late" in expected_talk(rows + added, w)["g3"][2]
    assert got_talk(db, w, None) == expected_talk(rows + added, w)
    assert len(reads) == 4


def test_the_kept_sums_of_days_are_bounded_to_the_most_recently_used(db, monkeypatch):
    rows = rolled_up_history(db, seed=9)
    monkeypatch.setattr(activity._DaysTalkKept, "MAX", 1)
    reads = _reads_of_days(db)
    for n, w in enumerate([WINDOWS[2], WINDOWS[3], WINDOWS[2], WINDOWS[2]], start=1):
        assert got_talk(db, w, None) == expected_talk(rows, w)
        assert len(reads) == min(n, 3)  # the window before pushed the other out, until the same one again


def test_groups_of_hundreds_of_senders_have_bitmaps_of_many_words(db):
    """Bits past the first 64 and past byte boundaries count the same."""
    rows = history(seed=21, n=3000, senders=200)
    fill(db, rows)
    raw = figures(db)
    roll_up(db)
    with db.read() as conn:
        widest = max(len(b) for b in conn.execute(select(activity_days.c.senders)).scalars())
    assert widest > 3 * 8
    assert figures(db) == raw
    for w in WINDOWS:
        assert got_talk(db, w) == expected_talk(rows, w)


def test_a_day_is_closed_only_once_it_is_over_plus_the_grace(db):
    today = local_midnight(0)
    assert activity.last_closed_day(today + activity.GRACE - timedelta(microseconds=1), SHANGHAI) == (
        today.date() - timedelta(days=2))
    assert activity.last_closed_day(today + activity.GRACE, SHANGHAI) == today.date() - timedelta(days=1)
    fill(db, history(n=200))
    jobs.roll_up_activity(db, lambda: today + timedelta(minutes=1), tz=SHANGHAI)
    with db.read() as conn:
        newest = conn.execute(select(func.max(activity_rollups.c.day))).scalar_one()
    assert newest == today.date() - timedelta(days=2)  # yesterday is still within its grace


def test_two_processes_rolling_up_at_once_roll_each_day_up_once(db):
    rows = history(seed=11)
    fill(db, rows)
    raw = figures(db)
    start = threading.Barrier(2)
    done: list[int] = []
    errors: list[BaseException] = []

    def run():
        try:
            start.wait()
            n = 0
            while True:
                got = jobs.roll_up_activity(db, lambda: NOW, tz=SHANGHAI)
                n += got
                if not got:
                    break
            done.append(n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert rolled_days(db) == activity.HORIZON_DAYS
    assert written_parts(db) == DUE_PARTS
    assert sum(done) == activity.HORIZON_DAYS + DUE_PARTS  # each day rolled up and each part written once
    assert figures(db) == raw


def test_a_day_counted_before_another_process_numbered_its_senders_keeps_their_numbers(db):
    """Days are counted outside the writing transaction: a sender new when counted may have been numbered
    since, by the rollup of another day, and keeps that number."""
    rows = history(seed=13)
    fill(db, rows)
    raw = figures(db)
    today = NOW.astimezone(SHANGHAI).date()
    older, newer = today - timedelta(days=3), today - timedelta(days=2)
    with db.read() as conn:
        counted_older = activity.count_day(conn, older, SHANGHAI)
        counted_newer = activity.count_day(conn, newer, SHANGHAI)
    assert any(bit is None for *_, bit in counted_newer)
    with db.begin() as conn:
        assert activity.roll_up_day(conn, older, SHANGHAI, NOW, counted_older)
    with db.begin() as conn:
        assert activity.roll_up_day(conn, newer, SHANGHAI, NOW, counted_newer)  # stale: no sender numbered twice
    assert figures(db) == raw


def test_a_change_of_time_zone_sets_the_old_rollup_aside_and_rolls_up_again(db):
    rows = history(seed=5)
    fill(db, rows)
    raw = figures(db)  # in Shanghai
    roll_up(db, tz=timezone.utc)
    assert figures(db) == raw  # UTC days are not Shanghai days: none of them is used
    roll_up(db)
    with db.read() as conn:
        zones = set(conn.execute(select(activity_rollups.c.tz)).scalars())
        part_zones = set(conn.execute(select(activity_part_rollups.c.tz)).scalars())
    assert zones == part_zones == {"Asia/Shanghai"}
    assert figures(db) == raw


def test_a_database_migrated_with_history_gets_the_same_figures_before_and_after_its_rollup(empty_db, monkeypatch):
    monkeypatch.setattr(activity, "HORIZON_DAYS", FULL_HORIZON)
    monkeypatch.setattr(activity, "DAYS_PER_RUN", FULL_DAYS_PER_RUN)
    db = empty_db
    upgrade(db, "0009")  # the revision before the rollup
    rows = history(seed=9)
    fill(db, rows)
    upgrade(db)
    assert rolled_days(db) == 0
    before = figures(db)
    for w in WINDOWS:
        assert got_talk(db, w) == expected_talk(rows, w)
    roll_up(db)
    assert rolled_days(db) == activity.HORIZON_DAYS
    assert figures(db) == before


@pytest.mark.parametrize("n", [0, 1, 255, 256, 1 << 70])
def test_bitmaps_read_back_as_written(n):
    assert activity.from_bits(activity.to_bits(n)) == n


@given(st.integers(min_value=0, max_value=2**400))
def test_bits_of_names_exactly_the_set_bits_lowest_first(n):
    assert list(activity.bits_of(n)) == [i for i in range(n.bit_length()) if n >> i & 1]


def as_counter(counts: list[int]) -> tuple[int, int, int]:
    """Per-bit counts as the rollup keeps them: bitmaps of who has 1+, 2+, 3+."""
    return tuple(sum(1 << i for i, c in enumerate(counts) if c >= k) for k in (1, 2, 3))


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=40))
def test_counters_kept_as_bitmaps_add_up_per_bit_saturating_at_3(pairs):
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    assert activity.count_up(as_counter(a), as_counter(b)) == as_counter([min(3, x + y) for x, y in pairs])
