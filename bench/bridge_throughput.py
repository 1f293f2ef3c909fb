"""Speed of POST /bridge/messages (商品 browse, 下单 buy) against a bare endpoint of the same server, with wrk.

    .venv/bin/python bench/bridge_throughput.py            # 10 s per endpoint, -t2 -c32, loopback only
    .venv/bin/python bench/bridge_throughput.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bridge_throughput.py --products 100000 --slow detail,order,search --rounds 3

Needs wrk (Debian/Ubuntu: `apt-get install -y wrk`; macOS: `brew install wrk`). Prints requests/s, p50 and
p99 per endpoint and each as a share of the bare endpoint; raw figures go to bench/out/ (gitignored).
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
LUA = BENCH / "wrk_bridge.lua"
SECRET = "bench-secret"
GROUPS = 8
SENDERS = 1000

# (endpoint, share of bare throughput) — the old speed targets, withdrawn: shown as a reference for
# regressions, not a pass mark. The exit code says only whether every request was answered and counted.
TARGETS = {"商品": 0.50, "下单": 0.30}
P99_TARGET_MS = 50.0


def sign(timestamp: str, body: bytes) -> str:
    # The bridge's own scheme (SPEC section 3), spelled out here so the bench imports nothing of the app.
    return "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def payload(msg_id: str, i: int, text: str, sender: str | None = None) -> bytes:
    return json.dumps({
        "msg_id": msg_id, "group_id": f"bench-g{i % GROUPS}", "group_name": "压测群",
        "sender_id": sender or f"u{i % SENDERS}", "sender_name": "压测", "sender_role": "member",
        "text": text, "mentions_bot": False, "sent_at": int(time.time()),
    }, ensure_ascii=False, separators=(",", ":")).encode()


def write_requests(path: Path, run: str, count: int, text_of, *, signed: bool) -> None:
    """One line per request, each with its own msg_id; signed with a timestamp of now (skew limit 300 s)."""
    ts = str(int(time.time()))
    with path.open("wb") as f:
        for i in range(count):
            body = payload(f"bench-{run}-{i}", i, text_of(i))
            sig = sign(ts, body) if signed else ""
            f.write(f"{ts}\t{sig}\t".encode() + body + b"\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, store: "Store", args, log_path: Path) -> subprocess.Popen:
    """serve_bench.py (the app plus /bare), or with --workers `tuanbot serve --workers N --no-scheduler` on a
    database serve_bench.py prepared."""
    bench_cmd = [sys.executable, str(BENCH / "serve_bench.py"), "--secret", SECRET, *store.where(),
                 "--products", str(args.products)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUANBOT_")}
    log = log_path.open("wb")
    if args.workers:
        subprocess.run([*bench_cmd, "--port", "0", "--prepare-only"], cwd=ROOT, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True, timeout=1800)
        cmd = [sys.executable, "-m", "bot", "serve", "--no-scheduler", "--workers", str(args.workers), "--port", str(port)]
        env = {**env, "TUANBOT_DATABASE_URL": store.url, "TUANBOT_BRIDGE_SECRET": SECRET}
    else:
        cmd = [*bench_cmd, "--port", str(port)]
        if args.server_threads:
            cmd += ["--threads", str(args.server_threads)]
        if args.pool_size:
            cmd += ["--pool-size", str(args.pool_size)]
        if args.switch_interval:
            cmd += ["--switch-interval", str(args.switch_interval)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60 + args.products / 1000  # a big catalog takes a while to write
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the bench server exited with {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    sys.exit(f"the bench server did not answer /healthz within 60 s; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)  # its own session: uvicorn's worker processes go with it
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def post(port: int, msg_id: str, i: int, text: str, sender: str | None = None) -> dict:
    body = payload(msg_id, i, text, sender)
    ts = str(int(time.time()))
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/bridge/messages", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Tuanbot-Timestamp": ts, "X-Tuanbot-Signature": sign(ts, body)},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def probe(port: int, text: str) -> str:
    """One signed request, to show (and check) what the measured requests get back."""
    answer = post(port, f"bench-probe-{time.time_ns()}", 0, text)
    if answer["duplicate"] or not answer["replies"]:
        sys.exit(f"probe {text!r} got {answer}: the bench would not measure the real path")
    return answer["replies"][0]["text"]


def run_wrk(port: int, path: str, requests_file: Path, args, duration: float, *, cycle: bool) -> tuple[dict, str]:
    cmd = [
        "wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{max(1, round(duration))}s", "--timeout", "5s", "--latency",
        "-s", str(LUA), f"http://127.0.0.1:{port}",
        "--", str(requests_file), path, str(args.wrk_threads), *(["cycle"] if cycle else []),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    m = re.search(r"^WRK_JSON (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or m is None:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(m.group(1)), done.stdout


class Store:
    """The bench's database: a fresh SQLite file under bench/out/, or with --postgres a database of its own
    on that server (created fresh, dropped at the end)."""

    def __init__(self, pg_url: str | None, pg_database: str):
        self.pg_url = pg_url
        self.path = OUT / "bench.db"
        self.kind = "PostgreSQL" if pg_url else "SQLite"
        self.url = f"sqlite:///{self.path}"
        self._engine = None
        if pg_url:
            from sqlalchemy.engine import make_url

            self.name = pg_database
            self.url = make_url(pg_url).set(database=pg_database).render_as_string(hide_password=False)
            self._admin("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", 'CREATE DATABASE "{}"')

    def where(self) -> list[str]:
        return ["--url", self.url] if self.pg_url else ["--db", str(self.path)]

    def _admin(self, *statements: str) -> None:
        from sqlalchemy import create_engine, text

        admin = create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            for sql in statements:
                c.execute(text(sql.format(self.name)))
        admin.dispose()

    def query(self, sql: str, *params) -> list[tuple]:
        """Read-only queries written with `?` placeholders."""
        if not self.pg_url:
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as c:
                return c.execute(sql, params).fetchall()
        from sqlalchemy import create_engine, text

        if self._engine is None:
            self._engine = create_engine(self.url, poolclass=None, pool_size=1)
        names = {f"p{i}": v for i, v in enumerate(params)}
        for i in range(len(params)):
            sql = sql.replace("?", f":p{i}", 1)
        with self._engine.connect() as c:
            return [tuple(r) for r in c.execute(text(sql), names)]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self.pg_url:
            self._admin('DROP DATABASE IF EXISTS "{}" WITH (FORCE)')


def recorded(store: Store, run: str) -> tuple[int, int]:
    """(messages of this run recorded, orders in the database): each request must be acted on once.

    A few more messages than wrk counts is normal: requests in flight when wrk stops are still handled.
    """
    prefix = f"bench-{run}-"
    rows = store.query("SELECT count(*) FROM inbound_messages WHERE substr(msg_id, 1, ?) = ?", len(prefix), prefix)
    orders = store.query("SELECT count(*) FROM orders")
    return rows[0][0], orders[0][0]


class SlowMember:
    """One member sending `text_of(i)` every `interval` seconds from a thread of its own, each message in a
    thread of its own, so a slow answer does not lower the rate (a person typing does not wait either)."""

    def __init__(self, port: int, run: str, text_of, interval: float = 0.5):
        self.port, self.run, self.text_of, self.interval = port, run, text_of, interval
        self.latencies_ms: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._sent: list[threading.Thread] = []
        self._ticker = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self):
        self._ticker.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._ticker.join()
        for t in self._sent:
            t.join(timeout=35)

    def _tick(self) -> None:
        i, next_at = 0, time.monotonic()
        while not self._stop.is_set():
            t = threading.Thread(target=self._send, args=(i,), daemon=True)
            t.start()
            self._sent.append(t)
            i += 1
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _send(self, i: int) -> None:
        started = time.perf_counter()
        try:
            answer = post(self.port, f"slow-{self.run}-{i}", 0, self.text_of(i), sender="slow-member")
            if answer["duplicate"] or not answer["replies"]:
                self.failures += 1
        except OSError:
            self.failures += 1
            return
        self.latencies_ms.append((time.perf_counter() - started) * 1000)


def mistyped_code(store: Store) -> tuple[str, str]:
    """(a product's code, the same code with two of its digits swapped, which is no product's code)."""
    codes = [r[0] for r in store.query("SELECT code FROM products ORDER BY id LIMIT 2000")]
    known = set(codes)
    for code in codes:
        digits = [i for i, ch in enumerate(code) if ch.isdigit()]
        for a, b in zip(digits, digits[1:]):
            if code[a] != code[b]:
                swapped = code[:a] + code[b] + code[a + 1:b] + code[a] + code[b + 1:]
                if swapped not in known and not store.query("SELECT 1 FROM products WHERE code = ?", swapped):
                    return code, swapped
    sys.exit("no product code with two different digits to swap")


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0:1]
    return {
        "cpus": os.cpu_count(), "cpu": cpu or platform.processor(), "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "wrk": wrk_version[0] if wrk_version else "",
        "note": "wrk and the server share these CPUs",
    }


# The slow member's messages (--slow): work that grows with the catalog, sent twice a second by one member.
SLOW_TEXTS = {
    "detail": lambda wrong: f"详情 {wrong}",    # a code with two digits swapped: the nearest codes are looked up
    "order": lambda wrong: f"下单 {wrong} 1",   # the same code in an order
    "search": lambda wrong: "商品 榴莲披萨",     # a search that matches nothing
}
TAGS = {"bare": "bare", "商品": "browse", "下单": "buy"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each run (default 2)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat every scenario this many times, interleaved; report the median")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--server-threads", type=int, default=None, help="the server's threadpool size (default: anyio's 40)")
    ap.add_argument("--pool-size", type=int, default=None,
                    help="the server's Database pool_size (PostgreSQL: also how many messages run at once; default 10)")
    ap.add_argument("--switch-interval", type=float, default=None, help="the server's sys.setswitchinterval (default 0.005)")
    ap.add_argument("--max-rps", type=int, default=10000, help="requests pre-signed per second of run (default 10000)")
    ap.add_argument("--order-codes", type=int, default=4,
                    help="下单 cycles over this many products (default 4: a few hot rows, as in a group's sale)")
    ap.add_argument("--endpoints", default="bare,商品,下单", help="which of bare, 商品, 下单 to measure (default all three)")
    ap.add_argument("--postgres", metavar="URL", default=None,
                    help="serve from PostgreSQL: a server URL (postgresql+psycopg://…); the bench creates its own "
                         "database there and drops it at the end")
    ap.add_argument("--pg-database", default="tuanbot_bench_bridge", help="that database's name (default tuanbot_bench_bridge)")
    ap.add_argument("--products", type=int, default=0, help="products added to the demo catalog (e.g. 100000)")
    ap.add_argument("--slow", default="", metavar="KINDS",
                    help="isolation: measure 下单 alone and while one member sends each of these twice a second, "
                         "interleaved: detail (详情 of a mistyped code), order (下单 of it), search (a no-match 商品)")
    ap.add_argument("--slow-interval", type=float, default=0.5, help="seconds between the slow member's messages (default 0.5)")
    ap.add_argument("--workers", type=int, default=0,
                    help="serve with `tuanbot serve --workers N --no-scheduler` instead of serve_bench.py (PostgreSQL; no bare endpoint)")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed. Install it with `sudo apt-get install -y wrk` (Debian/Ubuntu) "
                 "or `brew install wrk` (macOS), then run this again.")
    if not 1 <= args.duration <= 120:
        sys.exit("--duration must be between 1 and 120 seconds")
    slow_kinds = [k for k in args.slow.split(",") if k]
    if unknown := [k for k in slow_kinds if k not in SLOW_TEXTS]:
        sys.exit(f"--slow: unknown {', '.join(unknown)} (choose from {', '.join(SLOW_TEXTS)})")
    endpoints = [e for e in args.endpoints.split(",") if e]
    if unknown := [e for e in endpoints if e not in TAGS]:
        sys.exit(f"--endpoints: unknown {', '.join(unknown)} (choose from {', '.join(TAGS)})")
    if args.workers and not args.postgres:
        sys.exit("--workers needs --postgres (tuanbot serve refuses several processes on SQLite)")
    if args.workers:
        endpoints = [e for e in endpoints if e != "bare"]  # tuanbot serve has no bare endpoint

    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    port = free_port()
    store = Store(args.postgres, args.pg_database)
    proc = None
    try:
        proc = start_server(port, store, args, OUT / "server.log")
        # Products without sizes: `下单 A12 1` for the sized demo sneakers is a refusal, not an order.
        codes = [r[0] for r in store.query(
            "SELECT code FROM products WHERE active AND id NOT IN (SELECT product_id FROM product_variants)"
            " ORDER BY code LIMIT ?", args.order_codes)]
        order = lambda i: f"下单 {codes[i % len(codes)]} 1"  # noqa: E731
        # (name, path, text_of, signed, the slow member's text_of or None)
        known = {
            "bare": ("bare", "/bare", lambda i: "商品", False, None),
            "商品": ("商品", "/bridge/messages", lambda i: "商品", True, None),
            "下单": ("下单", "/bridge/messages", order, True, None),
        }
        if slow_kinds:
            real, wrong = mistyped_code(store)
            print(f"the slow member's mistyped code: {wrong} (of {real})")
            scenarios = [known["下单"]] + [
                (f"下单 + {kind}", "/bridge/messages", order, True, (lambda i, t=SLOW_TEXTS[kind](wrong): t))
                for kind in slow_kinds
            ]
            for kind in slow_kinds:
                print(f"probe slow {kind} ({SLOW_TEXTS[kind](wrong)}): {probe(port, SLOW_TEXTS[kind](wrong)).splitlines()[0]}")
        else:
            scenarios = [known[e] for e in endpoints]
        for name, _, text_of, signed, _slow in scenarios:
            if signed and _slow is None:
                print(f"probe {name}: {probe(port, text_of(0)).splitlines()[0]}")
        rounds: list[list[dict]] = []
        for n in range(1, args.rounds + 1):  # interleaved, so a busy moment on the machine hits every scenario
            # Each round starts one scenario further on, so no scenario is always first (or always after
            # the same one); results are kept in scenario order.
            results = [None] * len(scenarios)
            for k in [(n - 1 + j) % len(scenarios) for j in range(len(scenarios))]:
                name, path, text_of, signed, slow = scenarios[k]
                tag = TAGS.get(name) or f"slow{k}-buy"  # no tag may begin with another: recorded() counts by prefix
                reqs = OUT / f"requests-{tag}.tsv"
                count = 200 if not signed else int((args.duration + 1) * args.max_rps)
                if args.warmup:
                    warm = min(count, int((args.warmup + 1) * args.max_rps))
                    write_requests(reqs, f"warm{stamp}r{n}-{tag}", warm, text_of, signed=signed)
                    run_wrk(port, path, reqs, args, args.warmup, cycle=not signed)
                run = f"{stamp}r{n}-{tag}"
                write_requests(reqs, run, count, text_of, signed=signed)  # right before the run: fresh timestamps
                orders_before = recorded(store, run)[1]
                member = SlowMember(port, run, slow, args.slow_interval) if slow else None
                if member:
                    with member:
                        figures, raw = run_wrk(port, path, reqs, args, args.duration, cycle=not signed)
                    lat = sorted(member.latencies_ms)
                    figures.update(slow_sent=len(lat) + member.failures, slow_failures=member.failures,
                                   slow_p50_ms=lat[len(lat) // 2] if lat else None, slow_max_ms=lat[-1] if lat else None)
                else:
                    figures, raw = run_wrk(port, path, reqs, args, args.duration, cycle=not signed)
                (OUT / f"wrk-{tag}-{stamp}-r{n}.txt").write_text(raw)
                figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
                if signed:
                    figures["messages_recorded"], orders_after = recorded(store, run)
                    figures["orders_placed"] = orders_after - orders_before
                results[k] = {"endpoint": name, "path": path, "round": n, "loadavg": os.getloadavg()[0], **figures}
                reqs.unlink()
            rounds.append(results)
            print(f"round {n}: " + ", ".join(f"{r['endpoint']} {r['rps']:.0f}/s p99 {r['p99_us'] / 1000:.1f} ms" for r in results)
                  + f" (load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        if proc is not None:
            stop_server(proc)
        store.close()

    # One row per scenario: the median round (by requests/s) of each.
    results = [sorted((r[i] for r in rounds), key=lambda x: x["rps"])[len(rounds) // 2] for i in range(len(scenarios))]
    failed = []  # scenarios with errors or too few pre-signed requests
    for r in results:
        errors = r["status_errors"] + r["timeouts"] + r["read_errors"] + r["connect_errors"] + r["write_errors"]
        r["problems"] = f"  ({errors} errors, {r['exhausted']} beyond the pre-signed set)" if errors or r["exhausted"] else ""
        if r["problems"]:
            failed.append(r["endpoint"])
    info = machine()
    server = (f"`tuanbot serve --workers {args.workers}`" if args.workers
              else "1 uvicorn process (uvloop, httptools)")
    catalog = f"demo catalog + {args.products:,} products" if args.products else "demo catalog"
    head = (f"POST /bridge/messages — {args.duration:g} s each, median of {args.rounds}, wrk -t{args.wrk_threads} -c{args.connections}, "
            f"{server}, {store.kind}, {catalog}; {info['cpus']} CPUs ({info['cpu']}), shared with wrk; "
            f"load average {os.getloadavg()[0]:.1f}")
    if slow_kinds:
        lines = [f"{'scenario':<18} {'下单/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'vs alone':>8} {'p99 vs alone':>12} "
                 f"{'slow p50/max ms':>16}  "
                 f"target (≥80 % of alone, p99 < {P99_TARGET_MS:.0f} ms)"]
        for i, r in enumerate(results):
            # The share against 下单 alone is taken round by round (both ran within seconds), then its median.
            shares = sorted(rnd[i]["rps"] / rnd[0]["rps"] for rnd in rounds)
            r["share_of_alone"] = share = shares[len(shares) // 2]
            p99s = sorted(rnd[i]["p99_us"] / rnd[0]["p99_us"] for rnd in rounds)
            r["p99_of_alone"] = p99_share = p99s[len(p99s) // 2]
            p50, p99 = r["p50_us"] / 1000, r["p99_us"] / 1000
            slow = f"{r['slow_p50_ms']:.0f}/{r['slow_max_ms']:.0f}" if r.get("slow_p50_ms") is not None else ""
            verdict = ("met" if share >= 0.8 and p99 < P99_TARGET_MS else "not met") if i else (
                "met" if p99 < P99_TARGET_MS else "p99 not met")
            label = r["endpoint"] + " " * (18 - sum(2 if ord(ch) > 0x2E80 else 1 for ch in r["endpoint"]))
            lines.append(f"{label} {r['rps']:>8.0f} {p50:>7.2f} {p99:>7.2f} {share:>8.0%} {p99_share:>11.2f}× {slow:>16}  "
                         f"{verdict}{r['problems']}")
    else:
        bare_rps = results[0]["rps"] if results[0]["endpoint"] == "bare" else None
        lines = [f"{'endpoint':<8} {'requests/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'% of bare':>9}  target"]
        for r in results:
            share = r["rps"] / bare_rps if bare_rps else None
            r["share_of_bare"] = share
            p50, p99 = r["p50_us"] / 1000, r["p99_us"] / 1000
            target = TARGETS.get(r["endpoint"])
            verdict = ""
            if target is not None:
                ok = (share is None or share >= target) and p99 < P99_TARGET_MS
                verdict = (f"(old target ≥{target:.0%} & " if share is not None else "(") + \
                    f"p99<{P99_TARGET_MS:.0f}ms: {'met' if ok else 'not met'})"
            # The endpoint names are two wide characters each: pad by display width.
            label = r["endpoint"] + " " * (8 - sum(2 if ord(ch) > 0x2E80 else 1 for ch in r["endpoint"]))
            shown = f"{share:>9.0%}" if share is not None else f"{'':>9}"
            lines.append(f"{label} {r['rps']:>10.0f} {p50:>7.2f} {p99:>7.2f} {shown}  {verdict}{r['problems']}".rstrip())
    table = "\n".join([head, *lines])
    print(table)
    for r in results:
        if "messages_recorded" in r:
            print(f"  {r['endpoint']}: {r['requests']} responses counted by wrk, {r['messages_recorded']} messages recorded, "
                  f"{r['orders_placed']} orders placed"
                  + (f"; the slow member sent {r['slow_sent']} ({r['slow_failures']} failed)" if "slow_sent" in r else ""))
    report = {"stamp": stamp, "machine": info, "settings": vars(args), "results": results, "rounds": rounds, "table": table}
    for name in (f"bridge_throughput-{stamp}.json", "latest.json"):
        (OUT / name).write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"raw figures: {OUT / f'bridge_throughput-{stamp}.json'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
