"""The benchmark server: tuanbot's app on a fresh catalog plus a bare constant endpoint, one uvicorn process.

Run by bench/bridge_throughput.py (which picks the port and the database); by hand:
    .venv/bin/python bench/serve_bench.py --port 8765 --db /tmp/bench.db --secret s3cret
    .venv/bin/python bench/serve_bench.py --port 8765 --url postgresql+psycopg://…/an_empty_db --secret s3cret
`--products N` adds N products of bench/scale.py's catalog (codes A000000, B000001, …) to the demo's;
`--prepare-only` builds the database and exits (bridge_throughput.py then serves it with `tuanbot serve`).
"""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

import anyio.to_thread
import uvicorn
from fastapi.responses import JSONResponse

from bot.app import create_app, freeze_startup_objects
from bot.logs import setup_logging, uvicorn_log_config
from bot.settings import Settings
from catalog.products import create_product, get_product, update_product, validate_product
from storage.db import Database
from storage.migrate import upgrade
from storage.tables import products

BENCH_STOCK = 10_000_000  # 下单 must never run out during a run
BARE_BODY = {"replies": [], "duplicate": False}
CATEGORIES = ("鞋", "服饰", "零食", "家居", "数码")


def load_catalog(db: Database, now: datetime) -> str:
    """The demo catalog when the project has one, else 30 products of our own; every stock set huge."""
    try:
        from catalog.demo import load_demo
    except ImportError:
        load_demo = None
    if load_demo is not None:
        load_demo(db, now)
        source = "demo"
    else:
        with db.begin() as conn:
            for i in range(1, 31):
                create_product(conn, validate_product({
                    "code": f"B{i:02d}",
                    "name": f"测试商品{i:02d}",
                    "description": "benchmark product",
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "price_fen": 10_000 + 100 * i,
                    "market_price_fen": 20_000 + 100 * i,
                    "stock": BENCH_STOCK,
                    "tiers": [{"min_qty": 2, "price_fen": 9_500 + 100 * i}, {"min_qty": 5, "price_fen": 9_000 + 100 * i}],
                }), now)
        source = "bench"
    with db.begin() as conn:
        for code in conn.execute(products.select().with_only_columns(products.c.code)).scalars().all():
            variants = get_product(conn, code).variants  # a product with variants: its stock is theirs
            huge = (
                {"variants": [(v.name, BENCH_STOCK) for v in variants]} if variants else {"stock": BENCH_STOCK}
            )
            update_product(conn, code, huge, now)
    return source


def add_products(db: Database, n: int, now: datetime) -> None:
    """n products of bench/scale.py's catalog in bulk (the search indexes follow through their triggers or
    GIN indexes), stock huge, no tiers or sizes; then the planner's statistics."""
    from sqlalchemy import insert, text

    from scale import catalog_rows

    batch = []
    with db.begin() as conn:
        for row in catalog_rows(n):
            batch.append({
                "code": row["code"], "name": row["name"], "description": row["description"],
                "category": row["category"], "price_fen": round(float(row["price"]) * 100), "market_price_fen": None,
                "stock": BENCH_STOCK, "active": True, "created_at": now, "updated_at": now,
            })
            if len(batch) == 5000:
                conn.execute(insert(products), batch)
                batch.clear()
        if batch:
            conn.execute(insert(products), batch)
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def prepare(url: str, products_n: int, pool_size: int = 10) -> Database:
    db = Database(url, pool_size=pool_size)
    upgrade(db)
    now = datetime.now(timezone.utc)
    source = load_catalog(db, now)
    if products_n:
        started = time.perf_counter()
        add_products(db, products_n, now)
        source += f" + {products_n:,} products in {time.perf_counter() - started:.1f} s"
    print(f"catalog: {source}", file=sys.stderr, flush=True)
    return db


def build(url: str, secret: str, threads: int | None, products_n: int = 0, pool_size: int = 10):
    settings = Settings(database_url=url, bridge_secret=secret, _env_file=None)
    setup_logging(settings.log_format)
    db = prepare(url, products_n, pool_size)
    app = create_app(settings, db=db)  # no scheduler: only the request path is measured

    # The baseline: same app, middleware and uvicorn settings, but no work at all.
    @app.get("/bare", include_in_schema=False)
    @app.post("/bare", include_in_schema=False)
    async def bare():
        return JSONResponse(BARE_BODY)

    # Matched right where the bridge is (routes are tried in order), so neither pays for the other's place.
    routes = app.router.routes
    bare_routes = [r for r in routes if getattr(r, "path", None) == "/bare"]
    for r in bare_routes:
        routes.remove(r)
    at = next(i for i, r in enumerate(routes) if getattr(r, "path", None) == "/bridge/messages")
    routes[at:at] = bare_routes

    if threads:
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(a):  # anyio's default is 40 worker threads for run_in_threadpool
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
            async with inner(a) as state:
                yield state

        app.router.lifespan_context = lifespan

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", type=Path, help="a fresh SQLite file (deleted first if it exists)")
    where.add_argument("--url", help="a database URL (PostgreSQL: an empty database the caller made)")
    ap.add_argument("--products", type=int, default=0, help="products added to the demo catalog (default 0)")
    ap.add_argument("--pool-size", type=int, default=10,
                    help="Database pool_size (PostgreSQL: also how many messages run at once; default 10)")
    ap.add_argument("--prepare-only", action="store_true", help="build the database and exit")
    ap.add_argument("--secret", required=True)
    ap.add_argument("--threads", type=int, default=None, help="threadpool size (default: anyio's 40)")
    ap.add_argument("--switch-interval", type=float, default=None, help="sys.setswitchinterval (default 0.005 s)")
    args = ap.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    url = args.url
    if args.db is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{args.db}"
    if args.prepare_only:
        prepare(url, args.products).dispose()
        return
    app = build(url, args.secret, args.threads, args.products, args.pool_size)
    freeze_startup_objects()  # as `tuanbot serve` does
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, workers=1, loop="uvloop", http="httptools",
        access_log=False, log_config=uvicorn_log_config(), server_header=False,
    )


if __name__ == "__main__":
    main()
