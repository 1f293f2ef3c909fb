"""The scheduler's jobs: module-level functions of (db, clock, plain options); each claims its own due rows,
so any number of processes may run them at once and each piece of work happens once.

Quiet hours hold sending, not enqueueing: the outbox dispatcher sends nothing while the local hour is
inside `quiet`, and everything due waits for the end. Nudges and deadline reminders are not even
written then (a nudge or a "1 hour left" that waits until morning would be stale)."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Callable

import httpx

from bot import delivery
from catalog import activity, content, member_totals, pushes, reminders
from catalog.groupbuys import due_groupbuys, get_groupbuy
from handlers.announcements import remind, settle_groupbuy
from storage.db import Database
from storage.outbox import Claimed, block_target, claim_due, enqueue, mark_dead, mark_retry, mark_sent, release

log = logging.getLogger("tuanbot.jobs")

Clock = Callable[[], datetime]
LEASE = timedelta(seconds=60)  # a claimed row is this process's for this long (at least 2 × WORST_SEND_SECONDS)
BATCH = 50
MAX_BATCHES = 200  # per tick, so one tick cannot run forever
SEND_WORKERS = 16


def in_quiet_hours(now: datetime, quiet: tuple[int, int] | None, tz: tzinfo) -> bool:
    """Whether `now` falls in the local hours [START, END) (wrapping midnight when START > END)."""
    if quiet is None:
        return False
    start, end = quiet
    hour = now.astimezone(tz).hour
    return start <= hour < end if start < end else hour >= start or hour < end


# ---- group buys -------------------------------------------------------------------------------


def settle_due_groupbuys(db: Database, clock: Clock) -> int:
    """Settle every open group buy whose deadline has passed, once, and queue its announcement to the group."""
    settled = 0
    while True:
        now = clock()
        with db.read() as conn:
            due = due_groupbuys(conn, now, limit=50)
        for gb_id in due:
            with db.begin() as conn:
                gb = get_groupbuy(conn, gb_id)
                text = settle_groupbuy(conn, gb_id, now)
                if text is not None:
                    delivery_id = enqueue(conn, gb.group_id, text, now, source=f"groupbuy:{gb_id}")
                    settled += 1
                    outcome = get_groupbuy(conn, gb_id).status  # succeeded | failed
            if text is not None:  # logged once committed
                log.info("group buy settled", extra={"group": gb.group_id, "groupbuy": gb_id, "outcome": outcome,
                                                     "delivery_id": delivery_id})
        if len(due) < 50:
            return settled


def remind_deadlines(db: Database, clock: Clock, *, quiet: tuple[int, int] | None, tz: tzinfo) -> int:
    """One reminder per group buy in its last hour ("还剩 1 小时，再 2 人降到 ¥79.00"); returns how many."""
    now = clock()
    if in_quiet_hours(now, quiet, tz):
        return 0
    with db.read() as conn:
        due = reminders.due_reminders(conn, now)
    sent = 0
    for gb_id in due:
        with db.begin() as conn:
            reminded = remind(conn, gb_id, now) is not None
            group = get_groupbuy(conn, gb_id).group_id if reminded else None
        if reminded:
            sent += 1
            log.info("deadline reminder queued", extra={"group": group, "groupbuy": gb_id, "outcome": "queued"})
    return sent


# ---- content ----------------------------------------------------------------------------------


def enqueue_due_pushes(db: Database, clock: Clock, *, tz: tzinfo) -> int:
    """Every scheduled push due now goes into the outbox once (catalog.pushes.run_due_pushes)."""
    total = 0
    while True:
        with db.begin() as conn:
            n = pushes.run_due_pushes(conn, clock(), tz, limit=500)
        total += n
        if n < 500:
            return total


def nudge_quiet_groups(db: Database, clock: Clock, *, quiet: tuple[int, int] | None, tz: tzinfo) -> int:
    """Each group quiet for its nudge_after_hours gets its next content item; returns how many were nudged."""
    now = clock()
    if in_quiet_hours(now, quiet, tz):
        return 0
    with db.read() as conn:
        due = content.quiet_groups(conn, now)
    nudged = 0
    for group_id, last_nudge_at in due:
        try:
            with db.begin() as conn:
                nudged += content.nudge(conn, group_id, last_nudge_at, now) is not None
        except content.ContentTaken:
            log.info("content item taken concurrently; the group is looked at again next tick", extra={"group": group_id})
    return nudged


# ---- group health: the per-day rollup ------------------------------------------------------------


def roll_up_activity(db: Database, clock: Clock, *, tz: tzinfo) -> int:
    """Closed local days not rolled up yet (catalog.activity), newest first, then the parts due of the last
    two weeks' days (heads of closed edges, tails of closed days), a day at a time, at most
    activity.DAYS_PER_RUN of each a run, each in its own short transaction; parts past the horizon are
    dropped. Returns how many days and parts this process rolled up."""
    now = clock()
    with db.read() as conn:
        other_zone = activity.rolled_in_other_zones(conn, tz)
        old_parts = activity.parts_past_horizon(conn, now, tz)
    if other_zone or old_parts:
        with db.begin() as conn:
            activity.forget_other_zones(conn, tz)
            activity.forget_parts_past_horizon(conn, now, tz)
    with db.read() as conn:
        days = activity.days_to_roll_up(conn, now, tz)
        parted = activity.days_to_part(conn, now, tz)
    done = 0
    for day in days[:activity.DAYS_PER_RUN]:
        with db.read() as conn:  # the day is closed: counted outside the writing transaction, which stays short
            counted = activity.count_day(conn, day, tz)
        with db.begin() as conn:
            done += activity.roll_up_day(conn, day, tz, now, counted)
    for day in parted[:activity.DAYS_PER_RUN]:
        with db.read() as conn:  # its closed hours not in a head yet, counted outside the writing transaction
            base = activity.heads_from(conn, day, tz, now)
            counted = activity.count_hours(conn, activity.closed_hours(day, tz, now)[base:], tz)
        with db.begin() as conn:
            done += activity.roll_up_parts(conn, day, tz, now, counted, base)
    return done


def fold_member_totals(db: Database, clock: Clock) -> int:
    """Fold the messages older than member_totals.GRACE into the member list's totals, an hour at a time
    (catalog.member_totals), at most STEPS_PER_RUN steps a run; returns how many steps this process folded."""
    done = 0
    for _ in range(member_totals.STEPS_PER_RUN):
        with db.read() as conn:  # counted outside the writing transaction, which stays short
            step = member_totals.next_step(conn, clock())
            if step is None:
                break
            counted = member_totals.count_step(conn, *step)
        with db.begin() as conn:
            if not member_totals.fold(conn, *step, counted):
                break  # another process is folding
        done += 1
    return done


# ---- the outbox dispatcher ----------------------------------------------------------------------


@dataclass
class Dispatched:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    throttled: int = 0
    released: int = 0
    quiet: bool = False  # held: inside quiet hours


def dispatch_outbox(db: Database, clock: Clock, *, secret: str | None, quiet: tuple[int, int] | None, tz: tzinfo,
                    client: httpx.Client | None = None, stop: threading.Event | None = None,
                    batch: int = BATCH, max_batches: int = MAX_BATCHES) -> Dispatched:
    """Send due outbox rows to their groups' push targets: claim (lease) → send → mark, batch after batch,
    until nothing is due or the targets' budgets are spent.

    Never twice: a row is only sent by the process holding its lease, only while enough of the lease is
    left to finish the send, and marked only if the lease is still that process's. A process killed
    between claim and mark leaves the row to the next claimer once the lease ends (same delivery_id)."""
    own = client is None
    client = client or httpx.Client(timeout=delivery.HTTP_TIMEOUT)
    result = Dispatched()
    try:
        with ThreadPoolExecutor(SEND_WORKERS, thread_name_prefix="tuanbot-send") as pool:
            for _ in range(max_batches):
                if stop is not None and stop.is_set():
                    break
                now = clock()
                if in_quiet_hours(now, quiet, tz):
                    result.quiet = True
                    break
                with db.begin() as conn:
                    claimed = claim_due(conn, now, now + LEASE, batch)
                for row_id, group_id in claimed.unrouted:  # once per row: later looks find the reason set
                    log.warning("outbox message held: the group has no push target",
                                extra={"outbox_id": row_id, "group": group_id, "outcome": "no push target"})
                result.sent += claimed.recorded  # "web" targets: delivered by the claim itself
                if claimed.looked_at == 0:
                    break
                send_by = time.monotonic() + LEASE.total_seconds() - delivery.WORST_SEND_SECONDS
                by_target: dict[str, list[Claimed]] = {}
                for row in claimed.claimed:
                    by_target.setdefault(row.target["url"], []).append(row)
                # Targets in parallel, each target's rows one after another in claim order, so a group
                # reads its messages in the order they were written.
                deliver = lambda rows: _deliver_in_order(db, clock, client, secret, rows, send_by, stop)  # noqa: E731
                for outcomes in pool.map(deliver, by_target.values()):
                    for outcome in outcomes:
                        setattr(result, outcome, getattr(result, outcome) + 1)
    finally:
        if own:
            client.close()
    return result


def _deliver_in_order(db: Database, clock: Clock, client: httpx.Client, secret: str | None, rows: list[Claimed],
                      send_by: float, stop: threading.Event | None) -> list[str]:
    """One target's rows in order; once the target throttles us, the rest go back untried."""
    outcomes: list[str] = []
    for i, row in enumerate(rows):
        outcome = _deliver(db, clock, client, secret, row, send_by, stop)
        outcomes.append(outcome)
        if outcome == "throttled":
            with db.begin() as conn:
                for later in rows[i + 1:]:
                    release(conn, later)
            outcomes += ["released"] * (len(rows) - i - 1)
            break
    return outcomes


