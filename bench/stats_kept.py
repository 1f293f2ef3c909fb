"""Benchmark: the stats requests of scale.py's goal 2 against databases built once and kept, so code
before and after a change can be timed alternately on the same rows (issue 15).

    .venv/bin/python bench/stats_kept.py build [--databases sqlite,postgresql] [--name stats_kept]
    .venv/bin/python bench/stats_kept.py name [--databases …] [--name …]
    .venv/bin/python bench/stats_kept.py time [--databases …] [--name …] [--repeat 10] [--profile]
        [--without-raw-part]

`build` writes scale.py's history (1,000,000 messages over 1,000 groups and 30 days), rolls up the closed
days and writes the parts of days, into bench/out/<name>.db and the PostgreSQL database
tuanbot_bench_<name> (on TUANBOT_TEST_POSTGRES_URL); `drop` removes them. `name` gives everyone who wrote
in a group a name there, as a channel that carries names (the bridge, the web chat, the WeCom robot) leaves
them: the history alone has none, and naming people is part of what the listing costs. `time` prints the medians, in ms, of
/admin/stats?days=1/7/30, chart.png and 统计 of g0000 (`--without-raw-part`: as if the part of the
window read from the messages cost nothing: since the parts of days, the part of an hour at each end). The
code timed is the checkout this script is in (scale.py puts it first on the path): to time other code on
the same rows, copy this script into that checkout's bench/ and link its bench/out to this one.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402


def _url(kind: str, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{scale.OUT / f'{name}.db'}"
    return make_url(scale.PG_URL).set(database=f"tuanbot_bench_{name}").render_as_string(False)


def _admin(sql: str) -> None:
    admin = create_engine(scale.PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(sql))
    admin.dispose()


def drop(kind: str, name: str) -> None:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{scale.OUT / f'{name}.db'}{suffix}").unlink(missing_ok=True)
    else:
        _admin(f'DROP DATABASE IF EXISTS "tuanbot_bench_{name}" WITH (FORCE)')


def build(kind: str, name: str) -> None:
    from bot.jobs import roll_up_activity
    from catalog.importer import import_file

    drop(kind, name)
    scale.OUT.mkdir(exist_ok=True)
    if kind == "postgresql":
        _admin(f'CREATE DATABASE "tuanbot_bench_{name}"')
    db = Database(_url(kind, name))
    upgrade(db)
    import_file(db, scale.write_catalog(100), scale.T0)
    took = scale.build_history(db, 1_000_000, 1_000)
    t = time.perf_counter()
    while roll_up_activity(db, lambda: scale.T0, tz=scale.TZ):
        pass
    print(f"{kind}: history {took:.1f} s, rollup {time.perf_counter() - t:.1f} s")
    scale.analyze(db)
    if kind == "postgresql":
        scale.vacuum(db)
    db.dispose()


def name_everyone(kind: str, name: str) -> None:
    from sqlalchemy import func, literal, select

    from storage.tables import inbound_messages as im, members

    db = Database(_url(kind, name))
    t = time.perf_counter()
    with db.begin() as conn:
        conn.execute(members.delete())
        conn.execute(members.insert().from_select(
            ["group_id", "user_id", "name", "updated_at"],
            select(im.c.group_id, im.c.sender_id, literal("团员 ") + im.c.sender_id,
                   literal(scale.T0, members.c.updated_at.type))
            .where(im.c.kind == "text").distinct()))
        named = conn.execute(select(func.count()).select_from(members)).scalar()
    scale.analyze(db)
    if kind == "postgresql":
        scale.vacuum(db)
    db.dispose()
    print(f"{kind}: {named:,} members named in {time.perf_counter() - t:.1f} s")


def _spread(times: list[float]) -> str:
    return f"{statistics.median(times):.1f} (min {min(times):.1f})"


def without_raw_part() -> None:
    """What the requests would cost if the raw part of a window (what is read from the messages: the part
    of an hour at each end, any hour or day not rolled up) were free: its statement still runs but returns
    no row. The figures are then wrong; this bounds what any faster way of reading that part could save."""
    import catalog.stats
    from sqlalchemy import false

    raw_talk = catalog.stats._raw_talk
    catalog.stats._raw_talk = lambda parts, tz, only: raw_talk(parts, tz, only).subquery().select().where(false())


def time_requests(kind: str, name: str, repeat: int, profile: bool, windows: list[int],
                  only_command: bool) -> list[tuple[str, str]]:
    import httpx

    db = Database(_url(kind, name))
    app, get = scale.admin_app(db)

    async def run():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://b") as client:
            out = []
            if profile:
                await get(client, "/admin/stats?days=7")
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(repeat):
                    await get(client, "/admin/stats?days=7")
                prof.disable()
                pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
                return out
            for days in windows:
                path = f"/admin/stats?days={days}"
                out.append((f"stats?days={days}", _spread(await scale.atimes(lambda: get(client, path), repeat))))
            if windows:
                chart = "/admin/groups/g0000/chart.png?days=30"
                out.append(("chart.png", _spread(await scale.atimes(lambda: get(client, chart), repeat))))
            return out

    out = asyncio.run(run())
    if not profile:
        s = scale.Sender(db, group="g0000")
        s.send("统计", user="boss")
        out.append(("统计", _spread(scale._timed(lambda: s.send("统计", user="boss"), repeat))))
    db.dispose()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["build", "name", "time", "drop"])
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--name", default="stats_kept")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--days", default="1,7,30", help="time: the windows of /admin/stats to time")
    ap.add_argument("--command-only", action="store_true", help="time: 统计 alone")
    ap.add_argument("--profile", action="store_true", help="time: cProfile /admin/stats?days=7 instead")
    ap.add_argument("--without-raw-part", action="store_true",
                    help="time: as if the window's raw part cost nothing (wrong figures; a bound, see without_raw_part)")
    args = ap.parse_args()
    if args.without_raw_part:
        without_raw_part()
    for kind in args.databases.split(","):
        if args.action == "build":
            build(kind, args.name)
        elif args.action == "name":
            name_everyone(kind, args.name)
        elif args.action == "drop":
            drop(kind, args.name)
        else:
            figures = time_requests(kind, args.name, args.repeat, args.profile, 
                                     [] if args.command_only else [int(d) for d in args.days.split(",")],
                                     args.command_only)
            load = os.getloadavg()[0]
            print(f"{kind} (load {load:.1f}): " + ", ".join(f"{label} {ms}" for label, ms in figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
