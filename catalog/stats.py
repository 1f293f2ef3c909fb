"""Group health as queries over the activity log, orders, group buys, deals and the outbox (no HTTP, no chat).

Every figure covers the window (start, end]: a row exactly `days` old belongs to the window before,
so consecutive windows split the timeline without overlap. Days (for "talked on 2 or more days" and
the per-day series) are local dates in the given time zone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, literal, select
from sqlalchemy.engine import Connection

from catalog.members import names_in
from storage.tables import deals, groupbuys, groups, inbound_messages, orders, outbox
from storage.types import UTCDateTime

MAX_DAYS = 365
TOP_INVITERS = 10
MIN_TALK_MESSAGES = 3  # non-command messages in the window …
MIN_TALK_DAYS = 2  # … on at least this many local days (_contributors relies on it being 2)
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

def _texts(w: Window):
    return and_(_im.c.kind == "text", w.holds(_im.c.received_at))


def _joins(w: Window):
    return and_(_im.c.kind == "event", _im.c.event == "member_joined", w.holds(_im.c.received_at))


def _live_orders(w: Window):
    return and_(orders.c.status != "cancelled", w.holds(orders.c.created_at))


def _only(col, group_ids: list[str] | None):
    """These groups; None: every known group. Naming the groups (a subquery, not a parameter per group)
    lets both databases read each group's slice of the window from a (group_id, …, time) index instead
    of scanning the whole history."""
    return col.in_(group_ids) if group_ids is not None else col.in_(select(groups.c.group_id))


# ---- per-group figures -----------------------------------------------------------------------

def group_stats(conn: Connection, group_id: str, w: Window, tz: ZoneInfo) -> GroupStats:
    return stats_by_group(conn, w, tz, [group_id])[group_id]


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
    out = {gid: GroupStats(gid) for gid in group_ids or ()}

    def of(gid: str) -> GroupStats:
        return out.setdefault(gid, GroupStats(gid))

    for gid, n, senders in conn.execute(
        select(_im.c.group_id, func.count(), func.count(distinct(_im.c.sender_id)))
        .where(_only(_im.c.group_id, group_ids), _texts(w))
        .group_by(_im.c.group_id)
    ):
        of(gid).messages, of(gid).active_members = n, senders

    for gid, n in conn.execute(
        select(_im.c.group_id, func.count()).where(_only(_im.c.group_id, group_ids), _joins(w)).group_by(_im.c.group_id)
    ):
        of(gid).new_members = n

    invited = _invited_in(conn, w, group_ids)
    for gid, counts in invited.items():
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_INVITERS]
        of(gid).top_inviters = [{"user_id": u, "invited": n} for u, n in top]

    per_buyer = (
        select(orders.c.group_id, orders.c.user_id, func.count().label("n"), func.sum(orders.c.total_fen).label("fen"))
        .where(_only(orders.c.group_id, group_ids), _live_orders(w))
        .group_by(orders.c.group_id, orders.c.user_id)
        .subquery()
    )
    for gid, n, fen, buyers, repeat in conn.execute(
        select(
            per_buyer.c.group_id,
            func.sum(per_buyer.c.n),
            func.sum(per_buyer.c.fen),
            func.count(),
            func.sum(case((per_buyer.c.n >= 2, 1), else_=0)),
        ).group_by(per_buyer.c.group_id)
    ):
        s = of(gid)
        s.orders, s.gmv_fen, s.buyers, s.repeat_buyers = int(n), int(fen or 0), buyers, int(repeat or 0)

    for gid, n in conn.execute(
        select(groupbuys.c.group_id, func.count())
        .where(_only(groupbuys.c.group_id, group_ids), groupbuys.c.status == "succeeded", w.holds(groupbuys.c.settled_at))
        .group_by(groupbuys.c.group_id)
    ):
        of(gid).groupbuys_succeeded = n

    for gid, n in conn.execute(
        select(outbox.c.group_id, func.count())
        .where(_only(outbox.c.group_id, group_ids), outbox.c.status == "sent", w.holds(outbox.c.sent_at))
        .group_by(outbox.c.group_id)
    ):
        of(gid).pushes_sent = n

    for gid, people in _contributors(conn, w, tz, group_ids, invited).items():
        of(gid).contributors = people
    _name_people(conn, out)
    return out


def _name_people(conn: Connection, out: dict[str, GroupStats]) -> None:
    """Each listed inviter and contributor gets `name`: how they are named in the group (else their id)."""
    listed = [(gid, p) for gid, s in out.items() for p in (*s.top_inviters, *s.contributors)]
    names = names_in(conn, [(gid, p["user_id"]) for gid, p in listed])
    for gid, p in listed:
        p["name"] = names[(gid, p["user_id"])]


def _invited_in(conn: Connection, w: Window, group_ids: list[str] | None) -> dict[str, dict[str, int]]:
    """{group: {inviter: distinct members who joined on their invitation in the window}}."""
    out: dict[str, dict[str, int]] = {}
    for gid, inviter, n in conn.execute(
        select(_im.c.group_id, _im.c.inviter_id, func.count(distinct(_im.c.sender_id)))
        .where(_only(_im.c.group_id, group_ids), _joins(w), _im.c.inviter_id.is_not(None), _im.c.inviter_id != "")
        .group_by(_im.c.group_id, _im.c.inviter_id)
    ):
        out.setdefault(gid, {})[inviter] = n
    return out


def _contributors(conn: Connection, w: Window, tz: ZoneInfo, group_ids: list[str] | None,
                  invited: dict[str, dict[str, int]]) -> dict[str, list[dict[str, Any]]]:
    """Who invited someone, opened a group buy or a deal, or talked (3+ non-command messages on 2+ local days)."""
    reasons: dict[str, dict[str, set[str]]] = {}

    def add(gid: str, user: str, why: str) -> None:
        reasons.setdefault(gid, {}).setdefault(user, set()).add(why)

    for gid, counts in invited.items():
        for user in counts:
            add(gid, user, "invited")
    for table, why in ((groupbuys, "groupbuy"), (deals, "deal")):
        for gid, user in conn.execute(
            select(table.c.group_id, table.c.created_by).distinct()
            .where(_only(table.c.group_id, group_ids), w.holds(table.c.created_at))
        ):
            add(gid, user, why)
    # Local days only grow with time, so "on 2 or more days" is "first and last on different days":
    # the day is worked out twice per sender, not once per message.
    first_day, _ = _local_day(func.min(_im.c.received_at), w, tz)
    last_day, _ = _local_day(func.max(_im.c.received_at), w, tz)
    for gid, user in conn.execute(
        select(_im.c.group_id, _im.c.sender_id)
        .where(_only(_im.c.group_id, group_ids), _texts(w), _im.c.is_command.is_(False))
        .group_by(_im.c.group_id, _im.c.sender_id)
        .having(and_(func.count() >= MIN_TALK_MESSAGES, first_day != last_day))
    ):
        add(gid, user, "talked")

    out: dict[str, list[dict[str, Any]]] = {}
    for gid, people in reasons.items():
        listed = [{"user_id": u, "reasons": [r for r in REASONS if r in why]} for u, why in people.items()]
        listed.sort(key=lambda c: (-len(c["reasons"]), c["user_id"]))
        out[gid] = listed
    return out


# ---- per local day ---------------------------------------------------------------------------------

def _local_day(col, w: Window, tz: ZoneInfo):
    """A SQL expression giving each timestamp in the window the index of its local date, and those dates.

    Local midnights are worked out here (zoneinfo knows every offset and DST change) and compared
    in SQL as UTC instants, which works the same on SQLite and PostgreSQL.
    """
    first = w.start.astimezone(tz).date()
    last = w.end.astimezone(tz).date()
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ends = [literal(datetime.combine(d + timedelta(days=1), time(), tz), UTCDateTime) for d in dates[:-1]]

    def index(lo: int, hi: int):
        """Day lo..hi as nested CASEs split in halves: a few comparisons a row, not one per day."""
        if lo == hi:
            return literal(lo)
        mid = (lo + hi) // 2
        return case((col < ends[mid], index(lo, mid)), else_=index(mid + 1, hi))

    return index(0, len(dates) - 1), dates


def daily_series(conn: Connection, group_id: str, w: Window, tz: ZoneInfo) -> list[DayPoint]:
    """Messages, active members and orders per local date of the window, zeros included, oldest first.

    Built from the same filters as `group_stats`, so the days add up to its `messages` and `orders`.
    """
    day, dates = _local_day(_im.c.received_at, w, tz)
    talk = {
        i: (n, senders)
        for i, n, senders in conn.execute(
            select(day, func.count(), func.count(distinct(_im.c.sender_id)))
            .where(_im.c.group_id == group_id, _texts(w))
            .group_by(day)
        )
    }
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
    and how many they invited. All time, not a window."""
    rows = conn.execute(
        select(
            _im.c.sender_id,
            func.min(_im.c.received_at),
            func.max(_im.c.received_at),
            func.sum(case((_im.c.kind == "text", 1), else_=0)),
        )
        .where(_im.c.group_id == group_id, (_im.c.kind == "text") | (_im.c.event == "member_joined"))
        .group_by(_im.c.sender_id)
        .order_by(func.max(_im.c.received_at).desc(), _im.c.sender_id)
        .limit(limit)
        .offset(offset)
    ).all()
    users = [r[0] for r in rows]
    invited_by: dict[str, str] = {}
    for user, inviter in conn.execute(
        select(_im.c.sender_id, _im.c.inviter_id)
        .where(_im.c.group_id == group_id, _im.c.event == "member_joined", _im.c.sender_id.in_(users),
               _im.c.inviter_id.is_not(None), _im.c.inviter_id != "")
        .order_by(_im.c.received_at.desc(), _im.c.id.desc())
    ):
        invited_by[user] = inviter  # the earliest join wins: rows come newest first
    invited = dict(
        conn.execute(
            select(_im.c.inviter_id, func.count(distinct(_im.c.sender_id)))
            .where(_im.c.group_id == group_id, _im.c.event == "member_joined", _im.c.inviter_id.in_(users))
            .group_by(_im.c.inviter_id)
        ).all()
    )
    names = names_in(conn, [(group_id, u) for u in users])
    return [
        Member(user, first, last, int(n or 0), invited_by.get(user), invited.get(user, 0), names[(group_id, user)])
        for user, first, last, n in rows
    ]
