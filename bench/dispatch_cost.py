"""CPU time of one chat message through the dispatcher, in process: no HTTP, no load tool.

    .venv/bin/python bench/dispatch_cost.py                   # 商品 and 下单, 3 rounds of 1,500 each
    .venv/bin/python bench/dispatch_cost.py --profile 下单     # and where a 下单's time goes (cProfile)

The same setup as bench/serve_bench.py (the demo catalog on a fresh SQLite file, stock set huge), the
same messages as bench/bridge_throughput.py (8 groups, 1,000 senders, each with a name; 下单 cycles
over four codes without sizes). `time.process_time` counts this process's CPU only, so another
program on the machine changes these figures far less than it changes wall time or requests a second:
that is what makes a before-and-after of two checkouts comparable on a shared machine. It uses only
what older checkouts also have (`Dispatcher(db, owners=, tz=)`, `Message`), so the very same file can
be run from another clone: `cd ../old && .venv/bin/python /path/to/bench/dispatch_cost.py`.
"""
from __future__ import annotations

import argparse
import cProfile
import inspect
import pstats
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path.cwd()))
sys.path.insert(0, str(Path.cwd() / "bench"))

from serve_bench import load_catalog  # noqa: E402  (the checkout's own, from the current directory)

from bot.dispatch import Dispatcher  # noqa: E402
from handlers.context import Message  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

GROUPS, SENDERS = 8, 1000


def text_of(command: str, codes: list[str]):
    if command == "商品":
        return lambda i: "商品"
    return lambda i: f"下单 {codes[i % len(codes)]} 1"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1500, help="messages per command per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", help="also profile this command (商品 or 下单) and print the top functions")
    args = ap.parse_args()

    import logging
    logging.disable(logging.INFO)  # the per-message log line's cost depends on where it goes: left out
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'cost.db'}"
        db = Database(url)
        upgrade(db)
        load_catalog(db, datetime.now(timezone.utc))
        codes = _codes_without_sizes(db)
        dispatcher = Dispatcher(db, owners=frozenset(), tz=ZoneInfo("Asia/Shanghai"))
        seq = iter(range(10**9))
        # The server runs a SQLite message on the event loop with wait=False (no busy wait): measure that path.
        on_loop = {"wait": False} if "wait" in inspect.signature(dispatcher.handle).parameters else {}

        def run(command: str, n: int) -> float:
            texts = text_of(command, codes)
            msgs = []
            for _ in range(n):
                i = next(seq)
                msgs.append(Message(channel="bridge", chat_id=f"bench-g{i % GROUPS}", sender_id=f"u{i % SENDERS}",
                                    sender_name="压测", chat_name="压测群", text=texts(i), msg_id=f"cost-{i}"))
            started = time.process_time()
            for m in msgs:
                handled = dispatcher.handle(m, **on_loop)
                if handled.outcome != "ok":
                    sys.exit(f"{m.text!r} gave {handled.outcome}: {handled.reply.texts}")
            return (time.process_time() - started) / n * 1e6

        for command in ("商品", "下单"):
            run(command, SENDERS * GROUPS // 4)  # warm-up: every sender's name stored, caches filled
        results: dict[str, list[float]] = {"商品": [], "下单": []}
        for _ in range(args.rounds):
            for command in results:
                results[command].append(min(run(command, args.messages) for _ in range(3)))
        for command, figures in results.items():
            print(f"{command}: {statistics.median(figures):6.1f} µs CPU a message "
                  f"(rounds: {', '.join(f'{f:.1f}' for f in figures)})")
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            run(args.profile, args.messages)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def _codes_without_sizes(db: Database) -> list[str]:
    """Four codes 下单 can order with no size (as bench/bridge_throughput.py picks them)."""
    from sqlalchemy import select
    from storage import tables
    with db.begin() as conn:
        query = select(tables.products.c.code).where(tables.products.c.active.is_(True))
        if hasattr(tables, "product_variants"):  # older checkouts have no sizes
            query = query.where(tables.products.c.id.not_in(select(tables.product_variants.c.product_id)))
        return list(conn.execute(query.order_by(tables.products.c.code).limit(4)).scalars())


if __name__ == "__main__":
    main()