def _deliver(db: Database, clock: Clock, client: httpx.Client, secret: str | None, row: Claimed,
             send_by: float, stop: threading.Event | None) -> str:
    """Try one claimed row and record the outcome; returns the Dispatched field to count it in."""
    if time.monotonic() > send_by or (stop is not None and stop.is_set()):
        with db.begin() as conn:
            release(conn, row)
        return "released"
    outcome = delivery.send(client, row.target, group_id=row.group_id, text=row.text, delivery_id=row.delivery_id,
                            secret=secret, now=clock())
    now = clock()
    tries = row.attempts + 1
    with db.begin() as conn:
        if outcome.delivered:
            kept = mark_sent(conn, row, now)
            counted = "sent"
        elif outcome.throttled:
            block_target(conn, row.target["url"], now + delivery.THROTTLE_PAUSE)
            kept = mark_retry(conn, row, outcome.error, now + delivery.retry_wait(tries))
            counted = "throttled"
        elif delivery.gives_up(tries):
            kept = mark_dead(conn, row, outcome.error)
            counted = "dead"
        else:
            kept = mark_retry(conn, row, outcome.error, now + delivery.retry_wait(tries))
            counted = "retried"
    # One line per try: sent, retry (throttled is a retry the target asked for), dead letter, or lease lost.
    fields = {"group": row.group_id, "delivery_id": row.delivery_id, "attempt": tries, "outbox_id": row.id,
              "outcome": {"sent": "sent", "retried": "retry", "throttled": "throttled", "dead": "dead"}[counted]}
    if not kept:
        log.warning("delivery", extra={**fields, "outcome": "lease_lost", "error": outcome.error})
    elif counted == "dead":
        log.error("delivery", extra={**fields, "error": outcome.error})
    elif counted == "sent":
        log.info("delivery", extra=fields)
    else:
        log.warning("delivery", extra={**fields, "error": outcome.error,
                                       "next_attempt_in_s": delivery.retry_wait(tries).total_seconds()})
    return counted
