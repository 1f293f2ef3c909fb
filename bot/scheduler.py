"""The scheduler: APScheduler only ticks; every tick calls the job functions of bot.jobs with plain arguments."""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

import httpx
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import delivery, jobs
from bot.dispatch import utcnow
from storage.db import Database

log = logging.getLogger("tuanbot.scheduler")


def run_job(job: Callable, db: Database, clock: Callable[[], datetime], **options) -> None:
    """What APScheduler calls: one job, its failure logged (the next tick tries again)."""
    try:
        job(db, clock, **options)
    except Exception:
        log.exception("scheduled job failed", extra={"job": job.__name__})


class Scheduler:
    """Runs the jobs every `settings.scheduler_tick_seconds`, in the background of `serve` or alone in `worker`.
    Each job claims its rows in the database, so any number of processes can run a Scheduler."""

    def __init__(self, settings, db: Database, clock: Callable[[], datetime] = utcnow):
        self.settings = settings
        self.db = db
        self.clock = clock
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=delivery.HTTP_TIMEOUT)
        tz, quiet = settings.tz, settings.quiet
        self._jobs: list[tuple[Callable, dict]] = [
            (jobs.settle_due_groupbuys, {}),
            (jobs.remind_deadlines, {"quiet": quiet, "tz": tz}),
            (jobs.enqueue_due_pushes, {"tz": tz}),
            (jobs.nudge_quiet_groups, {"quiet": quiet, "tz": tz}),
            (jobs.roll_up_activity, {"tz": tz}),
            (jobs.fold_member_totals, {}),
            (jobs.dispatch_outbox, {"secret": settings.bridge_secret, "quiet": quiet, "tz": tz,
                                    "client": self._client, "stop": self._stop}),
        ]
        # One run of a job at a time per process; a tick missed while the last run was still going is dropped.
        self._aps = BackgroundScheduler(
            timezone=timezone.utc, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
        )
        first = datetime.now(timezone.utc) + timedelta(seconds=0.05)
        for job, options in self._jobs:
            self._aps.add_job(
                run_job, IntervalTrigger(seconds=settings.scheduler_tick_seconds), args=(job, db, clock),
                kwargs=options, id=job.__name__, name=job.__name__, next_run_time=first,
            )

    def start(self) -> None:
        """Start ticking in background threads; returns at once."""
        self._stop.clear()
        self._aps.start()
        log.info("scheduler started", extra={"tick_seconds": self.settings.scheduler_tick_seconds})

    def shutdown(self) -> None:
        """Stop ticking and wait for running jobs (the dispatcher stops taking new rows and gives back
        the ones it has not tried)."""
        self._stop.set()
        if self._aps.running:
            self._aps.shutdown(wait=True)
        self._client.close()
        log.info("scheduler stopped")

    def run_forever(self) -> None:
        """`tuanbot worker`: tick until SIGTERM or SIGINT, then shut down cleanly."""
        done = threading.Event()
        previous = {s: signal.signal(s, lambda *_: done.set()) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            done.wait()
        finally:
            self.shutdown()
            for s, handler in previous.items():
                signal.signal(s, handler)
