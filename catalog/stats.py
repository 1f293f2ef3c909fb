"""Group health as queries over the activity log, orders, group buys, deals and the outbox (no HTTP, no chat).

Every figure covers the window (start, end]: a row exactly `days` old belongs to the window before,
so consecutive windows split the timeline without overlap. Days (for "talked on 2 or more days" and
the per-day series) are local dates in the given time zone.

Talk (messages, active members, who talked) is read per local day: days of the window that the rollup
holds (catalog/activity.py) from activity_days, the rest (today, the first partial day, days not rolled up
yet) from a written part of the day (activity_day_parts: its head or tail) where there is one, and what is
left from inbound_messages; either way the figures are the same. Closed days and the senders' numbering
never change, so what a read learns of them each process keeps (catalog/activity.py: talk_of_days,
sender_ids, sender_bits).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer, String, and_, case, cast, distinct, func, literal, literal_column, null, or_, select,
    union_all,
)
from sqlalchemy.engine import Connection

from catalog import activity, member_totals
from catalog.activity import DayBits, Numbering, Talk, from_bits
from catalog.members import named_in, names_in
from storage.tables import MEMBER_JOINED, deals, groupbuys, groups, inbound_messages, orders, outbox
from storage.types import UTCDateTime

MAX_DAYS = 365
TOP_INVITERS = 10
MIN_TALK_MESSAGES = 3  # non-command messages in the window …
MIN_TALK_DAYS = 2  # … on at least this many local days (catalog.activity.Talk counts to exactly these two)
# Why someone counts as a contributor, in the order they are listed.
REASONS = ("invited", "groupbuy", "deal", "talked")

_im = inbound_messages


@dataclass(frozen=True)
class Window:
    start: datetime  # exclusive
    end: datetime  # inclusive

    @classmethod
    def last(cls, now: datetime, days: int) -> Window:
        return cls(now - timedelta(days=days), now)

    def before(self) -> Window:
        """The window of the same length just before this one."""
        return Window(self.start - (self.end - self.start), self.start)

    def holds(self, col):
        return and_(col > self.start, col <= self.end)


@dataclass
class GroupStats:
    group_id: str
    messages: int = 0
    active_members: int = 0
    new_members: int = 0
    top_inviters: list[dict[str, Any]] = field(default_factory=list)  # [{"user_id", "name", "invited"}]
    orders: int = 0
    buyers: int = 0
    repeat_buyers: int = 0
    gmv_fen: int = 0
    groupbuys_succeeded: int = 0
    pushes_sent: int = 0
    contributors: list[dict[str, Any]] = field(default_factory=list)  # [{"user_id", "name", "reasons": [...]}]

    @property
    def repurchase_rate(self) -> float:
        return self.repeat_buyers / self.buyers if self.buyers else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "active_members": self.active_members,
            "new_members": self.new_members,
            "top_inviters": self.top_inviters,
            "orders": self.orders,
            "buyers": self.buyers,
            "repeat_buyers": self.repeat_buyers,
            "repurchase_rate": self.repurchase_rate,
            "gmv_fen": self.gmv_fen,
            "groupbuys_succeeded": self.groupbuys_succeeded,
            "pushes_sent": self.pushes_sent,
            "contributors": self.contributors,
            "contributors_count": len(self.contributors),
        }


@dataclass(frozen=True)
class DayPoint:
    day: date  # local date
    messages: int
    active_members: int
    orders: int
    gmv_fen: int = 0  # total of the day's orders not cancelled


@dataclass(frozen=True)
class Member:
    user_id: str
    first_seen: datetime
    last_seen: datetime
    messages: int
    invited_by: str | None  # the inviter of their first member_joined
    invited: int  # distinct members who joined on their invitation
    name: str = ""  # how the member is named in the group (their id when never named)

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "name": self.name or self.user_id,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "messages": self.messages,
            "invited_by": self.invited_by,
            "invited": self.invited,
        }


# ---- the filters every figure is built from (shared by the totals and the per-day series) ----------

def _live_orders(w: Window):
    return and_(orders.c.status != "cancelled", w.holds(orders.c.created_at))


def _groups(conn: Connection, group_ids: list[str] | None):
    """A filter on a group_id column: these groups; None: every known group (activity.known_groups: one
    subquery, not a parameter per group)."""
    if group_ids is not None:
        return lambda col: col.in_(group_ids)
    return activity.known_groups(conn)


# ---- per-group figures -----------------------------------------------------------------------

def group_stats(conn: Connection, group_id: str, w: Window, tz: ZoneInfo) -> GroupStats:
    return stats_by_group(conn, w, tz, [group_id])[group_id]


def group_stats_over(conn: Connection, group_id: str, windows: list[Window], tz: ZoneInfo) -> list[GroupStats]:
    """group_stats of each window, read together: each statement covers every window at once (统计 reads
    this week and the week before with the statements of one)."""
    return [by_group[group_id] for by_group in stats_by_windows(conn, windows, tz, [group_id])]


def all_group_stats(conn: Connection, w: Window, tz: ZoneInfo) -> list[tuple[str, str | None, GroupStats]]:
    """(group_id, name, stats) for every known group, the quietest first (messages, then orders, ascending)."""
    names = dict(conn.execute(select(groups.c.group_id, groups.c.name)).all())
    stats = stats_by_group(conn, w, tz, None)
    rows = [(gid, names[gid], stats.get(gid) or GroupStats(gid)) for gid in names]
    rows.sort(key=lambda r: (r[2].messages, r[2].orders, r[0]))
    return rows


def stats_by_group(conn: Connection, w: Window, tz: ZoneInfo, group_ids: list[str] | None) -> dict[str, GroupStats]:
    """Every figure for the given groups (None: every known group with any activity): one grouped query per figure,
    whatever the number of groups. A listed group with no activity gets zeros."""
    return stats_by_windows(conn, [w], tz, group_ids)[0]


def stats_by_windows(conn: Connection, windows: list[Window], tz: ZoneInfo,
                     group_ids: list[str] | None) -> list[dict[str, GroupStats]]:
    """stats_by_group of each window, each statement grouped by window as well: as many statements for
    two windows as for one. The windows must not overlap (a row is counted in the first window holding it)."""
    ordered = sorted(windows, key=lambda w: w.start)
    if any(a.end > b.start for a, b in zip(ordered, ordered[1:])):
        raise ValueError("overlapping windows")
    out = [{gid: GroupStats(gid) for gid in group_ids or ()} for _ in windows]

    def of(key: tuple[int, str]) -> GroupStats:
        i, gid = key
        return out[i].setdefault(gid, GroupStats(gid))

    only = _groups(conn, group_ids)
    every_group = group_ids is None

    talks, talked = _talk(conn, windows, tz, only, every_group)
    for key, (n, senders) in talks.items():
        of(key).messages, of(key).active_members = n, senders

    joins, invited = _joins_in(conn, windows, only, every_group)
    for key, n in joins.items():
        of(key).new_members = n
    for key, counts in invited.items():
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_INVITERS]
        of(key).top_inviters = [{"user_id": u, "invited": n} for u, n in top]

    for key, (n, fen, buyers, repeat) in _orders_in(conn, windows, only, every_group).items():
        s = of(key)
        s.orders, s.gmv_fen, s.buyers, s.repeat_buyers = n, fen, buyers, repeat

    succeeded, sent, opened = _counts_and_openers(conn, windows, only)
    for key, n in succeeded.items():
        of(key).groupbuys_succeeded = n
    for key, n in sent.items():
        of(key).pushes_sent = n

    for key, people in _contributors(invited, opened, talked).items():
        of(key).contributors = people
    if every_group:  # joins and orders were read with no group filter: drop a group not known (rows put in by hand)
        known = set(conn.scalars(select(groups.c.group_id)))
        out = [{gid: s for gid, s in by_group.items() if gid in known} for by_group in out]
    _name_people(conn, out)
    return out


def _in_windows(windows: list[Window], col, *cols, where):
    """A subquery of `cols` and `win`, the index of the window holding `col`, over the rows `where` in any of
    the windows. Windows that follow each other are read as one range (one index range, not an OR)."""
    if len(windows) == 1:
        win = literal_column("0", Integer)
    else:
        win = case(*((w.holds(col), literal_column(str(i), Integer)) for i, w in enumerate(windows)))
    ordered = sorted(windows, key=lambda w: w.start)
    if all(a.end == b.start for a, b in zip(ordered, ordered[1:])):
        held = Window(ordered[0].start, ordered[-1].end).holds(col)
    else:
        held = or_(*(w.holds(col) for w in windows))
    return select(win.label("win"), *cols).where(held, *where).subquery()


def _name_people(conn: Connection, out: list[dict[str, GroupStats]]) -> None:
    """Each listed inviter and contributor gets `name`: how they are named in the group (else their id)."""
    listed = [(gid, p) for by_group in out for gid, s in by_group.items() for p in (*s.top_inviters, *s.contributors)]
    # A top inviter is also a contributor: each (group, person) looked up once.
    names = named_in(conn, list(dict.fromkeys((gid, p["user_id"]) for gid, p in listed)))
    for gid, p in listed:
        user = p["user_id"]
        p["name"] = names.get((gid, user)) or user


def _joins_in(conn: Connection, windows: list[Window], only, every_group: bool
              ) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], dict[str, int]]]:
    """{(window, group): member_joined events in the window} and {(window, group): {inviter: distinct members
    who joined on their invitation in the window}}, from one read of the windows' events.

    A few groups: each group's slice of the (group, kind, time) index. Every group: the window's range of
    the partial index of joins by time, whose condition the statement repeats as a literal (a parameter
    would not show the planners the index applies)."""
    joins: dict[tuple[int, str], int] = {}
    by_inviter: dict[tuple[int, str], dict[str, set[str]]] = {}
    where = ([_im.c.event == literal_column(f"'{MEMBER_JOINED}'")] if every_group
             else [only(_im.c.group_id), _im.c.kind == "event", _im.c.event == MEMBER_JOINED])
    joined = _in_windows(windows, _im.c.received_at, _im.c.group_id, _im.c.sender_id, _im.c.inviter_id, where=where)
    for i, gid, member, inviter in conn.execute(select(joined)).all():
        key = (i, gid)
        joins[key] = joins.get(key, 0) + 1
        if inviter:
            by_inviter.setdefault(key, {}).setdefault(inviter, set()).add(member)
    invited = {key: {inviter: len(people) for inviter, people in counts.items()} for key, counts in by_inviter.items()}
    return joins, invited


def _orders_in(conn: Connection, windows: list[Window], only, every_group: bool
               ) -> dict[tuple[int, str], tuple[int, int, int, int]]:
    """{(window, group): (orders, GMV in fen, buyers, buyers with 2 or more orders)} of the orders not cancelled
    created in each window: each group's slice of the (group, time) index, or, for every group, the window's
    range of the (time, …) index that holds every column read here."""
    live = _in_windows(windows, orders.c.created_at, orders.c.group_id, orders.c.user_id, orders.c.total_fen,
                       where=[orders.c.status != "cancelled", *([] if every_group else [only(orders.c.group_id)])])
    per_buyer = (
        select(live.c.win, live.c.group_id, live.c.user_id, func.count().label("n"),
               func.sum(live.c.total_fen).label("fen"))
        .group_by(live.c.win, live.c.group_id, live.c.user_id)
        .subquery()
    )
    return {
        (i, gid): (int(n), int(fen or 0), buyers, int(repeat or 0))
        for i, gid, n, fen, buyers, repeat in conn.execute(
            select(
                per_buyer.c.win,
                per_buyer.c.group_id,
                func.sum(per_buyer.c.n),
                func.sum(per_buyer.c.fen),
                func.count(),
                func.sum(case((per_buyer.c.n >= 2, 1), else_=0)),
            ).group_by(per_buyer.c.win, per_buyer.c.group_id)
        )
    }


def _counts_and_openers(conn: Connection, windows: list[Window], only):
    """{(window, group): group buys settled as succeeded}, {(window, group): pushes sent}, and
    {(window, group): {who opened a group buy or a deal: {"groupbuy", "deal"}}}: small figures, one statement."""
    settled = _in_windows(windows, groupbuys.c.settled_at, groupbuys.c.group_id,
                          where=[only(groupbuys.c.group_id), groupbuys.c.status == "succeeded"])
    pushed = _in_windows(windows, outbox.c.sent_at, outbox.c.group_id,
                         where=[only(outbox.c.group_id), outbox.c.status == "sent"])
    parts = [
        select(literal_column(f"'{what}'", String), sub.c.win, sub.c.group_id, cast(null(), String), func.count())
        .group_by(sub.c.win, sub.c.group_id)
        for what, sub in (("succeeded", settled), ("sent", pushed))
    ]
    for table, why in ((groupbuys, "groupbuy"), (deals, "deal")):
        made = _in_windows(windows, table.c.created_at, table.c.group_id, table.c.created_by,
                           where=[only(table.c.group_id)])
        parts.append(select(literal_column(f"'{why}'", String), made.c.win, made.c.group_id, made.c.created_by,
                            literal_column("0", Integer)).distinct())
    succeeded: dict[tuple[int, str], int] = {}
    sent: dict[tuple[int, str], int] = {}
    opened: dict[tuple[int, str], dict[str, set[str]]] = {}
    for what, i, gid, user, n in conn.execute(union_all(*parts)):
        if what == "succeeded":
            succeeded[(i, gid)] = n
        elif what == "sent":
            sent[(i, gid)] = n
        else:
            opened.setdefault((i, gid), {}).setdefault(user, set()).add(what)
    return succeeded, sent, opened


def _contributors(invited: dict[tuple[int, str], dict[str, int]], opened: dict[tuple[int, str], dict[str, set[str]]],
                  talked: dict[tuple[int, str], list[str]]) -> dict[tuple[int, str], list[dict[str, Any]]]:
    """Who invited someone, opened a group buy or a deal, or talked (3+ non-command messages on 2+ local days).

    Reasons are kept as bit flags (REASONS[i] is bit i) and listed from a table of every combination: the
    admin listing holds thousands of contributors, most of them with one reason."""
    flags: dict[tuple[int, str], dict[str, int]] = {}
    invited_flag, talked_flag = 1 << REASONS.index("invited"), 1 << REASONS.index("talked")
    for key, counts in invited.items():
        mine = flags.setdefault(key, {})
        for user in counts:
            mine[user] = mine.get(user, 0) | invited_flag
    for key, people in opened.items():
        mine = flags.setdefault(key, {})
        for user, whys in people.items():
            for why in whys:
                mine[user] = mine.get(user, 0) | 1 << REASONS.index(why)
    for key, users in talked.items():
        mine = flags.setdefault(key, {})
        for user in users:
            mine[user] = mine.get(user, 0) | talked_flag

    out: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for key, people in flags.items():
        if not people:
            continue
        ranked = sorted(people.items(), key=lambda uf: (-_REASON_COUNT[uf[1]], uf[0]))
        out[key] = [{"user_id": u, "reasons": list(_REASON_LISTS[f])} for u, f in ranked]
    return out


# Every combination of reasons, by its flags: the reasons in REASONS order, and how many.
_REASON_LISTS = [tuple(r for i, r in enumerate(REASONS) if f >> i & 1) for f in range(1 << len(REASONS))]
_REASON_COUNT = [len(r) for r in _REASON_LISTS]


# ---- talk: rolled-up days and the rest of the window read raw -----------------------------------------

@dataclass(frozen=True)
class _Split:
    dates: list[date]  # the window's local dates, oldest first
    rolled: frozenset[date]  # those read from the rollup: whole days inside the window, rolled up
    pieces: list[tuple[datetime, bool, datetime, bool]]  # the rest: (from, inclusive?, to, inclusive?)
    parts: frozenset[tuple[str, datetime]] = frozenset()  # (kind, edge) of the parts of days read

    def piece(self, col, p):
        lo, lo_in, hi, hi_in = p
        return and_(col >= lo if lo_in else col > lo, col <= hi if hi_in else col < hi)


def _dates(w: Window, tz: ZoneInfo) -> list[date]:
    first, last = w.start.astimezone(tz).date(), w.end.astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _whole_days(w: Window, tz: ZoneInfo) -> list[date]:
    """The window's local dates that lie wholly inside it."""
    return [d for d in _dates(w, tz)
            if activity.midnight(d, tz) > w.start and activity.midnight(d + timedelta(days=1), tz) <= w.end]


