"""Benchmark: 10,000 due pushes to 500 groups, drained by the outbox dispatcher at the rate limits.

How time is modelled: the scheduler's clock is a fake one. Each tick runs the real jobs (enqueue due
pushes, then dispatch: claim -> real HTTP POST to a local receiver -> mark) to completion at one fake
instant, then the fake clock moves on by one tick (TUANBOT_SCHEDULER_TICK_SECONDS, 10 s by default).
So the "scheduler time to drain" is what the 20-a-minute-per-target limit allows, without waiting hours
of wall time; the wall time is the real cost of the work (database and HTTP). The receiver counts every
delivery_id (sent twice?) and, from each request's X-Tuanbot-Timestamp (the fake clock), the most
messages one target got in any 60 seconds.

    .venv/bin/python bench/outbox_drain.py [--messages 10000] [--groups 500] [--targets 500 50]
                                           [--database-url URL]   (default: a fresh SQLite file)
"""
from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot import jobs
from catalog.groups import put_group
from catalog.pushes import create_push
from storage.db import Database
from storage.migrate import upgrade
from storage.tables import outbox

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai: outside quiet hours
SECRET = "bench"


class FakeClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 refuses connections when 32 senders arrive at once
    daemon_threads = True


class Receiver:
    def __init__(self):
        self.ids: Counter = Counter()
        self.times: dict[str, list[int]] = defaultdict(list)
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one small answer: no 40 ms delayed-ACK stall per request

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    outer.ids[body["delivery_id"]] += 1
                    outer.times[self.path].append(int(self.headers["X-Tuanbot-Timestamp"]))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def max_in_a_minute(self) -> int:
        best = 0
        for stamps in self.times.values():
            stamps.sort()
            for i, t in enumerate(stamps):
                best = max(best, bisect_left(stamps, t + 60) - i)
        return best


def run(db: Database, messages: int, groups: int, targets: int, tick: float) -> dict:
    receiver = Receiver()
    clock = FakeClock(T0)
    with db.begin() as conn:
        for g in range(groups):
            put_group(conn, f"g{g}", {"push_target": {"kind": "bridge", "url": receiver.url(f"/t{g % targets}")}}, T0)
        for i in range(messages):
            create_push(conn, f"g{i % groups}", f"push {i}", now=T0, tz=TZ, at=T0)
    wall = time.perf_counter()
    ticks = 0
    while True:
        jobs.enqueue_due_pushes(db, clock, tz=TZ)
        jobs.dispatch_outbox(db, clock, secret=SECRET, quiet=(22, 8), tz=TZ)
        with db.read() as conn:
            left = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.status != "sent")).scalar_one()
        if left == 0:
            break
        ticks += 1
        clock.now += timedelta(seconds=tick)
    wall = time.perf_counter() - wall
    with db.read() as conn:
        sent = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.status == "sent")).scalar_one()
    receiver.server.shutdown()
    return {
        "messages": messages, "groups": groups, "targets": targets, "sent": sent,
        "received": sum(receiver.ids.values()), "sent_twice": sum(1 for n in receiver.ids.values() if n > 1),
        "scheduler_seconds": (clock.now - T0).total_seconds(), "ticks": ticks + 1, "wall_seconds": wall,
        "max_per_target_per_minute": receiver.max_in_a_minute(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--groups", type=int, default=500)
    ap.add_argument("--targets", type=int, nargs="+", default=[500, 50],
                    help="distinct push target URLs the groups share (500: one per group)")
    ap.add_argument("--tick", type=float, default=10.0, help="fake seconds between scheduler ticks")
    ap.add_argument("--database-url", help="a database to use (it gets migrated; use an empty one)")
    args = ap.parse_args()
    print(f"{'targets':>7} {'sent':>6} {'twice':>5} {'max/target/min':>14} {'scheduler time':>14} "
          f"{'ticks':>5} {'wall s':>7} {'msg/s (wall)':>12}")
    for targets in args.targets:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(args.database_url or f"sqlite:///{tmp}/bench.db")
            upgrade(db)
            r = run(db, args.messages, args.groups, targets, args.tick)
            db.dispose()
        minutes = r["scheduler_seconds"] / 60
        print(f"{r['targets']:>7} {r['sent']:>6} {r['sent_twice']:>5} {r['max_per_target_per_minute']:>14} "
              f"{minutes:>12.1f} m {r['ticks']:>5} {r['wall_seconds']:>7.1f} {r['sent'] / r['wall_seconds']:>12.0f}")
        if args.database_url:
            break  # the given database now holds this run's rows


if __name__ == "__main__":
    main()
