"""Scheduled pushes: one-off, daily and cron content for a group, and turning due ones into outbox rows once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from storage.outbox import enqueue
from storage.tables import pushes

MAX_TEXT = 2000


@dataclass
class Push:
    id: int
    group_id: str
    text: str
    kind: str  # once | daily | cron
    cron: str | None
    next_run_at: datetime | None
    created_by: str | None
    created_at: datetime
    last_run_at: datetime | None

    @property
    def daily_time(self) -> str | None:
        """`09:00` for a daily push."""
        if self.kind != "daily" or not self.cron:
            return None
        minute, hour = self.cron.split()[:2]
        return f"{int(hour):02d}:{int(minute):02d}"

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "group_id": self.group_id,
            "text": self.text,
            "kind": self.kind,
            "cron": self.cron,
            "next_run_at": self.next_run_at.isoformat() if self.next_run_at else None,
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }


_COLUMNS = (
    pushes.c.id, pushes.c.group_id, pushes.c.text, pushes.c.kind, pushes.c.cron, pushes.c.next_run_at,
    pushes.c.created_by, pushes.c.created_at, pushes.c.last_run_at,
)


def cron_trigger(expr: str, tz: tzinfo) -> CronTrigger:
    """A five-field crontab expression in tz; ValueError when it is not one."""
    return CronTrigger.from_crontab(expr, timezone=tz)


def next_fire(expr: str, tz: tzinfo, after: datetime) -> datetime | None:
    """The first time the cron expression fires strictly after `after` (aware UTC), or None if never."""
    nxt = cron_trigger(expr, tz).get_next_fire_time(None, after + timedelta(microseconds=1))
    return None if nxt is None else nxt.astimezone(after.tzinfo)


def daily_cron(hour: int, minute: int) -> str:
    return f"{minute} {hour} * * *"


def create_push(conn: Connection, group_id: str, text: str, *, now: datetime, tz: tzinfo,
                at: datetime | None = None, cron: str | None = None, daily: tuple[int, int] | None = None,
                created_by: str | None = None) -> Push:
    """Exactly one of: `at` (once), `daily` ((hour, minute) local) or `cron` (an expression, validated)."""
    if sum(x is not None for x in (at, cron, daily)) != 1:
        raise ValueError("give exactly one of at, cron, daily")
    if at is not None:
        kind, expr, next_run = "once", None, at
    else:
        kind, expr = ("daily", daily_cron(*daily)) if daily is not None else ("cron", cron.strip())
        next_run = next_fire(expr, tz, now)
        if next_run is None:
            raise ValueError("the cron expression never fires")
    push_id = conn.execute(
        pushes.insert().values(
            group_id=group_id, text=text, kind=kind, cron=expr, next_run_at=next_run, active=True,
            created_by=created_by, created_at=now,
        )
    ).inserted_primary_key[0]
    return get_push(conn, group_id, push_id)


def get_push(conn: Connection, group_id: str, push_id: int) -> Push | None:
    row = conn.execute(
        select(*_COLUMNS).where(pushes.c.id == push_id, pushes.c.group_id == group_id, pushes.c.active.is_(True))
    ).first()
    return None if row is None else Push(*row)


def list_pushes(conn: Connection, group_id: str) -> list[Push]:
    """The group's scheduled pushes still to come, soonest first."""
    rows = conn.execute(
        select(*_COLUMNS)
        .where(pushes.c.group_id == group_id, pushes.c.active.is_(True))
        .order_by(pushes.c.next_run_at, pushes.c.id)
    )
    return [Push(*r) for r in rows]


def delete_push(conn: Connection, group_id: str, push_id: int) -> bool:
    """Stop a push (kept as inactive for the record); False when the group has no such active push."""
    return conn.execute(
        update(pushes)
        .where(pushes.c.id == push_id, pushes.c.group_id == group_id, pushes.c.active.is_(True))
        .values(active=False)
    ).rowcount == 1


def run_due_pushes(conn: Connection, now: datetime, tz: tzinfo, limit: int = 500) -> int:
    """Put every push due at `now` into the outbox once and move it to its next run; returns how many.

    Each push is claimed by a conditional UPDATE on its `next_run_at` (and skipped while another
    process holds it, on PostgreSQL), in the same transaction as its outbox row: a due run is
    enqueued exactly once however many processes run this. A run missed while nothing was running
    is sent once, and the next one is counted from now (no burst of catch-up copies).
    """
    query = (
        select(pushes.c.id, pushes.c.group_id, pushes.c.text, pushes.c.kind, pushes.c.cron, pushes.c.next_run_at)
        .where(pushes.c.active.is_(True), pushes.c.next_run_at <= now)
        .order_by(pushes.c.next_run_at, pushes.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    done = 0
    for row in conn.execute(query).all():
        following = None if row.kind == "once" else next_fire(row.cron, tz, max(now, row.next_run_at))
        claimed = conn.execute(
            update(pushes)
            .where(pushes.c.id == row.id, pushes.c.active.is_(True), pushes.c.next_run_at == row.next_run_at)
            .values(next_run_at=following, last_run_at=now, active=following is not None)
        ).rowcount == 1
        if claimed:
            enqueue(conn, row.group_id, row.text, now, source=f"push:{row.id}")
            done += 1
    return done
