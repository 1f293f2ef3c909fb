"""Benchmark: a group's orders.xlsx and picklist at 1,000 and 10,000 confirmed orders over 3 pickup points.

Each size is filled in bulk (products, pickup points, members' choices, confirmed orders: half of them
group-buy orders with a 跟团号), then the two admin endpoints are called through the real app
(httpx over ASGI, in process): wall time as the median of --rounds calls, then one more call under
tracemalloc for the peak of Python memory it allocated. Memory outside Python's allocator (driver
buffers, zlib) is caught by a second figure: a fresh child process makes one call while a thread samples
its resident memory (/proc/self/statm) every 2 ms; the rise above the level before the call is reported. The workbook is read back
with openpyxl to check it holds every order.

    .venv/bin/python bench/export.py [--sizes 1000 10000] [--rounds 3]
                                     [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

SQLite runs on a fresh file in a temporary folder; with --postgres a database `tuanbot_bench_export`
is created there and dropped afterwards. Targets: under 3 s and under 100 MB for 10,000 orders.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import resource
import statistics
import subprocess
import sys
import threading
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.settings import load_settings
from storage.db import Database
from storage.migrate import upgrade
from storage.tables import groupbuys, groups, member_pickups, orders, pickup_points, products

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
POINTS = ["东门快递柜", "3号楼大堂", "南门便利店"]
TOKEN = "bench"
PG_NAME = "tuanbot_bench_export"


def fill(db: Database, n: int) -> None:
    with db.begin() as c:
        c.execute(insert(groups).values(group_id="g1", name="潮鞋团", owners=["boss"], created_at=T0))
        for i, (code, name) in enumerate([("A12", "潮流男鞋"), ("B7", "有机鸡蛋 30 枚装"), ("C3", "云南高山蓝莓 125g×4 盒")], 1):
            c.execute(insert(products).values(id=i, code=code, name=name, description="", category="", price_fen=19900,
                                              stock=10**7, active=True, created_at=T0, updated_at=T0))
        c.execute(insert(groupbuys).values(id=1, group_id="g1", product_id=1, basis="people",
                                           tiers=[{"threshold": 2, "price_fen": 15000}], deadline=T0, status="succeeded",
                                           final_price_fen=15000, created_by="boss", created_at=T0, settled_at=T0))
        c.execute(insert(pickup_points), [{"group_id": "g1", "name": p, "created_at": T0} for p in POINTS])
        members = max(1, n // 2)
        c.execute(insert(member_pickups), [
            {"group_id": "g1", "user_id": f"member{m:05d}", "pickup_point": POINTS[m % 3], "chosen_at": T0}
            for m in range(members)
        ])
        rows = []
        for i in range(n):
            in_gb = i % 2 == 0
            qty = 1 + i % 4
            price = 15000 if in_gb else 3990
            rows.append({
                "group_id": "g1", "user_id": f"member{i % members:05d}", "product_id": 1 if in_gb else 2 + i % 2,
                "quantity": qty, "unit_price_fen": price, "total_fen": price * qty,
                "price_source": "groupbuy" if in_gb else "price", "status": "confirmed",
                "groupbuy_id": 1 if in_gb else None, "join_no": i // 2 + 1 if in_gb else None,
                "pickup_point": POINTS[(i % members) % 3], "created_at": T0 + timedelta(seconds=i), "confirmed_at": T0,
            })
        for start in range(0, n, 2000):
            c.execute(insert(orders), rows[start:start + 2000])


async def measure(db: Database, n: int, rounds: int) -> dict[str, tuple[float, float]]:
    app = create_app(load_settings(database_url=db.url, admin_token=TOKEN), db=db)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    out = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://b", timeout=120) as client:
        for path in ("/admin/groups/g1/orders.xlsx", "/admin/groups/g1/picklist"):
            r = await client.get(path, headers=auth)  # warm: statements compiled, modules loaded
            assert r.status_code == 200, r.text
            check(path, r, n)
            times = []
            for _ in range(rounds):
                t = time.perf_counter()
                r = await client.get(path, headers=auth)
                times.append(time.perf_counter() - t)
            tracemalloc.start()
            await client.get(path, headers=auth)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            out[path.rsplit("/", 1)[1]] = (statistics.median(times), peak / 2**20)
    return out


def check(path: str, r: httpx.Response, n: int) -> None:
    if path.endswith(".xlsx"):
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
        rows = sum(1 for _ in wb.worksheets[0].iter_rows()) - 1
        assert rows == n, f"workbook holds {rows} orders, expected {n}"
    else:
        listed = sum(len(p["orders"]) for p in r.json()["pickup_points"])
        assert listed == n, f"picklist lists {listed} orders, expected {n}"


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


async def one_call(url: str, path: str) -> float:
    """In a fresh process: how far resident memory rises above its level before one call of `path`
    (sampled every 2 ms while the call runs)."""
    db = Database(url)
    app = create_app(load_settings(database_url=url, admin_token=TOKEN), db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://b", timeout=120) as client:
        await client.get("/healthz")
        before = _rss_mib()
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _rss_mib())
                time.sleep(0.002)

        sampler = threading.Thread(target=sample)
        sampler.start()
        r = await client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        done.set()
        sampler.join()
    assert r.status_code == 200
    db.dispose()
    return peak - before


def rss_growth(url: str, path: str) -> float:
    out = subprocess.run([sys.executable, __file__, "--child", url, path], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["rss_growth_mib"]


def run(kind: str, url_for, sizes: list[int], rounds: int) -> list[tuple]:
    results = []
    for n in sizes:
        url = url_for(n)
        db = Database(url)
        upgrade(db)
        fill(db, n)
        figures = asyncio.run(measure(db, n, rounds))
        db.dispose()
        for name, (secs, mib) in figures.items():
            rss = rss_growth(url, f"/admin/groups/g1/{name}")
            results.append((kind, n, name, secs, mib, rss))
            print(f"{kind:10} {n:>6} {name:12} {secs * 1000:8.0f} ms   tracemalloc peak {mib:6.1f} MiB"
                  f"   RSS rise {rss:6.1f} MiB", flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--postgres", default=None, help="server URL; a database is created there and dropped")
    ap.add_argument("--child", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps({"rss_growth_mib": asyncio.run(one_call(*a.child))}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", lambda n: f"sqlite:///{tmp}/export-{n}.db", a.sizes, a.rounds)
    if a.postgres:
        admin = create_engine(a.postgres, isolation_level="AUTOCOMMIT")

        def fresh(n: int) -> str:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
            return make_url(a.postgres).set(database=PG_NAME).render_as_string(hide_password=False)

        try:
            run("postgresql", fresh, a.sizes, a.rounds)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
