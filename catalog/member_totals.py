"""Everyone seen in a group, folded: per member, when first and last seen and how many texts, so the
member list costs what the group's members and its latest messages cost, not its whole history.

A scheduler job (bot.jobs.fold_member_totals) folds inbound_messages into member_totals an hour at a time,
oldest first, and moves member_totals_mark.through to the end of what it folded. It never folds the last
GRACE: nothing writes a message dated in the past (the dispatcher stamps each with its clock as it records
it), and GRACE is the time a message may take to commit after that. The member list reads member_totals and
the messages from `through` on, in one statement, so it is the same whatever has been folded.

One fold at a time, in any number of processes: a fold claims its step by moving the mark from where it
read it (a compare-and-set in the writing transaction); a second process finds the mark moved and writes
nothing. Like the talk rollup it costs no statement a message.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Integer, func, literal, literal_column, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from catalog.activity import GRACE, known_groups
from storage.tables import inbound_messages, member_totals, member_totals_mark
from storage.types import UTCDateTime

STEP = timedelta(hours=1)  # the messages one fold reads at most: its writing transaction stays short
STEPS_PER_RUN = 48  # folds one run of the job makes at most

_im = inbound_messages
# What makes a member seen: (kind, texts it counts, further conditions), each a range of the index.
_KINDS = (("text", 1, []), ("event", 0, [_im.c.event == "member_joined"]))
_BEFORE_ALL = datetime(1970, 1, 1, tzinfo=timezone.utc)  # the mark before the first fold


def _mark(conn: Connection) -> datetime | None:
    return conn.execute(select(member_totals_mark.c.through).where(member_totals_mark.c.id == 1)).scalar()


def _first_message_at(conn: Connection) -> datetime | None:
    # The oldest message at all (asked once, before the first fold): no index on time alone, one scan.
    return conn.execute(select(func.min(_im.c.received_at))).scalar()


def next_step(conn: Connection, now: datetime) -> tuple[datetime | None, datetime] | None:
    """(from, to) of the next fold, `from` None for the first one, or None when there is nothing to fold."""
    through = _mark(conn)
    start = through if through is not None else _first_message_at(conn)
    if start is None:
        return None
    end = min(start + STEP, now - GRACE)
    if end <= start:
        return None
    return through, end  # the first fold (from None) takes everything before `end`, the oldest message included


def _seen(*where):
    """A subquery (group_id, sender_id, received_at, texts) of the messages `where` that make a member seen:
    texts (counting 1) and member_joined events (0), each read as a range of the (group, kind, time) index,
    so a step or a group's latest messages are read without the rest of history."""
    return union_all(*(
        select(_im.c.group_id, _im.c.sender_id, _im.c.received_at, literal_column(str(texts), Integer).label("texts"))
        .where(_im.c.kind == kind, *which, *where)
        for kind, texts, which in _KINDS
    )).subquery()


def count_step(conn: Connection, lo: datetime | None, hi: datetime) -> list[tuple[str, str, datetime, datetime, int]]:
    """(group, member, first seen, last seen, texts) over the messages received in [lo, hi) (lo None: all
    before hi) of every known group: read before the fold claims its step, outside its writing transaction."""
    when = [_im.c.received_at < hi] + ([_im.c.received_at >= lo] if lo is not None else [])
    seen = _seen(known_groups(conn)(_im.c.group_id), *when)
    return [tuple(r) for r in conn.execute(
        select(seen.c.group_id, seen.c.sender_id, func.min(seen.c.received_at), func.max(seen.c.received_at),
               func.sum(seen.c.texts))
        .group_by(seen.c.group_id, seen.c.sender_id)
    )]


def fold(conn: Connection, lo: datetime | None, hi: datetime, counted: list[tuple]) -> bool:
    """Add `counted` (count_step's rows for [lo, hi)) into member_totals and move the mark to `hi`, in the
    caller's writing transaction. False, having written nothing, when the mark is no longer `lo` (another
    process folded this step)."""
    claimed = conn.execute(
        update(member_totals_mark)
        .where(member_totals_mark.c.id == 1, member_totals_mark.c.through.is_not_distinct_from(lo))
        .values(through=hi)
    ).rowcount
    if claimed != 1:
        return False
    if counted:
        insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(member_totals)
        # Folds go forward in time: a member already there keeps their first_seen, and this step's last
        # message is later than any before it.
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=["group_id", "user_id"],
                set_={"last_seen": insert.excluded.last_seen,
                      "texts": member_totals.c.texts + insert.excluded.texts},
            ),
            [{"group_id": g, "user_id": u, "first_seen": first, "last_seen": last, "texts": int(n)}
             for g, u, first, last, n in counted],
        )
    return True


def seen_in(group_id: str):
    """A select of (user_id, first_seen, last_seen, texts) for everyone seen in the group, all time: their
    folded totals and the messages from the mark on, read together (one snapshot, one statement)."""
    mark = select(member_totals_mark.c.through).where(member_totals_mark.c.id == 1).scalar_subquery()
    recent = _seen(_im.c.group_id == group_id,
                   _im.c.received_at >= func.coalesce(mark, literal(_BEFORE_ALL, UTCDateTime())))
    both = union_all(
        select(member_totals.c.user_id, member_totals.c.first_seen, member_totals.c.last_seen,
               member_totals.c.texts).where(member_totals.c.group_id == group_id),
        select(recent.c.sender_id, recent.c.received_at, recent.c.received_at, recent.c.texts),
    ).subquery()
    user, first, last, texts = (both.c[i] for i in range(4))
    return (
        select(user.label("user_id"), func.min(first).label("first_seen"), func.max(last).label("last_seen"),
               func.sum(texts).label("texts"))
        .group_by(user)
    )
