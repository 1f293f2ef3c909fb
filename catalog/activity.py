"""The per-day rollup of group talk: each closed local day's texts per group, as a count and sender bitmaps.

A local day (in the stats time zone) is closed once it is over plus GRACE, the time a message stamped just
before midnight may still take to commit. Nothing writes a text dated in the past (the dispatcher stamps
each with its own clock as it records it), so a closed day never changes: it is rolled up once, for every
group at once, by the scheduler's job (bot.jobs.roll_up_activity), and never looked at again. Reads never write:
catalog.stats reads the days of a window that are rolled up from activity_days and every other part of the
window (today, the window's first partial day, days not rolled up yet) from inbound_messages, so a figure
is the same whatever has been rolled up.

Per (group, day) the rollup keeps the texts' count and four bitmaps over the group's sender numbering
(activity_senders): who sent any text, and who sent 1, 2, 3 or more non-command texts. Those are enough for
every talk figure over any set of days: distinct senders (OR), and "3 or more non-command texts on 2 or
more days" (a counter saturating at 3, kept as bitmaps, see Talk.add) — exactly, with no per-sender rows.
The messages themselves and their per-message path are untouched: the rollup costs no statement a message.

The same job writes parts of the days of the last PART_HORIZON_DAYS days the same way (activity_day_parts):
per group, a day's texts before each hour edge (its head) and from it (its tail), so a window's partial days
(today so far, the day it starts in) are read from one row per group each, and only the part of an hour at
the window's ends from the messages. An edge is a local midnight plus whole hours (absolute time), so it
lies in its local day whatever the zone's offset or DST change. A head is written once its edge is closed
(GRACE after it), a tail once its day is. Parts older than the horizon are dropped.
"""
from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import TypeVar

from sqlalchemy import and_, any_, case, delete, func, literal, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.tables import (
    activity_day_parts, activity_days, activity_part_rollups, activity_rollups, activity_senders, groups,
    inbound_messages,
)
from storage.types import UTCDateTime

GRACE = timedelta(minutes=10)  # a day closes this long after its last midnight
HORIZON_DAYS = 400  # days further back are never rolled up (windows are at most 365 days, and the one before)
DAYS_PER_RUN = 31  # days one run of the job rolls up at most (each in its own short transaction)
HOUR = timedelta(hours=1)
PART_HORIZON_DAYS = 16  # parts are kept this long: 统计's two weeks (longer windows read their first day raw)
HEAD, TAIL = "head", "tail"  # a day's texts before an edge, and from it
_PG_LOCK = 0x7475_616E_0015  # pg_advisory_xact_lock key: one rollup at a time across processes

_im = inbound_messages
K = TypeVar("K", bound=Hashable)


def zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def midnight(day: date, tz: tzinfo) -> datetime:
    """The instant (UTC) the local day begins. In UTC, so that it compares equal to the same instant in any
    zone: a local midnight that a DST change skips (America/Sao_Paulo until 2018) never would (PEP 495)."""
    return datetime.combine(day, time(), tz).astimezone(timezone.utc)


