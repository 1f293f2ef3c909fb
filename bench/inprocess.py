"""`下单` or a join (`+1`) through the real Dispatcher, in-process, from one or more threads: messages/s, latency,
CPU a message.

    .venv/bin/python bench/inprocess.py                          # 下单, SQLite, 1 thread, 4 products
    .venv/bin/python bench/inprocess.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/inprocess.py --postgres URL --threads 10 --codes 1 --rounds 3
    .venv/bin/python bench/inprocess.py --names                  # the channel names its senders
    .venv/bin/python bench/inprocess.py --command join --rounds 5  # +1 by new members, one group buy

No HTTP, no wrk: what a message costs the process and the database, without the event loop and the
load generator sharing the cores. By default the messages carry no sender name, as WeChat's and
WeCom's callbacks do, so each reply's @mention looks the member's name up; `--names` sends one, as the
bridge and the web chat do. "CPU a message" is this process's CPU time (every thread) over the
messages handled; on PostgreSQL the backends' CPU is not in it. With `--command join` every message is
a new member's `+1` (join the open group buy with one) in one group buy, opened before the first
round, so each round starts with the participants of the rounds before it: how a join's cost grows
with a big group buy. The database is fresh (the demo catalog, every stock huge) and dropped at the
end; alternate checkouts by hand to compare them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.dispatch import Dispatcher  # noqa: E402
from handlers.context import Message  # noqa: E402
from serve_bench import prepare  # noqa: E402

PG_DATABASE = "tuanbot_bench_inprocess"


def fresh_url(args) -> str:
    if not args.postgres:
        path = BENCH / "out" / "inprocess.db"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    return make_url(args.postgres).set(database=PG_DATABASE).render_as_string(False)


def drop(args) -> None:
    if args.postgres:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def open_tiers(db, code: str) -> str:
    """Two tiers under the product's price: `2:25.00 4:20.00`-like, as an owner types them."""
    with db.engine.connect() as c:
        price = c.execute(text("SELECT price_fen FROM products WHERE code = :c"), {"c": code}).scalar_one()
    return f"2:{price * 9 // 10 / 100:.2f} 4:{price * 8 // 10 / 100:.2f}"


def one_round(dispatcher: Dispatcher, codes: list[str], args, tag: str) -> tuple[float, list[float], float]:
    """(messages/s, latencies in ms, CPU ms a message) of --seconds of --threads senders."""
    latencies: list[float] = []
    stop = time.monotonic() + args.seconds

    def sender(k: int) -> None:
        i = 0
        while time.monotonic() < stop:
            i += 1
            if args.command == "join":  # a new member each time
                chat, sender, said = "g0", f"{tag}-{k}-{i}", "+1"
            else:
                chat, sender, said = f"g{(k + i) % 8}", f"u{k}-{i % 50}", f"下单 {codes[(k + i) % len(codes)]} 1"
            msg = Message(channel="bridge", chat_id=chat, sender_id=sender, sender_name=f"买家{k}" if args.names else None,
                          text=said, msg_id=f"{tag}-{k}-{i}")
            started = time.perf_counter()
            dispatcher.handle(msg)
            latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(args.threads)]
    cpu, wall = time.process_time(), time.monotonic()
    if args.threads == 1:
        sender(0)  # on this thread: a profiler sees it
    else:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    return len(latencies) / wall, sorted(latencies), cpu / len(latencies) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--command", choices=("order", "join"), default="order")
    ap.add_argument("--postgres", metavar="URL", help="a PostgreSQL server URL (a database of its own is made there)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--codes", type=int, default=4, help="orders cycle over this many products (default 4)")
    ap.add_argument("--seconds", type=float, default=5.0, help="per round (default 5)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--names", action="store_true", help="senders carry a name (no lookup for the @mention)")
    args = ap.parse_args()

    db = prepare(fresh_url(args), 0, pool_size=max(args.threads, 5))
    try:
        with db.engine.connect() as c:
            codes = list(c.execute(text(
                "SELECT code FROM products WHERE active AND id NOT IN (SELECT product_id FROM product_variants)"
                " ORDER BY code LIMIT :n"), {"n": args.codes}).scalars())
        dispatcher = Dispatcher(db, owners=frozenset({"boss"}), tz=ZoneInfo("Asia/Shanghai"))
        if args.command == "join":
            opened = dispatcher.handle(Message(channel="bridge", chat_id="g0", sender_id="boss", sender_name="团长",
                                               text=f"开团 {codes[0]} {open_tiers(db, codes[0])} 截止 48h", msg_id="open"))
            assert "#1" in opened.reply.texts[0], opened.reply.texts
        one_round(dispatcher, codes, argparse.Namespace(**{**vars(args), "seconds": 1.0}), "warm")
        rounds = [one_round(dispatcher, codes, args, f"r{r}") for r in range(args.rounds)]
    finally:
        db.dispose()
        drop(args)
    where = "PostgreSQL" if args.postgres else "SQLite"
    what = "参团" if args.command == "join" else "下单"
    print(f"{what} in-process, {where}, {args.threads} thread(s), {len(codes)} products,"
          f" names {'on' if args.names else 'off'}, {args.rounds} × {args.seconds:g} s,"
          f" load average {os.getloadavg()[0]:.1f}")
    for rate, lat, cpu in rounds:
        print(f"  {rate:6.0f}/s  p50 {lat[len(lat) // 2]:6.2f} ms  p99 {lat[int(len(lat) * 0.99)]:6.2f} ms"
              f"  CPU {cpu:.2f} ms a message")
    print(f"median: {statistics.median(r[0] for r in rounds):.0f}/s,"
          f" CPU {statistics.median(r[2] for r in rounds):.2f} ms a message")


if __name__ == "__main__":
    main()
