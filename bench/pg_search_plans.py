"""PostgreSQL: a short word's search before and after the plan chosen from the statistics, alternated.

    .venv/bin/python bench/scale.py --goals search --databases postgresql --keep   # makes the two catalogs
    .venv/bin/python bench/pg_search_plans.py [--repeat 21]

"before" is every word taking the walk of the first products in code order, then the GIN index (the
plan before catalog.search._pg_short_plan); "after" is the plan that function chooses. Each search
is timed in a read transaction, first page, at 100 and 100,000 products (scale.py's catalogs, kept),
the four cases in turn so that they share the machine's load. Medians, ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from sqlalchemy.engine import make_url

import catalog.search as search
from catalog.search import search_products
from storage.db import Database

PG_URL = os.environ.get("TUANBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WORDS = ["茶", "鲸", "ke", "qz", "j", "q", "w0", "a", "牛肉", "披萨", "%", "_", "\\", '"', "'"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    chosen = search._pg_short_plan
    plans = {"before": lambda conn, piece: "walk", "after": chosen}
    dbs = {n: Database(make_url(PG_URL).set(database=f"tuanbot_bench_search_{n}").render_as_string(False))
           for n in ("small", "big")}
    cases = [(v, n) for v in plans for n in dbs]

    def run(case, word) -> float:
        search._pg_short_plan = plans[case[0]]
        t = time.perf_counter()
        with dbs[case[1]].read() as conn:
            search_products(conn, word, offset=0, limit=10)
        return (time.perf_counter() - t) * 1000

    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}\n")
    print("| word | before at 100 | at 100,000 | ratio | after at 100 | at 100,000 | ratio | after: plan at 100,000 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for word in WORDS:
        for case in cases * 3:
            run(case, word)
        times: dict = {case: [] for case in cases}
        for _ in range(args.repeat):
            for case in cases:
                times[case].append(run(case, word))
        m = {case: statistics.median(t) for case, t in times.items()}
        with dbs["big"].read() as conn:
            plan = chosen(conn, word)
        plan = plan if plan in ("gin", "walk") else f"walk, probe below {plan}"
        print(f"| {word} | {m['before', 'small']:.2f} | {m['before', 'big']:.2f} | ×{m['before', 'big'] / m['before', 'small']:.1f} "
              f"| {m['after', 'small']:.2f} | {m['after', 'big']:.2f} | ×{m['after', 'big'] / m['after', 'small']:.1f} | {plan} |")
    search._pg_short_plan = chosen
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