def hours_of(day: date, tz: tzinfo) -> list[datetime]:
    """The starts (UTC) of the local day's hours: its midnight, then an hour apart up to the next midnight."""
    lo, hi = midnight(day, tz), midnight(day + timedelta(days=1), tz)
    return [lo + HOUR * k for k in range(-(-(hi - lo) // HOUR))]


def epoch(t: datetime) -> int:
    """An edge as activity_day_parts keeps it: seconds since 1970 (edges fall on whole seconds)."""
    return int(t.timestamp())


def hour_end(start: datetime, tz: tzinfo) -> datetime:
    """Where the hour starting at `start` ends: an hour later, or at the next local midnight if sooner."""
    next_midnight = midnight(start.astimezone(tz).date() + timedelta(days=1), tz)
    return min(start + HOUR, next_midnight)


def closed_hours(day: date, tz: tzinfo, now: datetime) -> list[datetime]:
    """The hours of the day that are over, plus GRACE, by `now`."""
    return [h for h in hours_of(day, tz) if hour_end(h, tz) + GRACE <= now]


def last_closed_day(now: datetime, tz: tzinfo) -> date:
    """The latest local day that is over, GRACE included."""
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    return yesterday if now >= midnight(today, tz) + GRACE else yesterday - timedelta(days=1)


# ---- bitmaps -----------------------------------------------------------------------------------

def to_bits(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "little")


def from_bits(b: bytes | memoryview | None) -> int:
    return int.from_bytes(b, "little") if b else 0


def bits_of(n: int) -> Iterable[int]:
    """The set bits, lowest first: one step per set bit, not per bit (a bitmap of 300 senders names ~10)."""
    while n:
        low = n & -n
        yield low.bit_length() - 1
        n ^= low


def count_up(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[int, int, int]:
    """Two counters kept as bitmaps (who has 1+, 2+, 3+), added per bit and saturating at 3."""
    a1, a2, a3 = a
    b1, b2, b3 = b
    return a1 | b1, a2 | b2 | (a1 & b1), a3 | b3 | (a2 & b1) | (a1 & b2)


@dataclass
class Talk:
    """One group's talk over some days, added a day at a time (each day once)."""
    texts: int = 0
    senders: int = 0  # any text
    s1: int = 0  # 1+ non-command texts so far
    s2: int = 0  # 2+
    s3: int = 0  # 3+
    days2: int = 0  # non-command texts on 2+ days so far

    def add(self, texts: int, senders: int, t1: int, t2: int, t3: int) -> None:
        """A day's texts and bitmaps: t1/t2/t3, who sent 1/2/3+ non-command texts that day."""
        self.texts += texts
        self.senders |= senders
        self.days2 |= self.s1 & t1
        self.s1, self.s2, self.s3 = count_up((self.s1, self.s2, self.s3), (t1, t2, t3))

    @property
    def talked(self) -> int:
        """3 or more non-command texts in all, on 2 or more days."""
        return self.s3 & self.days2


@dataclass
class DayBits:
    """One (group, day) being built from per-sender counts."""
    texts: int = 0
    senders: int = 0
    t1: int = 0
    t2: int = 0
    t3: int = 0

    def sender(self, bit: int, texts: int, talk: int) -> None:
        b = 1 << bit
        self.texts += texts
        self.senders |= b
        if talk:
            self.t1 |= b
            if talk >= 2:
                self.t2 |= b
                if talk >= 3:
                    self.t3 |= b

    def add(self, texts: int, senders: int, t1: int, t2: int, t3: int) -> None:
        """Texts and bitmaps of another stretch of the same day (a part of it, the rest read raw): counts add
        up, saturating at 3."""
        self.texts += texts
        self.senders |= senders
        self.t1, self.t2, self.t3 = count_up((self.t1, self.t2, self.t3), (t1, t2, t3))

    def plus(self, other: DayBits) -> None:
        self.add(other.texts, other.senders, other.t1, other.t2, other.t3)

    def into(self, talk: Talk) -> None:
        talk.add(self.texts, self.senders, self.t1, self.t2, self.t3)


@dataclass
class Numbering:
    """Senders' bits per group: the rollup's, plus bits of this read's own for senders it has not met yet."""
    reverse: dict[tuple[str, int], str] = field(default_factory=dict)  # bits whose sender is known here
    next_free: dict[str, int] = field(default_factory=dict)

    def temporary(self, group_id: str, sender_id: str, floor: int) -> int:
        bit = max(self.next_free.get(group_id, 0), floor)
        self.next_free[group_id] = bit + 1
        self.reverse[(group_id, bit)] = sender_id
        return bit


# Senders by (group, bit): the pairs go as one JSON parameter, each looked up in the (group_id, bit) index
# (one statement whatever their number, compiled once, where a list of 2 × n parameters was not).
_BY_BIT = {
    "sqlite": text(
        "SELECT s.group_id, s.sender_id, s.bit FROM json_each(:wanted) AS j JOIN activity_senders AS s"
        " ON s.group_id = json_extract(j.value, '$[0]') AND s.bit = json_extract(j.value, '$[1]')"
    ),
    "postgresql": text(
        "SELECT s.group_id, s.sender_id, s.bit FROM jsonb_array_elements(CAST(:wanted AS jsonb)) AS j(value)"
        " JOIN activity_senders AS s ON s.group_id = j.value->>0 AND s.bit = (j.value->>1)::int"
    ),
}


_BY_SENDER = {
    "sqlite": text(
        "SELECT s.group_id, s.sender_id, s.bit FROM json_each(:wanted) AS j JOIN activity_senders AS s"
        " ON s.group_id = json_extract(j.value, '$[0]') AND s.sender_id = json_extract(j.value, '$[1]')"
    ),
    "postgresql": text(
        "SELECT s.group_id, s.sender_id, s.bit FROM jsonb_array_elements(CAST(:wanted AS jsonb)) AS j(value)"
        " JOIN activity_senders AS s ON s.group_id = j.value->>0 AND s.sender_id = j.value->>1"
    ),
}


@dataclass
class _Senders:
    """Part of a group's sender numbering, both ways."""
    by_bit: dict[tuple[str, int], str] = field(default_factory=dict)
    by_sender: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, rows) -> None:
        for gid, sender, bit in rows:
            self.by_bit[(gid, bit)] = sender
            self.by_sender[(gid, sender)] = bit


class _SendersSeen:
    """The senders and bits read so far, per engine (a database). A bit never changes its sender once given
    (_numbered), so what one read looked up serves every later one: the stats name thousands of talkers at a
    time, nearly all the same as last time. Bounded: emptied when it reaches MAX pairs."""

    MAX = 100_000  # about 35 MB: both ways, ids of 20 characters or so

    def __init__(self):
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def of(self, conn: Connection) -> _Senders:
        seen = self._by_engine.get(conn.engine)
        if seen is None or len(seen.by_bit) >= self.MAX:
            seen = self._by_engine[conn.engine] = _Senders()
        return seen


_senders_seen = _SendersSeen()


def sender_ids(conn: Connection, wanted: dict[K, tuple[str, int]], numbering: Numbering) -> dict[K, list[str]]:
    """{key: sender ids} for a (group, bitmap) per key (a key per group, or per window and group): those
    not read before in this process in one statement for every key."""
    listed = {key: (gid, list(bits_of(bitmap))) for key, (gid, bitmap) in wanted.items()}
    seen = _senders_seen.of(conn)
    found = numbering.reverse
    real = sorted({(gid, bit) for gid, bits in listed.values() for bit in bits
                   if (gid, bit) not in found and (gid, bit) not in seen.by_bit})
    if real:
        seen.add(conn.execute(_BY_BIT[conn.dialect.name], {"wanted": json.dumps(real)}).all())
    return {key: [found[pair] if pair in found else seen.by_bit[pair] for pair in ((gid, bit) for bit in bits)]
            for key, (gid, bits) in listed.items()}


def sender_bits(conn: Connection, senders: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """{(group, sender): bit} of those of `senders` the rollup has numbered: those not read before in this
    process in one statement (senders not numbered yet are looked for each time)."""
    seen = _senders_seen.of(conn)
    unknown = sorted(p for p in senders if p not in seen.by_sender)
    if unknown:
        seen.add(conn.execute(_BY_SENDER[conn.dialect.name], {"wanted": json.dumps(unknown)}).all())
    return {p: seen.by_sender[p] for p in senders if p in seen.by_sender}


# ---- which days of a window are rolled up -----------------------------------------------------

def rolled_up(conn: Connection, days: list[date], tz: tzinfo) -> dict[date, datetime]:
    """{day: when it was rolled up} of the days from the first to the last of `days` rolled up in this zone."""
    if not days:
        return {}
    return dict(conn.execute(
        select(activity_rollups.c.day, activity_rollups.c.rolled_at).where(
            activity_rollups.c.day >= min(days), activity_rollups.c.day <= max(days),
            activity_rollups.c.tz == zone_name(tz),
        )
    ).all())


def rolled_days(conn: Connection, days: Iterable[date], tz: tzinfo, group_filter) -> tuple[set[date], list]:
    """The days from the first to the last of `days` that are rolled up in this time zone and hold a text of
    the groups, and their rows (group_id, day, texts, senders, talk1, talk2, talk3): one statement. A rolled-up
    day on which none of these groups wrote is not among them: the caller reads its time from the messages,
    which hold nothing of these groups then (one index probe)."""
    days = sorted(days)
    if not days:
        return set(), []
    rows = conn.execute(
        select(activity_days.c.group_id, activity_days.c.day, activity_days.c.texts, activity_days.c.senders,
               activity_days.c.talk1, activity_days.c.talk2, activity_days.c.talk3)
        .join(activity_rollups, and_(activity_rollups.c.day == activity_days.c.day,
                                     activity_rollups.c.tz == zone_name(tz)))
        .where(group_filter(activity_days.c.group_id), activity_days.c.day >= days[0], activity_days.c.day <= days[-1])
    ).all()
    return {r[1] for r in rows}, rows


@dataclass(frozen=True)
class DaysTalk:
    """Some rolled-up days added up per group. Closed days never change, so neither does this."""
    days: frozenset[date]  # those of the days that hold a text of the groups (the rest is read raw)
    talk: dict[str, Talk]  # never changed once made: add to a copy (dataclasses.replace)
    floor: dict[str, int]  # per group: the first bit their bitmaps do not use


class _DaysTalkKept:
    """DaysTalk of every known group by (time zone, rolled-up days and when each was), the MAX most recently
    used, per engine (a database). A window's whole days are the same for every read of the same window
    length all day long."""

    MAX = 16

    def __init__(self):
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, conn: Connection, key: tuple) -> DaysTalk | None:
        with self._lock:
            kept = self._by_engine.get(conn.engine)
            if kept is None or key not in kept:
                return None
            kept.move_to_end(key)
            return kept[key]

    def put(self, conn: Connection, key: tuple, value: DaysTalk) -> None:
        with self._lock:
            kept = self._by_engine.setdefault(conn.engine, OrderedDict())
            kept[key] = value
            while len(kept) > self.MAX:
                kept.popitem(last=False)


_days_talk_kept = _DaysTalkKept()


def talk_of_days(conn: Connection, each: list[list[date]], tz: tzinfo, group_filter, *, every_group: bool
                 ) -> list[DaysTalk]:
    """For each list of days, those rolled up in this time zone added up per group of `group_filter`: one
    statement for which days are rolled up, one for their rows. The sums over every known group (`every_group`:
    the admin listing's, thousands of rows) are kept by the process, and their rows read only once; a few
    groups' days cost little to read."""
    done = rolled_up(conn, sorted({d for days in each for d in days}), tz)
    # A day rolled up again (by hand, after rows were added to it: docs/stats.md) has a new rolled_at.
    keys = [(zone_name(tz), tuple(sorted((d, done[d]) for d in set(days) if d in done))) for days in each]
    out = {key: _days_talk_kept.get(conn, key) if every_group else None for key in keys}
    missing = [key for key, found in out.items() if found is None]
    if missing:
        # Only the days of the keys: a day rolled up since rolled_up() read is left to a later key.
        _, rows = rolled_days(conn, sorted({d for key in missing for d, _ in key[1]}), tz, group_filter)
        for key in missing:
            wanted, talk, floor = {d for d, _ in key[1]}, {}, {}
            for gid, day, texts, senders, t1, t2, t3 in rows:
                if day in wanted:
                    seen = from_bits(senders)
                    floor[gid] = max(floor.get(gid, 0), seen.bit_length())
                    t = talk.get(gid)
                    if t is None:
                        t = talk[gid] = Talk()
                    t.add(texts, seen, from_bits(t1), from_bits(t2), from_bits(t3))
            out[key] = DaysTalk(frozenset(r[1] for r in rows if r[1] in wanted), talk, floor)
            if every_group:
                _days_talk_kept.put(conn, key, out[key])
    return [out[key] for key in keys]


def rolled_parts(conn: Connection, wanted: list[tuple[str, datetime]], tz: tzinfo, group_filter
                 ) -> tuple[set[tuple[str, datetime]], list]:
    """Which of these (kind, edge) parts are written in this time zone, and the groups' rows of them
    (edge as epoch(), kind, group_id, texts, senders, talk1, talk2, talk3): one statement, so the parts and
    their rows are seen as of one instant (a part dropped past the horizon goes with its rows)."""
    if not wanted:
        return set(), []
    by_key = {(epoch(edge), kind): (kind, edge) for kind, edge in wanted}
    r, p = activity_part_rollups, activity_day_parts
    rows = conn.execute(
        select(r.c.edge, r.c.kind, p.c.group_id, p.c.texts, p.c.senders, p.c.talk1, p.c.talk2, p.c.talk3)
        .select_from(r.outerjoin(p, and_(p.c.edge == r.c.edge, p.c.kind == r.c.kind, group_filter(p.c.group_id))))
        .where(r.c.tz == zone_name(tz), tuple_(r.c.edge, r.c.kind).in_(list(by_key)))
    ).all()
    return {by_key[(row[0], row[1])] for row in rows}, [row for row in rows if row[2] is not None]


# ---- rolling up ------------------------------------------------------------------------------------

def _insert(conn: Connection, table):
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def known_groups(conn: Connection):
    """A filter on a group_id column: every known group. As a subquery, so both databases read each group's
    slice of a time range from a (group_id, …, time) index instead of scanning the whole history;
    PostgreSQL is given it as an array (`= ANY(ARRAY(SELECT …))`): its planner would join `IN (SELECT …)`
    by scanning the table."""
    known = select(groups.c.group_id)
    if conn.dialect.name == "postgresql":
        return lambda col: col == any_(func.array(known.scalar_subquery()))
    return lambda col: col.in_(known)


def span_index(col, ends: list, first: int = 0):
    """A SQL expression giving each value of `col` the index of its span (from `first` on), the spans being
    consecutive and `ends` the ends of all but the last (SQL values): nested CASEs split in halves, a few
    comparisons a row, not one per span."""
    def index(lo: int, hi: int):
        if lo == hi:
            return literal(first + lo)  # a parameter: a literal integer in GROUP BY would name a column
        mid = (lo + hi) // 2
        return case((col < ends[mid], index(lo, mid)), else_=index(mid + 1, hi))

    return index(0, len(ends))


def count_spans(conn: Connection, bounds: list[datetime]) -> list[tuple[int, str, str, int, int, int | None]]:
    """(span, group, sender, texts, non-command texts, the sender's bit or None) for the spans
    [bounds[i], bounds[i + 1]) of every known group. Read before the spans are claimed, outside the writing
    transaction: a closed span does not change."""
    only = known_groups(conn)
    span = span_index(_im.c.received_at, [literal(b, UTCDateTime) for b in bounds[1:-1]])
    per_sender = (
        select(span.label("span"), _im.c.group_id, _im.c.sender_id, func.count().label("n"),
               func.sum(case((_im.c.is_command.is_(False), 1), else_=0)).label("talk"))
        .where(only(_im.c.group_id), _im.c.kind == "text", _im.c.received_at >= bounds[0],
               _im.c.received_at < bounds[-1])
        .group_by(span, _im.c.group_id, _im.c.sender_id)
        .subquery()
    )
    s = activity_senders
    return [tuple(r) for r in conn.execute(
        select(per_sender.c.span, per_sender.c.group_id, per_sender.c.sender_id, per_sender.c.n, per_sender.c.talk,
               s.c.bit)
        .select_from(per_sender.outerjoin(
            s, and_(s.c.group_id == per_sender.c.group_id, s.c.sender_id == per_sender.c.sender_id)))
    )]


def count_day(conn: Connection, day: date, tz: tzinfo) -> list[tuple[int, str, str, int, int, int | None]]:
    """count_spans of one local day (span 0)."""
    return count_spans(conn, [midnight(day, tz), midnight(day + timedelta(days=1), tz)])


def count_hours(conn: Connection, starts: list[datetime], tz: tzinfo
                ) -> list[tuple[int, str, str, int, int, int | None]]:
    """count_spans of consecutive hours, span i being starts[i]: a day's closed hours, for its parts."""
    if not starts:
        return []
    return count_spans(conn, [*starts, hour_end(starts[-1], tz)])


def _lock(conn: Connection) -> None:
    """One rollup at a time across processes (SQLite has one writer anyway): sender numbers are given once."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})


def roll_up_day(conn: Connection, day: date, tz: tzinfo, now: datetime, counted: list | None = None) -> bool:
    """Roll up one closed local day for every known group, in the caller's (writing) transaction, from
    `counted` (count_day's rows, read before; read here when None). False, having written nothing, when
    it was rolled up already (by this process or another: one at a time, through PostgreSQL's advisory
    lock or SQLite's single writer, and the day's row is inserted only if absent)."""
    _lock(conn)
    claimed = conn.execute(
        _insert(conn, activity_rollups).values(day=day, tz=zone_name(tz), rolled_at=now)
        .on_conflict_do_nothing(index_elements=["day"]).returning(activity_rollups.c.day)
    ).first()
    if claimed is None:
        return False
    built = _numbered(conn, count_day(conn, day, tz) if counted is None else counted)
    if built:
        conn.execute(activity_days.insert(), [{"day": day, **_row(gid, d)} for (_, gid), d in built.items()])
    return True


def heads_from(conn: Connection, day: date, tz: tzinfo, now: datetime) -> int:
    """How many of the day's hours its newest written head holds: the next heads grow from it, so only the
    hours after it are counted (0 once the day is over: its tails need every hour)."""
    hours, closed = hours_of(day, tz), closed_hours(day, tz, now)
    if len(closed) == len(hours):
        return 0
    r = activity_part_rollups
    newest = conn.execute(
        select(func.max(r.c.edge)).where(r.c.kind == HEAD, r.c.tz == zone_name(tz),
                                         r.c.edge > epoch(hours[0]), r.c.edge <= epoch(hours[-1]))
    ).scalar()
    return 0 if newest is None else [epoch(h) for h in hours].index(newest)


def roll_up_parts(conn: Connection, day: date, tz: tzinfo, now: datetime, counted: list | None = None,
                  base: int = 0) -> int:
    """Write the day's parts not written yet, in the caller's (writing) transaction: the heads of its closed
    edges, and its tails once the day is closed, from `counted` (count_hours' rows of the day's closed hours
    from hour `base` on, read before; read here when None). With `base` (heads_from), the heads grow from the
    written head at that edge. Each part is claimed only if absent (one writer at a time, as for days), and
    only the parts this call claimed are written; returns how many."""
    _lock(conn)
    hours, closed = hours_of(day, tz), closed_hours(day, tz, now)
    if base and len(closed) == len(hours):
        raise ValueError("a day that is over is counted whole: its tails need every hour")
    wanted = _parts_due(hours, closed)
    if not wanted:
        return 0
    r = activity_part_rollups
    claimed = set(conn.execute(
        _insert(conn, r).values([{"edge": edge, "kind": kind, "tz": zone_name(tz), "rolled_at": now}
                                 for edge, kind in wanted])
        .on_conflict_do_nothing(index_elements=["edge", "kind"]).returning(r.c.edge, r.c.kind)
    ).all())
    if not claimed:
        return 0
    if counted is None:
        counted = count_hours(conn, closed[base:], tz)
    per_hour = _numbered(conn, counted)
    grown = _heads_at(conn, hours[base]) if base else {}
    rows = []

    def keep(edge: datetime, kind: str, gid: str, part: DayBits) -> None:
        if (epoch(edge), kind) in claimed and part.texts:  # an empty part has no row
            rows.append({"edge": epoch(edge), "kind": kind, **_row(gid, part)})

    for gid in {gid for _, gid in per_hour} | set(grown):
        mine = {i: per_hour.get((i - base, gid)) or DayBits() for i in range(base, len(closed))}
        head = grown.get(gid) or DayBits()  # grows forward: after hour i it is the head at edge i + 1
        for i in range(base, min(len(closed), len(hours) - 1)):
            head.plus(mine[i])
            keep(hours[i + 1], HEAD, gid, head)
        tail = DayBits()  # grows backward from the next midnight: after hour i it is the tail at edge i
        for i in range(len(closed) - 1, 0, -1) if len(closed) == len(hours) else ():
            tail.plus(mine[i])
            keep(hours[i], TAIL, gid, tail)
    if rows:
        conn.execute(activity_day_parts.insert(), rows)
    return len(claimed)


def _heads_at(conn: Connection, edge: datetime) -> dict[str, DayBits]:
    """Every group's written head at this edge."""
    p = activity_day_parts
    return {gid: DayBits(texts, from_bits(s), from_bits(t1), from_bits(t2), from_bits(t3))
            for gid, texts, s, t1, t2, t3 in conn.execute(
                select(p.c.group_id, p.c.texts, p.c.senders, p.c.talk1, p.c.talk2, p.c.talk3)
                .where(p.c.edge == epoch(edge), p.c.kind == HEAD))}


def _parts_due(hours: list[datetime], closed: list[datetime]) -> list[tuple[int, str]]:
    """(edge, kind) of the parts a day with these closed hours should have: a head at each edge after a
    closed hour, and once every hour is closed a tail at each edge (midnights are no edges)."""
    due = [(epoch(h), HEAD) for h in hours[1:len(closed) + 1]]
    if len(closed) == len(hours):
        due += [(epoch(h), TAIL) for h in hours[1:]]
    return due


def _row(gid: str, d: DayBits) -> dict:
    return {"group_id": gid, "texts": d.texts, "senders": to_bits(d.senders), "talk1": to_bits(d.t1),
            "talk2": to_bits(d.t2), "talk3": to_bits(d.t3)}


def _numbered(conn: Connection, counted: list) -> dict[tuple[int, str], DayBits]:
    """{(span, group): its bitmaps} from count_spans' rows, numbering the senders not numbered yet."""
    s = activity_senders
    # Bits never change once given, so only senders without one when counted are looked at again:
    # another process may have numbered them since (rolling up another day, or writing parts).
    unknown = sorted({(gid, sender) for _, gid, sender, _, _, bit in counted if bit is None})
    known: dict[tuple[str, str], int] = {}
    if unknown:
        known = {(gid, sender): bit for gid, sender, bit in conn.execute(
            _BY_SENDER[conn.dialect.name], {"wanted": json.dumps(unknown)})}
    new_groups = sorted({gid for gid, sender in unknown if (gid, sender) not in known})
    next_bit: dict[str, int] = {}
    for i in range(0, len(new_groups), 500):
        next_bit.update((gid, top + 1) for gid, top in conn.execute(
            select(s.c.group_id, func.max(s.c.bit)).where(s.c.group_id.in_(new_groups[i:i + 500])).group_by(s.c.group_id)
        ))
    numbered: list[dict] = []
    built: dict[tuple[int, str], DayBits] = {}
    for span, gid, sender, n, talk, bit in counted:
        if bit is None:
            bit = known.get((gid, sender))
        if bit is None:
            bit = known[(gid, sender)] = next_bit.get(gid, 0)
            next_bit[gid] = bit + 1
            numbered.append({"group_id": gid, "sender_id": sender, "bit": bit})
        built.setdefault((span, gid), DayBits()).sender(bit, n, talk)
    if numbered:
        conn.execute(s.insert(), numbered)
    return built


def days_to_roll_up(conn: Connection, now: datetime, tz: tzinfo) -> list[date]:
    """Closed days within the horizon not rolled up in this time zone, newest first."""
    last = last_closed_day(now, tz)
    first = last - timedelta(days=HORIZON_DAYS - 1)
    done = rolled_up(conn, [first, last], tz)
    return [last - timedelta(days=i) for i in range(HORIZON_DAYS) if last - timedelta(days=i) not in done]


def part_horizon(now: datetime, tz: tzinfo) -> datetime:
    """Parts of days before this are not written, and dropped."""
    return midnight(now.astimezone(tz).date() - timedelta(days=PART_HORIZON_DAYS), tz)


def days_to_part(conn: Connection, now: datetime, tz: tzinfo) -> list[date]:
    """Days within the horizon with a part due and not written (roll_up_parts), the newest first."""
    r = activity_part_rollups
    done = set(conn.execute(
        select(r.c.edge, r.c.kind).where(r.c.edge >= epoch(part_horizon(now, tz)), r.c.tz == zone_name(tz))
    ).all())
    today = now.astimezone(tz).date()
    todo = []
    for day in (today - timedelta(days=back) for back in range(PART_HORIZON_DAYS + 1)):
        if any(part not in done for part in _parts_due(hours_of(day, tz), closed_hours(day, tz, now))):
            todo.append(day)
    return todo


def parts_past_horizon(conn: Connection, now: datetime, tz: tzinfo) -> bool:
    r = activity_part_rollups
    return conn.execute(select(r.c.edge).where(r.c.edge < epoch(part_horizon(now, tz))).limit(1)).first() is not None


def forget_parts_past_horizon(conn: Connection, now: datetime, tz: tzinfo) -> None:
    horizon = epoch(part_horizon(now, tz))
    conn.execute(delete(activity_day_parts).where(activity_day_parts.c.edge < horizon))
    conn.execute(delete(activity_part_rollups).where(activity_part_rollups.c.edge < horizon))


def rolled_in_other_zones(conn: Connection, tz: tzinfo) -> bool:
    return any(
        conn.execute(select(t.c.tz).where(t.c.tz != zone_name(tz)).limit(1)).first() is not None
        for t in (activity_rollups, activity_part_rollups)
    )


def forget_other_zones(conn: Connection, tz: tzinfo) -> None:
    """Days and parts rolled up in another time zone (TUANBOT_TIMEZONE changed) are dropped, to be rolled up
    again: another zone's days, and parts cut at its midnights and hours, are not this zone's."""
    other = select(activity_rollups.c.day).where(activity_rollups.c.tz != zone_name(tz))
    conn.execute(delete(activity_days).where(activity_days.c.day.in_(other)))
    conn.execute(delete(activity_rollups).where(activity_rollups.c.tz != zone_name(tz)))
    other_parts = select(activity_part_rollups.c.edge).where(activity_part_rollups.c.tz != zone_name(tz))
    conn.execute(delete(activity_day_parts).where(activity_day_parts.c.edge.in_(other_parts)))
    conn.execute(delete(activity_part_rollups).where(activity_part_rollups.c.tz != zone_name(tz)))
