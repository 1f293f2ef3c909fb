"""The outbox: every message to a group is a row written in the same transaction as its cause;
dispatchers claim due rows under a lease, within each target's send budget, and mark the outcome."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.tables import groups, outbox, target_rates
from storage.webchat import record_pushes

RATE_PER_WINDOW = 20  # messages per target …
RATE_WINDOW = timedelta(minutes=1)  # … per window
NO_TARGET_RECHECK = timedelta(minutes=1)  # a group without a push target is looked at again this often
NO_TARGET = "no push target"  # last_error of a row held because its group has none
# WeCom's group robot takes markdown of at most 4,096 bytes of UTF-8 (its documented limit) and refuses a
# longer one on every retry: a longer message is queued as several, for every kind of target, so a group
# reads the same parts whatever its target.
MAX_MESSAGE_BYTES = 4096


@dataclass(frozen=True)
class Claimed:
    """One outbox row this process holds a lease on, with where it goes."""

    id: int
    group_id: str
    delivery_id: str
    text: str
    attempts: int  # tries before this one
    target: dict[str, Any]
    lease_until: datetime


def enqueue(conn: Connection, group_id: str, text: str, now: datetime, source: str | None = None) -> str:
    """Queue a message for a group; returns its delivery_id (the same on every retry). A text longer than
    MAX_MESSAGE_BYTES is queued as several rows, one per part (split_message), in order: each is a message
    of its own to the receiver (its own delivery_id and share of the target's budget); the first part's
    delivery_id is returned."""
    ids = []
    for part in split_message(text):  # one row at a time: ids, and so the send order, follow the parts
        ids.append(uuid.uuid4().hex)
        conn.execute(
            outbox.insert().values(
                group_id=group_id,
                delivery_id=ids[-1],
                text=part,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                source=source,
                created_at=now,
            )
        )
    return ids[0]


def split_message(text: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """The text as parts of at most `limit` UTF-8 bytes, cut between lines (the newline at a cut is
    dropped); a line longer than `limit` is cut between characters. Parts holding only whitespace are
    left out (a text of nothing else gives its first part). A text that fits is returned whole. `limit`
    must hold the longest UTF-8 character (4 bytes)."""
    if _size(text) <= limit:
        return [text]
    parts: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        joined = line if current is None else f"{current}\n{line}"
        if _size(joined) <= limit:
            current = joined
            continue
        if current is not None:
            parts.append(current)
        while _size(line) > limit:
            head = line.encode()[:limit].decode("utf-8", "ignore")  # "ignore" drops a character cut in two
            parts.append(head)
            line = line[len(head):]
        current = line
    parts.append(current)
    return [p for p in parts if p.strip()] or parts[:1]


def _size(text: str) -> int:
    return len(text.encode())


def withdraw(conn: Connection, source: str, now: datetime, why: str) -> int:
    """Mark this source's messages that have not gone out `dead` with `why`, so they never will
    (a reminder whose group buy has closed while quiet hours held it). A row some dispatcher holds
    a lease on is mid-send and left alone. Returns how many were withdrawn."""
    return conn.execute(
        update(outbox)
        .where(outbox.c.source == source, outbox.c.status == "pending", _free(now))
        .values(status="dead", last_error=why, claimed_until=None)
    ).rowcount


def _free(now: datetime):
    return or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now)


@dataclass
class Batch:
    claimed: list[Claimed]
    looked_at: int  # due rows seen; 0: nothing is due now
    recorded: int = 0  # rows for a "web" target, delivered inside the claim (recorded for the group's page)
    unrouted: list[tuple[int, str]] = field(default_factory=list)  # (id, group) first found with no push target


def claim_due(conn: Connection, now: datetime, lease_until: datetime, limit: int = 100) -> Batch:
    """Lease up to `limit` due pending rows to the caller until `lease_until`.

    Rows of a target whose budget is spent get `next_attempt_at` moved to when it frees up (not a try),
    rows of a group without a push target are looked at again in a minute (held, not a try), so neither
    crowds out the rows that can go now. On PostgreSQL rows another claimer holds are skipped (SKIP LOCKED);
    on SQLite the write transaction is already exclusive.
    """
    query = (
        select(outbox.c.id, outbox.c.group_id, outbox.c.delivery_id, outbox.c.text, outbox.c.attempts, groups.c.push_target,
               outbox.c.last_error)
        .select_from(outbox.outerjoin(groups, groups.c.group_id == outbox.c.group_id))
        .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now, _free(now))
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=outbox)
    rows = conn.execute(query).all()

    by_target: dict[str, list] = {}
    held: list = []
    web: list = []
    for row in rows:
        target = row.push_target
        if isinstance(target, dict) and target.get("url") and target.get("kind") in ("bridge", "wecom_robot"):
            by_target.setdefault(target["url"], []).append(row)
        elif isinstance(target, dict) and target.get("kind") == "web":
            web.append(row)
        else:
            held.append(row)
    if held:  # the reason shows in the admin outbox; not a try, so attempts stay as they are
        conn.execute(update(outbox).where(outbox.c.id.in_([r.id for r in held]))
                     .values(next_attempt_at=now + NO_TARGET_RECHECK, last_error=NO_TARGET))

    claimed: list[Claimed] = []
    for url in sorted(by_target):  # one lock order for target rows: no deadlock between claimers
        waiting = by_target[url]
        granted, free_at = take_budget(conn, url, len(waiting), now)
        go, later = waiting[:granted], waiting[granted:]
        if later:
            conn.execute(update(outbox).where(outbox.c.id.in_([r.id for r in later])).values(next_attempt_at=free_at))
        if not go:
            continue
        got = set(conn.execute(
            update(outbox)
            .where(outbox.c.id.in_([r.id for r in go]), outbox.c.status == "pending", _free(now))
            .values(claimed_until=lease_until)
            .returning(outbox.c.id)
        ).scalars())
        claimed += [
            Claimed(r.id, r.group_id, r.delivery_id, r.text, r.attempts, dict(r.push_target), lease_until)
            for r in go if r.id in got
        ]
    recorded = _deliver_to_web(conn, web, now) if web else 0
    unrouted = [(r.id, r.group_id) for r in held if r.last_error != NO_TARGET]
    return Batch(claimed, len(rows), recorded, unrouted)


def _deliver_to_web(conn: Connection, rows: list, now: datetime) -> int:
    """A "web" target is the group's /chat page: recording the message for it is the delivery, so it
    happens here, in the transaction that holds the rows (locked on PostgreSQL, the one writer on
    SQLite), together with marking them sent: both commit or neither, and a message shows once.
    No send budget: nothing leaves the database."""
    record_pushes(conn, [(r.group_id, r.delivery_id, r.text) for r in rows], now)
    return conn.execute(
        update(outbox)
        .where(outbox.c.id.in_([r.id for r in rows]), outbox.c.status == "pending", _free(now))
        .values(status="sent", attempts=outbox.c.attempts + 1, sent_at=now, claimed_until=None, last_error=None)
    ).rowcount


def take_budget(conn: Connection, target: str, want: int, now: datetime) -> tuple[int, datetime]:
    """Take up to `want` sends from a target's budget (RATE_PER_WINDOW per RATE_WINDOW, shared by every
    process through its row, read under a row lock); returns (granted, when more budget frees up).
    A window opens at the first send after the previous one has ended."""
    ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(target_rates)
    conn.execute(
        ins.values(target=target, window_start=now, sent_in_window=0).on_conflict_do_nothing(index_elements=["target"])
    )
    q = select(target_rates.c.window_start, target_rates.c.sent_in_window, target_rates.c.blocked_until).where(
        target_rates.c.target == target
    )
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    start, used, blocked_until = conn.execute(q).one()
    if blocked_until is not None and blocked_until > now:
        return 0, blocked_until
    if now >= start + RATE_WINDOW:
        start, used = now, 0
    granted = max(0, min(want, RATE_PER_WINDOW - used))
    conn.execute(
        update(target_rates)
        .where(target_rates.c.target == target)
        .values(window_start=start, sent_in_window=used + granted, blocked_until=None)
    )
    return granted, start + RATE_WINDOW


def block_target(conn: Connection, target: str, until: datetime) -> None:
    """The receiver said it is rate-limited: nothing goes to it before `until`."""
    conn.execute(
        update(target_rates)
        .where(target_rates.c.target == target, or_(target_rates.c.blocked_until.is_(None), target_rates.c.blocked_until < until))
        .values(blocked_until=until)
    )


def _held(row_id: int, lease_until: datetime):
    return and_(outbox.c.id == row_id, outbox.c.status == "pending", outbox.c.claimed_until == lease_until)


def mark_sent(conn: Connection, row: Claimed, now: datetime) -> bool:
    """Delivered. False when the lease was lost (the row is someone else's now)."""
    return conn.execute(
        update(outbox)
        .where(_held(row.id, row.lease_until))
        .values(status="sent", attempts=outbox.c.attempts + 1, sent_at=now, claimed_until=None, last_error=None)
    ).rowcount == 1


def mark_retry(conn: Connection, row: Claimed, error: str, next_attempt_at: datetime) -> bool:
    """A try that did not deliver; the row goes again at `next_attempt_at`."""
    return conn.execute(
        update(outbox)
        .where(_held(row.id, row.lease_until))
        .values(attempts=outbox.c.attempts + 1, next_attempt_at=next_attempt_at, claimed_until=None, last_error=error[:1000])
    ).rowcount == 1


def mark_dead(conn: Connection, row: Claimed, error: str) -> bool:
    """Retried long enough: given up on, with the last error."""
    return conn.execute(
        update(outbox)
        .where(_held(row.id, row.lease_until))
        .values(status="dead", attempts=outbox.c.attempts + 1, claimed_until=None, last_error=error[:1000])
    ).rowcount == 1


def release(conn: Connection, row: Claimed) -> bool:
    """Give a claimed row back untried (the process is stopping, or its lease is too short to send)."""
    return conn.execute(update(outbox).where(_held(row.id, row.lease_until)).values(claimed_until=None)).rowcount == 1


def list_outbox(conn: Connection, *, status: str | None = None, group_id: str | None = None,
                limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    q = select(
        outbox.c.id, outbox.c.group_id, outbox.c.delivery_id, outbox.c.text, outbox.c.status, outbox.c.attempts,
        outbox.c.last_error, outbox.c.source, outbox.c.created_at, outbox.c.next_attempt_at, outbox.c.sent_at,
    )
    if status:
        q = q.where(outbox.c.status == status)
    if group_id:
        q = q.where(outbox.c.group_id == group_id)
    rows = conn.execute(q.order_by(outbox.c.id.desc()).limit(limit).offset(offset)).mappings()
    return [dict(r) for r in rows]


def status_counts(conn: Connection) -> dict[str, int]:
    """How many outbox rows are in each status (for /metrics)."""
    return dict(conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all())