def _split(w: Window, tz: ZoneInfo, rolled: set[date], parts: set[tuple[str, datetime]] = frozenset()) -> _Split:
    """The window as its rolled-up whole days (those of `rolled`), the parts of its other days (those of
    `parts` inside it), and the pieces of time between them, read from the messages."""
    dates = _dates(w, tz)
    days = rolled.intersection(_whole_days(w, tz))
    spans = {part: _part_span(part, tz) for part in parts}
    mine = {part for part, (lo, hi) in spans.items()
            if lo > w.start and hi <= w.end and lo.astimezone(tz).date() not in days}
    covered = sorted([(activity.midnight(d, tz), activity.midnight(d + timedelta(days=1), tz)) for d in days]
                     + [spans[part] for part in mine])
    pieces = []
    lo, lo_in = w.start, False
    for start, end in covered:
        if start > lo:
            pieces.append((lo, lo_in, start, False))
        lo, lo_in = end, True
    pieces.append((lo, lo_in, w.end, True))
    return _Split(dates, frozenset(days), pieces, frozenset(mine))


def _part_span(part: tuple[str, datetime], tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The time a part holds: [midnight, edge) for a head, [edge, next midnight) for a tail."""
    kind, edge = part
    day = edge.astimezone(tz).date()
    if kind == activity.HEAD:
        return activity.midnight(day, tz), edge
    return edge, activity.midnight(day + timedelta(days=1), tz)


def _parts_for(split: _Split, tz: ZoneInfo, now: datetime) -> list[tuple[str, datetime]]:
    """The parts that would cover most of the split's pieces, at most one a day: a piece from a midnight
    to some time takes the head at the last edge before it that is closed by `now`, a piece from some time
    to a midnight the tail at the first edge after it; the rest of the piece is read raw."""
    horizon = activity.part_horizon(now, tz) + timedelta(days=1)  # clear of the job's dropping of old parts
    out = []
    for lo, lo_in, hi, _ in split.pieces:
        day = lo.astimezone(tz).date()
        while activity.midnight(day, tz) <= hi:  # the piece's stretch of each local day it crosses
            start, end = activity.midnight(day, tz), activity.midnight(day + timedelta(days=1), tz)
            edges = [h for h in activity.hours_of(day, tz)[1:] if h >= horizon]
            if lo < start or (lo == start and lo_in):  # from the day's midnight
                heads = [e for e in edges if e <= min(hi, end) and e + activity.GRACE <= now]
                if heads:
                    out.append((activity.HEAD, heads[-1]))
            elif end <= hi:  # to the next midnight
                tails = [e for e in edges if e > lo or (e == lo and lo_in)]
                if tails:
                    out.append((activity.TAIL, tails[0]))
            day += timedelta(days=1)
    return out


def _raw_texts(parts: list[tuple[int, Window, _Split]], tz: ZoneInfo, group_filter):
    """The texts of each (window index, window, split) outside its rolled-up days, with the window's index
    (`win`) and the index of their local day in it: one indexed range per piece, and a piece within one day
    (today, the window's first day) has its day as a constant."""
    selects = []
    for i, w, split in parts:
        for p in split.pieces:
            lo, lo_in, hi, hi_in = p
            first = (lo.astimezone(tz).date() - split.dates[0]).days
            last = ((hi if hi_in else hi - timedelta(microseconds=1)).astimezone(tz).date() - split.dates[0]).days
            day, _ = _local_day(_im.c.received_at, w, tz, (first, last))
            selects.append(
                select(literal_column(str(i), Integer).label("win"), _im.c.group_id, _im.c.sender_id,
                       day.label("day"), _im.c.is_command)
                .where(group_filter(_im.c.group_id), _im.c.kind == "text", split.piece(_im.c.received_at, p))
            )
    return (selects[0] if len(selects) == 1 else union_all(*selects)).subquery()


def _raw_talk(parts: list[tuple[int, Window, _Split]], tz: ZoneInfo, only):
    """The raw part of each window per (window, group, day, sender): texts and non-command texts. The raw part
    is little (the part of an hour at each end of a window), and the senders' bits are numbered in Python from
    what the process has read of the numbering (activity.sender_bits), not looked up in SQL a row at a time."""
    raw = _raw_texts(parts, tz, only)
    return (
        select(raw.c.win, raw.c.group_id, raw.c.day, raw.c.sender_id, func.count(),
               func.sum(case((raw.c.is_command.is_(False), 1), else_=0)))
        .group_by(raw.c.win, raw.c.group_id, raw.c.day, raw.c.sender_id)
    )


Key = tuple[int, str]  # (the window's index, group)


def _talk(conn: Connection, windows: list[Window], tz: ZoneInfo, only, every_group: bool
          ) -> tuple[dict[Key, tuple[int, int]], dict[Key, list[str]]]:
    """{(window, group): (texts, distinct senders)} for every group with a text in a window (`only`: a filter of
    _groups, `every_group` if it keeps every known group), and {(window, group): who talked (3+ non-command
    texts on 2+ local days)}.

    Each local day of a window is read in stretches: a whole day from the days' rollup, else a part of it
    (its head or tail) where one is written and the rest from the messages; a day's stretches add up
    (DayBits.add) before the days do. Every group's sum of whole days is kept by the process (talk_of_days)."""
    days_talk = activity.talk_of_days(conn, [_whole_days(w, tz) for w in windows], tz, only, every_group=every_group)
    by_days = [_split(w, tz, d.days) for w, d in zip(windows, days_talk)]
    # Parts only where there are days to merge them with: a window without (a day or less) costs less read
    # from the messages' aggregates than as bitmaps.
    now = max(w.end for w in windows)
    wanted = sorted({part for split in by_days if split.rolled for part in _parts_for(split, tz, now)})
    found, part_rows = activity.rolled_parts(conn, wanted, tz, only)
    splits = [_split(w, tz, days_talk[i].days, found) if by_days[i].rolled else by_days[i]
              for i, w in enumerate(windows)]
    counts: dict[Key, tuple[int, int]] = {}
    talked: dict[Key, list[str]] = {}
    for i, w in enumerate(windows):
        if not splits[i].rolled:
            c, t = _talk_from_messages(conn, w, tz, only)
            counts.update(((i, gid), v) for gid, v in c.items())
            talked.update(((i, gid), v) for gid, v in t.items())
    merged = [i for i, split in enumerate(splits) if split.rolled]
    if not merged:
        return counts, talked

    talks: dict[Key, Talk] = {(i, gid): replace(t) for i in merged for gid, t in days_talk[i].talk.items()}
    floor: dict[str, int] = {}  # per group: the first bit no bitmap read here uses
    for d in days_talk:
        for gid, f in d.floor.items():
            floor[gid] = max(floor.get(gid, 0), f)
    # Per part read (by its key in activity_day_parts): the (window, day) it counts in.
    days_of = {(activity.epoch(edge), kind): [(i, (edge.astimezone(tz).date() - splits[i].dates[0]).days)
                                              for i in merged if (kind, edge) in splits[i].parts]
               for kind, edge in found}
    stretches: dict[tuple[int, str, int], DayBits] = {}  # per (window, group, day): the day's part
    for edge, kind, gid, texts, senders, t1, t2, t3 in part_rows:
        seen = from_bits(senders)
        floor[gid] = max(floor.get(gid, 0), seen.bit_length())
        bits = (texts, seen, from_bits(t1), from_bits(t2), from_bits(t3))
        for i, d_i in days_of[(edge, kind)]:
            d = stretches.get((i, gid, d_i))
            if d is None:
                d = stretches[(i, gid, d_i)] = DayBits()
            d.add(*bits)
    raw_rows = conn.execute(_raw_talk([(i, windows[i], splits[i]) for i in merged], tz, only)).all()
    bit_of = activity.sender_bits(conn, {(gid, sender) for _, gid, _, sender, _, _ in raw_rows})
    for (gid, _), bit in bit_of.items():
        floor[gid] = max(floor.get(gid, 0), bit + 1)
    # Senders the rollup has not numbered yet get bits of this read's own, above every bit read here, and the
    # same bit in each window.
    numbering = Numbering()
    days: dict[tuple[int, str, int], DayBits] = {}  # per (window, group, day): the day's texts read raw
    for i, gid, d_i, sender, n, talk in raw_rows:
        bit = bit_of.get((gid, sender))
        if bit is None:
            bit = bit_of[(gid, sender)] = numbering.temporary(gid, sender, floor.get(gid, 0))
        d = days.get((i, gid, d_i))
        if d is None:
            d = days[(i, gid, d_i)] = DayBits()
        d.sender(bit, int(n), int(talk))
    for key, raw in days.items():
        d = stretches.get(key)
        if d is None:
            stretches[key] = raw
        else:
            d.add(raw.texts, raw.senders, raw.t1, raw.t2, raw.t3)
    for (i, gid, _), bits in stretches.items():
        bits.into(talks.setdefault((i, gid), Talk()))
    talked.update(activity.sender_ids(conn, {key: (key[1], t.talked) for key, t in talks.items() if t.talked},
                                      numbering))
    counts.update((key, (t.texts, t.senders.bit_count())) for key, t in talks.items())
    return counts, talked


def _talk_from_messages(conn: Connection, w: Window, tz: ZoneInfo, only
                        ) -> tuple[dict[str, tuple[int, int]], dict[str, list[str]]]:
    """_talk for a window with no day rolled up (a day or less, or a database not rolled up yet): aggregates
    of the messages alone, which cost less than bitmaps when there is nothing to merge them with."""
    texts = and_(only(_im.c.group_id), _im.c.kind == "text", w.holds(_im.c.received_at))
    counts = {
        gid: (n, senders) for gid, n, senders in conn.execute(
            select(_im.c.group_id, func.count(), func.count(distinct(_im.c.sender_id))).where(texts)
            .group_by(_im.c.group_id)
        )
    }
    # Local days only grow with time, so "on 2 or more days" is "first and last on different days":
    # the day is worked out twice per sender, not once per message.
    first_day, _ = _local_day(func.min(_im.c.received_at), w, tz)
    last_day, _ = _local_day(func.max(_im.c.received_at), w, tz)
    talked: dict[str, list[str]] = {}
    for gid, user in conn.execute(
        select(_im.c.group_id, _im.c.sender_id)
        .where(texts, _im.c.is_command.is_(False))
        .group_by(_im.c.group_id, _im.c.sender_id)
        .having(and_(func.count() >= MIN_TALK_MESSAGES, first_day != last_day))
    ):
        talked.setdefault(gid, []).append(user)
    return counts, talked


# ---- per local day ---------------------------------------------------------------------------------

def _local_day(col, w: Window, tz: ZoneInfo, within: tuple[int, int] | None = None):
    """A SQL expression giving each timestamp in the window the index of its local date, and those dates.
    `within`: the timestamps are known to fall on days first..last (indexes): only those are told apart.

    Local midnights are worked out here (zoneinfo knows every offset and DST change) and compared
    in SQL as UTC instants, which works the same on SQLite and PostgreSQL.
    """
    first = w.start.astimezone(tz).date()
    last = w.end.astimezone(tz).date()
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ends = [literal(activity.midnight(d + timedelta(days=1), tz), UTCDateTime) for d in dates[:-1]]
    lo, hi = within or (0, len(dates) - 1)
    return activity.span_index(col, ends[lo:hi], lo), dates


def daily_series(conn: Connection, group_id: str, w: Window, tz: ZoneInfo) -> list[DayPoint]:
    """Messages, active members and orders per local date of the window, zeros included, oldest first.

    Built from the same filters as `group_stats`, so the days add up to its `messages` and `orders`.
    """
    def this_group(col):
        return col == group_id

    rolled, day_rows = activity.rolled_days(conn, _whole_days(w, tz), tz, this_group)
    split = _split(w, tz, rolled)
    dates = split.dates
    index = {d: i for i, d in enumerate(dates)}
    talk = {
        index[day]: (texts, from_bits(senders).bit_count())
        for _, day, texts, senders, *_ in day_rows
        if day in split.rolled
    }
    raw = _raw_texts([(0, w, split)], tz, this_group)
    for i, n, senders in conn.execute(
        select(raw.c.day, func.count(), func.count(distinct(raw.c.sender_id))).group_by(raw.c.day)
    ):
        talk[i] = (n, senders)
    order_day, _ = _local_day(orders.c.created_at, w, tz)
    bought = {
        i: (n, int(gmv or 0))
        for i, n, gmv in conn.execute(
            select(order_day, func.count(), func.sum(orders.c.total_fen))
            .where(orders.c.group_id == group_id, _live_orders(w)).group_by(order_day)
        )
    }
    return [
        DayPoint(d, talk.get(i, (0, 0))[0], talk.get(i, (0, 0))[1], *bought.get(i, (0, 0)))
        for i, d in enumerate(dates)
    ]


# ---- members -----------------------------------------------------------------------------------------

def members(conn: Connection, group_id: str, *, limit: int = 100, offset: int = 0) -> list[Member]:
    """Everyone seen in the group (wrote, or joined), most recently seen first, with who invited them
    and how many they invited. All time, not a window: folded totals plus the latest messages
    (catalog.member_totals), so the cost follows the group's members, not its history."""
    seen = member_totals.seen_in(group_id).subquery()
    rows = conn.execute(
        select(seen.c.user_id, seen.c.first_seen, seen.c.last_seen, seen.c.texts)
        .order_by(seen.c.last_seen.desc(), seen.c.user_id)
        .limit(limit)
        .offset(offset)
    ).all()
    users = [r[0] for r in rows]
    invited_by: dict[str, str] = {}
    for user, inviter in conn.execute(
        select(_im.c.sender_id, _im.c.inviter_id)
        .where(_im.c.group_id == group_id, _im.c.kind == "event", _im.c.event == "member_joined",
               _im.c.sender_id.in_(users),
               _im.c.inviter_id.is_not(None), _im.c.inviter_id != "")
        .order_by(_im.c.received_at.desc(), _im.c.id.desc())
    ):
        invited_by[user] = inviter  # the earliest join wins: rows come newest first
    invited = dict(
        conn.execute(
            select(_im.c.inviter_id, func.count(distinct(_im.c.sender_id)))
            .where(_im.c.group_id == group_id, _im.c.kind == "event", _im.c.event == "member_joined",
                   _im.c.inviter_id.in_(users))
            .group_by(_im.c.inviter_id)
        ).all()
    )
    names = names_in(conn, [(group_id, u) for u in users])
    return [
        Member(user, first, last, int(n or 0), invited_by.get(user), invited.get(user, 0), names[(group_id, user)])
        for user, first, last, n in rows
    ]
