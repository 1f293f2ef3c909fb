"""Benchmark: CPU per call of the admin stats (`all_group_stats`, 7 days) or of 统计's two weeks, in-process on
bench/stats_kept.py's kept databases: the client thread's CPU and, on PostgreSQL, the server backend's (read
from /proc), which move less with other processes' load than wall time does (issue 15).

    .venv/bin/python bench/stats_cpu.py URL CHECKOUT {admin,command} [N]

CHECKOUT is the directory whose code is timed (its bench/scale.py puts it first on the path).
"""
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, sys.argv[2] + "/bench")
import scale  # noqa: E402
from sqlalchemy import text  # noqa: E402

import catalog.stats as cs  # noqa: E402
from storage.db import Database  # noqa: E402

db = Database(sys.argv[1])
what = sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 10
w = cs.Window.last(scale.T0, 7)


def run(conn) -> None:
    if what == "admin":
        cs.all_group_stats(conn, w, scale.TZ)
    elif hasattr(cs, "group_stats_over"):
        cs.group_stats_over(conn, "g0000", [w, w.before()], scale.TZ)
    else:  # code from before group_stats_over
        cs.group_stats(conn, "g0000", w, scale.TZ)
        cs.group_stats(conn, "g0000", w.before(), scale.TZ)


def backend_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


with db.read() as conn:
    pid = conn.execute(text("select pg_backend_pid()")).scalar() if db.url.startswith("postgresql") else None
    run(conn)
    run(conn)
    gc.freeze()  # as `tuanbot serve` does after start-up
    walls = []
    c0, b0 = time.thread_time(), backend_cpu(pid)
    for _ in range(n):
        t = time.perf_counter()
        run(conn)
        walls.append((time.perf_counter() - t) * 1000)
    c1, b1 = time.thread_time(), backend_cpu(pid)
print(f"{sys.argv[2].rstrip('/').split('/')[-1]} {what}: wall median {statistics.median(walls):.1f} min {min(walls):.1f};"
      f" CPU a call: client {(c1 - c0) * 1000 / n:.1f} ms, server {(b1 - b0) * 1000 / n:.1f} ms"
      f" (load {os.getloadavg()[0]:.1f})")
