"""Benchmark: tuanbot at scale (issue 15). One table per goal, each with the small-case time and the ratio.

    .venv/bin/python bench/scale.py [--goals search,stats,groupbuy] [--databases sqlite,postgresql]
        [--products 100000] [--messages 1000000] [--groups 1000] [--busy-messages 42000]
        [--participants 300000] [--repeat 15]

Everything is measured in-process through the real Dispatcher (a message: dedupe record, route,
handler, reply, commit), the median of --repeat runs after two warm-ups, in ms; the admin stats
through the app's HTTP routes on an in-process ASGI client. Databases are built under bench/out/
(SQLite files) and as PostgreSQL databases `tuanbot_bench_*` on --pg-url (dropped at the end unless
--keep). The load is bounded by the sizes given; nothing runs after the script ends.

- search: a catalog of --products rows imported from CSV through `import_file` (its time is
  printed) against the first 100 rows of the same catalog; 商品 with words of 1, 2 and 3+ characters,
  Chinese and ASCII, matching and not, and 详情 of mistyped codes.
- stats: --messages inbound messages over --groups groups and 30 days (bulk-inserted rows, as the
  dispatcher writes them), then the closed days rolled up and parts of days written as the scheduler's job does (its
  time is printed; --no-rollup leaves them to be read from the messages), GET /admin/stats?days=1, 7 and 30,
  统计 of the busiest group, chart.png, and that group's member list before and after the scheduler's
  fold of the member totals (its time is printed).
- groupbuy: a join with --participants past participants in other (settled) group buys against a
  join on an empty database, and settling a 3,000-participant group buy.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bot.dispatch import Dispatcher  # noqa: E402
from catalog.importer import import_file  # noqa: E402
from handlers.context import Message  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
PG_URL = os.environ.get("TUANBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

# ---- the catalog: product i's item is ITEMS[i % 100], so 100 rows hold each item once ---------------

REGIONS = ["内蒙古", "四川", "云南", "新疆", "东北", "潮汕", "广西", "浙江", "福建", "山东", "Hokkaido", "Texas"]
ITEMS = [
    "牛肉干", "牛肉粒", "牛肉酱", "猪肉脯", "鸭脖", "鸡爪", "腊肠", "火腿", "鱼丸", "虾仁",
    "红茶", "绿茶", "奶茶", "花茶", "咖啡豆", "酸奶", "牛奶", "豆浆", "果汁", "矿泉水",
    "大米", "小米", "面条", "饺子", "汤圆", "粽子", "月饼", "饼干", "蛋糕", "面包",
    "苹果", "香蕉", "橙子", "葡萄", "芒果", "草莓", "西瓜", "荔枝", "龙眼", "柚子",
    "白菜", "土豆", "番茄", "黄瓜", "茄子", "辣椒", "大蒜", "生姜", "香菇", "木耳",
    "跑鞋", "拖鞋", "袜子", "毛巾", "牙刷", "洗衣液", "纸巾", "雨伞", "水杯", "背包",
    "beef jerky", "green tea", "coffee beans", "oat milk", "dark chocolate", "peanut butter", "olive oil",
    "rice noodles", "soy sauce", "honey", "almonds", "cashews", "walnuts", "raisins", "granola",
    "running shoes", "socks", "towel", "toothbrush", "umbrella", "water bottle", "backpack", "notebook",
    "pencil", "tshirt", "hoodie", "cap", "sunglasses", "charger", "cable", "headphones", "speaker",
    "lamp", "candle", "mug", "plate", "bowl", "spoon", "kettle",
]
CATEGORIES = ["零食", "饮品", "主食", "水果", "蔬菜", "日用", "snacks", "drinks", "home", "gear"]
CODE_LETTERS = "ABCDEFGHKMNPRSTUVW"  # no Q, X, Z anywhere in the catalog: the no-match letters


def catalog_rows(n: int):
    rnd = random.Random(15)
    for i in range(n):
        item = ITEMS[i % len(ITEMS)]
        region = REGIONS[rnd.randrange(len(REGIONS))]
        code = CODE_LETTERS[i % len(CODE_LETTERS)] + f"{i:06d}"
        weight = rnd.choice([100, 200, 250, 500, 1000])
        yield {
            "code": code,
            "name": f"{region}{item}" if item[0] > "~" else f"{region} {item}",
            "description": f"{region}直发，{weight}g 装，{item}" if item[0] > "~" else f"{weight} g pack of {item} from {region}",
            "category": CATEGORIES[(i % len(ITEMS)) // 10],
            "price": f"{rnd.randrange(100, 50000) / 100:.2f}",
            "market_price": "",
            "stock": "10000000",
            "active": "true",
            "tiers": "",
        }


def write_catalog(n: int) -> Path:
    path = OUT / f"catalog_{n}.csv"
    if not path.exists():
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["code", "name", "description", "category", "price",
                                              "market_price", "stock", "active", "tiers"])
            w.writeheader()
            w.writerows(catalog_rows(n))
    return path


# ---- databases -------------------------------------------------------------------------------------

class Databases:
    """Fresh migrated databases for the run, removed at the end unless kept."""

    def __init__(self, pg_url: str, keep: bool):
        self.pg_url, self.keep = pg_url, keep
        self.made: list[tuple[str, str, Database]] = []

    def fresh(self, kind: str, name: str) -> Database:
        if kind == "sqlite":
            path = OUT / f"{name}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            db = Database(f"sqlite:///{path}")
        else:
            admin = create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "tuanbot_bench_{name}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "tuanbot_bench_{name}"'))
            admin.dispose()
            db = Database(make_url(self.pg_url).set(database=f"tuanbot_bench_{name}").render_as_string(False))
        upgrade(db)
        self.made.append((kind, name, db))
        return db

    def close(self) -> None:
        for kind, name, db in self.made:
            db.dispose()
            if kind == "postgresql" and not self.keep:
                admin = create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "tuanbot_bench_{name}" WITH (FORCE)'))
                admin.dispose()


def analyze(db: Database) -> None:
    """Planner statistics, and on SQLite the WAL folded back into the file (as a server's checkpointer does)."""
    with db.engine.connect() as c:
        c.execute(text("ANALYZE"))
        c.commit()
    if db.is_sqlite:
        import sqlite3

        with sqlite3.connect(make_url(db.url).database) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def vacuum(db: Database) -> None:
    """PostgreSQL: VACUUM, as autovacuum does after a million inserts, so index-only scans skip the table."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))


# ---- timing ------------------------------------------------------------------------------------------

class Sender:
    """Types messages into one group through the real dispatcher, with unique msg ids."""

    def __init__(self, db: Database, group: str = "g1"):
        self.dispatcher = Dispatcher(db, owners=frozenset({"boss"}), tz=TZ, clock=lambda: T0)
        self.group = group
        self.n = 0

    def send(self, text_: str, user: str = "u1", group: str | None = None) -> str:
        self.n += 1
        msg = Message(channel="bridge", chat_id=group or self.group, sender_id=user, text=text_,
                      msg_id=f"bench-{os.getpid()}-{time.monotonic_ns()}-{self.n}")
        return "\n".join(self.dispatcher.handle(msg).reply.texts)


def paired_ms(fa, fb, repeat: int) -> tuple[float, float]:
    """Medians of two workloads run alternately, so both see the same load from other processes."""
    for _ in range(2):
        fa(), fb()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((fa, times[0]), (fb, times[1])):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def table(title: str, header: list[str], rows: list[list]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" for _ in header) + " |")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    sys.stdout.flush()


# ---- goal 1: search -----------------------------------------------------------------------------------

SEARCH_WORDS = [  # (what it is, word)
    ("3+ CJK, 1 % match", "牛肉干"), ("3+ CJK, no match", "榴莲披萨"),
    ("2 CJK, 3 % match", "牛肉"), ("2 CJK, no match", "披萨"),
    ("1 CJK, 4 % match", "茶"), ("1 CJK, no match", "鲸"),
    ("3+ ASCII, 1 % match", "jerky"), ("3+ ASCII, no match", "pizza"),
    ("2 ASCII, match", "ke"), ("2 ASCII, no match", "qz"),
    ("1 ASCII, match", "j"), ("1 ASCII, no match", "q"),
    # Worst cases: matches only at the end of the code order, half the catalog, spaces, LIKE's
    # wildcards and escape, FTS5's and SQL's quotes.
    ("3 ASCII, all at the end of the code order", "w09"), ("2 ASCII, all at the end of the code order", "w0"),
    ("1 ASCII, half the catalog", "a"), ("3+ with a space", "beef jerky"), ("3+ with a space, 39 %", "g pack"),
    ("1, %", "%"), ("1, _", "_"), ("1, \\", "\\"), ('1, "', '"'), ("1, '", "'"), ("3+ with % and _", "0%_"),
]


def bench_search(dbs: Databases, kinds: list[str], n_products: int, repeat: int) -> None:
    small_csv, big_csv = write_catalog(100), write_catalog(n_products)
    for kind in kinds:
        small, big = dbs.fresh(kind, "search_small"), dbs.fresh(kind, "search_big")
        import_file(small, small_csv, T0)
        t = time.perf_counter()
        report = import_file(big, big_csv, T0)
        took = time.perf_counter() - t
        print(f"\n{kind}: imported {report.added:,} products in {took:.1f} s "
              f"({report.added / took:,.0f} rows/s; rejected {len(report.rejected)})")
        analyze(big)
        analyze(small)
        s_small, s_big = Sender(small), Sender(big)
        rows = []
        for label, word in SEARCH_WORDS:
            matches = _count_matches(big, word)
            a, b = paired_ms(lambda: s_small.send(f"商品 {word}"), lambda: s_big.send(f"商品 {word}"), repeat)
            qa, qb = paired_ms(lambda: _first_page(small, word), lambda: _first_page(big, word), repeat)
            rows.append([f"商品 {word}", label, f"{matches:,}", f"{a:.2f}", f"{b:.2f}", f"×{b / a:.1f}",
                         f"{qa:.2f}", f"{qb:.2f}", f"×{qb / qa:.1f}"])
        for label, code in (("详情, swapped digits", "A000081"), ("详情, no such code", "ZZ9")):
            a, b = paired_ms(lambda: s_small.send(f"详情 {code}"), lambda: s_big.send(f"详情 {code}"), repeat)
            rows.append([f"详情 {code}", label, "", f"{a:.2f}", f"{b:.2f}", f"×{b / a:.1f}", "", "", ""])
        a, b = paired_ms(lambda: s_small.send("下单 A000000 1"), lambda: s_big.send("下单 A000000 1"), repeat)
        rows.append(["下单 A000000 1", "an order", "", f"{a:.2f}", f"{b:.2f}", f"×{b / a:.1f}", "", "", ""])
        table(f"Goal 1, search ({kind}): ms a message, and ms the search itself (first page, read transaction), "
              f"at 100 and {n_products:,} products",
              ["message", "word", f"matches at {n_products:,}", "message at 100", f"at {n_products:,}", "ratio",
               "search at 100", f"at {n_products:,}", "ratio"], rows)


def _first_page(db: Database, word: str) -> None:
    from catalog.search import search_products

    with db.read() as conn:
        search_products(conn, word, offset=0, limit=10)


def _count_matches(db: Database, word: str) -> int:
    from catalog.search import search_products

    with db.read() as conn:
        page, more = search_products(conn, word, offset=0, limit=1_000_000)
    return len(page)


# ---- goal 2: stats over a million messages ----------------------------------------------------------------

BUSY_GROUP_MESSAGES = 42_000


def build_history(db: Database, n_messages: int, n_groups: int, busy: int = BUSY_GROUP_MESSAGES) -> float:
    """n_messages inbound rows over n_groups groups and the 30 days before T0 (group g0000 holds `busy`),
    1 % of them member_joined events with an inviter, a tenth of the texts commands; 1,000 orders a day."""
    from sqlalchemy import insert

    from catalog.groups import put_group
    from storage.tables import inbound_messages, orders

    rnd = random.Random(2)
    span = 30 * 86400
    t = time.perf_counter()
    with db.begin() as conn:
        for g in range(n_groups):
            put_group(conn, f"g{g:04d}", {"name": f"群 {g}"}, T0 - timedelta(days=31))
    batch: list[dict] = []
    with db.begin() as conn:
        for i in range(n_messages):
            g = 0 if i < busy else 1 + rnd.randrange(n_groups - 1)
            joined = rnd.random() < 0.01
            batch.append({
                "channel": "bridge", "msg_id": f"h{i}", "group_id": f"g{g:04d}", "sender_id": f"u{rnd.randrange(300)}",
                "kind": "event" if joined else "text", "event": "member_joined" if joined else None,
                "inviter_id": f"u{rnd.randrange(300)}" if joined else None,
                "is_command": (not joined) and rnd.random() < 0.1, "command": None,
                "received_at": T0 - timedelta(seconds=rnd.randrange(span)), "reply": None,
            })
            if len(batch) == 20_000:
                conn.execute(insert(inbound_messages), batch)
                batch.clear()
        if batch:
            conn.execute(insert(inbound_messages), batch)
        conn.execute(insert(orders), [
            {"group_id": f"g{rnd.randrange(n_groups):04d}", "user_id": f"u{rnd.randrange(300)}", "product_id": 1,
             "quantity": 1, "unit_price_fen": 100, "total_fen": 100, "price_source": "price", "status": "pending",
             "created_at": T0 - timedelta(seconds=rnd.randrange(span))}
            for _ in range(30_000)
        ])
    return time.perf_counter() - t


def bench_stats(dbs: Databases, kinds: list[str], n_messages: int, n_groups: int, repeat: int,
                rollup: bool = True, busy: int = BUSY_GROUP_MESSAGES) -> None:
    import asyncio

    import httpx

    from bot.jobs import fold_member_totals, roll_up_activity

    rows = []
    members = "/admin/groups/g0000/members?limit=100"
    for kind in kinds:
        db = dbs.fresh(kind, "stats")
        import_file(db, write_catalog(100), T0)
        took = build_history(db, n_messages, n_groups, busy)
        print(f"\n{kind}: {n_messages:,} messages over {n_groups:,} groups and 30 days written in {took:.1f} s")
        if rollup:
            t = time.perf_counter()
            rolled = 0
            while n := roll_up_activity(db, lambda: T0, tz=TZ):  # what the scheduler does over a few ticks
                rolled += n
            print(f"{kind}: the rollup of {rolled} closed days and parts of days took "
                  f"{time.perf_counter() - t:.1f} s")
        analyze(db)
        if kind == "postgresql":
            vacuum(db)
        app, get = admin_app(db)

        async def members_ms() -> float:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://b") as client:
                return await _amedian(lambda: get(client, members), repeat)

        if rollup:
            rows.append([kind, f"GET {members}, nothing folded (reads the group's history)",
                         f"{asyncio.run(members_ms()):.0f}"])
            t = time.perf_counter()
            steps = 0
            while n := fold_member_totals(db, lambda: T0):  # what the scheduler does over a few ticks
                steps += n
            print(f"{kind}: folding the member totals ({steps} steps of an hour) took {time.perf_counter() - t:.1f} s")
            # As a server would have it by then: the fold's writes out of SQLite's WAL (this app runs no
            # checkpointer; every read after paid for it), and PostgreSQL's vacuum done, not running meanwhile.
            analyze(db)
            if kind == "postgresql":
                vacuum(db)
            rows.append([kind, f"GET {members}, folded", f"{asyncio.run(members_ms()):.0f}"])

        async def run():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://b") as client:
                out = []
                for days in (1, 7, 30):
                    out.append((f"GET /admin/stats?days={days}", await _amedian(lambda: get(client, f"/admin/stats?days={days}"), repeat)))
                out.append(("GET /admin/groups/g0000/chart.png?days=30",
                            await _amedian(lambda: get(client, "/admin/groups/g0000/chart.png?days=30"), repeat)))
                return out

        for label, ms in asyncio.run(run()):
            rows.append([kind, label, f"{ms:.0f}"])
        s = Sender(db, group="g0000")
        ms = statistics.median(_timed(lambda: s.send("统计", user="boss"), repeat))
        rows.append([kind, f"统计 in g0000 ({busy:,} messages in 30 days)", f"{ms:.1f}"])
    table(f"Goal 2, stats: ms with {n_messages:,} messages over {n_groups:,} groups and 30 days, "
          + ("closed days rolled up, parts of days written" if rollup else "no day rolled up (every figure read from the messages)"),
          ["database", "request", "ms (median)"], rows)


def admin_app(db: Database):
    """The app on `db` as `tuanbot serve` builds it, clock at T0, and `get(client, path)`: an admin GET that
    must answer 200."""
    from bot.app import create_app, freeze_startup_objects
    from bot.settings import load_settings

    app = create_app(load_settings(database_url=db.url, admin_token="bench"), db=db, clock=lambda: T0)
    freeze_startup_objects()  # as `tuanbot serve` does: full GC collections no longer walk what exists by now
    auth = {"Authorization": "Bearer bench"}

    async def get(client, path):
        r = await client.get(path, headers=auth)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])

    return app, get


async def atimes(fn, repeat: int) -> list[float]:
    """ms of each of `repeat` awaits of fn(), after one to warm up."""
    await fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _timed(fn, repeat: int) -> list[float]:
    fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def _amedian(fn, repeat: int) -> float:
    return statistics.median(await atimes(fn, repeat))


# ---- goal 3: big group buys ---------------------------------------------------------------------------------

def bench_groupbuy(dbs: Databases, kinds: list[str], n_past: int, repeat: int) -> None:
    from sqlalchemy import insert, select

    from catalog.importer import import_file as _import
    from storage.tables import groupbuy_participants, groupbuys

    rows = []
    for kind in kinds:
        empty, full = dbs.fresh(kind, "gb_empty"), dbs.fresh(kind, "gb_full")
        for db in (empty, full):
            _import(db, write_catalog(100), T0)
        t = time.perf_counter()
        per, made = 1000, 0
        with full.begin() as conn:
            pid = conn.execute(select(groupbuys.c.id).limit(1)).first()  # none yet
            assert pid is None
            while made < n_past:
                n = min(per, n_past - made)
                gb_id = conn.execute(insert(groupbuys).values(
                    group_id=f"old{made // per % 50}", product_id=1, basis="people",
                    tiers=[{"threshold": 2, "price_fen": 100}], deadline=T0, status="succeeded", final_price_fen=100,
                    created_by="boss", created_at=T0 - timedelta(days=30), settled_at=T0 - timedelta(days=29),
                    people_count=n, piece_count=n, last_join_no=n,  # as the joins would have left them
                )).inserted_primary_key[0]
                conn.execute(insert(groupbuy_participants), [
                    {"groupbuy_id": gb_id, "user_id": f"p{i}", "quantity": 1, "join_no": i + 1,
                     "joined_at": T0 - timedelta(days=30)} for i in range(n)
                ])
                made += per
        print(f"\n{kind}: {n_past:,} past participants in {n_past // per} settled group buys written in "
              f"{time.perf_counter() - t:.1f} s")
        analyze(full)
        analyze(empty)
        joins = []
        for db in (empty, full):
            s = Sender(db)
            s.send("开团 A000000 2:100 4:90 截止 2h", user="boss")
            gb, users = _newest_groupbuy(db), iter(range(10**6))
            joins.append(lambda s=s, gb=gb, users=users: s.send(f"参团 {gb} 1", user=f"j{next(users)}"))
        times = paired_ms(*joins, repeat * 4)
        rows.append([kind, "参团 (a new participant)", f"{times[0]:.2f}", f"{times[1]:.2f}", f"×{times[1] / times[0]:.2f}"])
        # Settling: a group buy with 3,000 participants (joined through the dispatcher), closed by 结束.
        s = Sender(full)
        s.send("开团 A000018 2:100 截止 2h", user="boss")
        gb = _newest_groupbuy(full)
        for i in range(3000):
            s.send(f"参团 {gb} 1", user=f"big{i}")
        t = time.perf_counter()
        reply = s.send(f"结束 {gb}", user="boss")
        took = (time.perf_counter() - t) * 1000
        assert "3000" in reply.replace(",", "") or "成团" in reply, reply
        rows.append([kind, "结束 of a 3,000-participant group buy", "", f"{took:.0f}", ""])
    table(f"Goal 3, group buys: ms, on an empty database and with {n_past:,} past participants",
          ["database", "work", "empty", f"{n_past:,} past", "ratio"], rows)


def _newest_groupbuy(db: Database) -> int:
    from sqlalchemy import func, select

    from storage.tables import groupbuys

    with db.read() as conn:
        return conn.execute(select(func.max(groupbuys.c.id))).scalar_one()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--goals", default="search,stats,groupbuy")
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=1_000)
    ap.add_argument("--participants", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    ap.add_argument("--no-rollup", action="store_true",
                    help="stats: leave every day un-rolled-up (the figures read from the messages alone)")
    ap.add_argument("--busy-messages", type=int, default=BUSY_GROUP_MESSAGES,
                    help="stats: how many of the messages go to the busiest group, g0000")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    kinds = args.databases.split(",")
    goals = args.goals.split(",")
    dbs = Databases(args.pg_url, args.keep)
    print(f"# bench/scale.py {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    try:
        if "search" in goals:
            bench_search(dbs, kinds, args.products, args.repeat)
        if "stats" in goals:
            bench_stats(dbs, kinds, args.messages, args.groups, max(3, args.repeat // 3), rollup=not args.no_rollup,
                        busy=args.busy_messages)
        if "groupbuy" in goals:
            bench_groupbuy(dbs, kinds, args.participants, args.repeat)
    finally:
        dbs.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
