"""Instructions a request takes through the whole app, counted by valgrind: the same figure on every run.

    .venv/bin/python bench/instructions.py                 # bare, 商品 and 下单, 300 requests each
    .venv/bin/python bench/instructions.py --from ../old   # the same, for another checkout of tuanbot

Requests per second and even CPU time move with whatever else the machine runs; the number of
instructions a request executes does not (valgrind's callgrind counts them, and repeated runs agree to
within 0.01 %). That makes it the figure for a before-and-after of two checkouts on a shared machine.
It does not see time spent waiting on memory or in the kernel (the SQLite file's writes), so it
complements `bridge_throughput.py`, it does not replace it.

Each request goes through the ASGI app exactly as uvicorn would hand it over (middleware, routing, the
bridge's signature check and JSON, the dispatcher with its log line, the reply), built by
`bench/serve_bench.py` of the checkout measured, on a fresh SQLite file, on the event loop. Only the
measured requests are counted: the app is built and warmed up (every command 1,500 times) with
counting off, then a small C helper switches it on around them. Needs valgrind and gcc (Debian:
`apt-get install -y valgrind gcc`).
"""
from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import hashlib
import hmac
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELPER_C = """
#include <valgrind/callgrind.h>
void count_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT; }
void count_stop(void) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS_AT("measured"); CALLGRIND_STOP_INSTRUMENTATION; }
"""
SECRET = "bench-secret"
GROUPS, SENDERS = 8, 1000  # as bench/bridge_throughput.py
COMMANDS = ("bare", "商品", "下单")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="checkout", type=Path, default=Path(__file__).resolve().parent.parent,
                    help="the tuanbot checkout to measure, with its own .venv (default: this one)")
    ap.add_argument("--requests", type=int, default=300, help="requests counted per command (default 300)")
    ap.add_argument("--child", choices=COMMANDS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.requests)
    checkout = args.checkout.resolve()
    out = Path(tempfile.mkdtemp(prefix="tuanbot-instructions-"))
    helper = out / "count.so"
    (out / "count.c").write_text(HELPER_C)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(helper), str(out / "count.c")], check=True)
    print(f"{checkout} ({_revision(checkout)}), {args.requests} requests each, instructions a request:")
    for command in COMMANDS:
        env = {**os.environ, "PYTHONHASHSEED": "0", "TUANBOT_COUNT_HELPER": str(helper)}
        env = {k: v for k, v in env.items() if not k.startswith("TUANBOT_") or k == "TUANBOT_COUNT_HELPER"}
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
             f"--callgrind-out-file={out}/callgrind.{command}.%p",
             str(checkout / ".venv/bin/python"), str(Path(__file__).resolve()), "--child", command,
             "--requests", str(args.requests)],
            cwd=checkout, env=env, capture_output=True, text=True,
        )
        if done.returncode != 0:
            sys.exit(f"{command}: valgrind exited with {done.returncode}\n{done.stderr[-2000:]}")
        total = _measured(out, command)
        print(f"  {command}: {total / args.requests:,.0f}")


def _revision(checkout: Path) -> str:
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "not a git checkout"


def _measured(out: Path, command: str) -> int:
    """The instruction total of the dump taken right after the measured requests."""
    for path in out.glob(f"callgrind.{command}.*"):
        text = path.read_text(errors="replace")
        if "measured" in text:
            for line in text.splitlines():
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
    sys.exit(f"{command}: no measured dump in {out}")


# ---- inside valgrind, in the checkout measured ---------------------------------------------------

def child(command: str, n: int) -> None:
    """Build, warm up, count. The per-message log line is written as on a server (to a pipe here)."""
    sys.path[:0] = [str(Path.cwd()), str(Path.cwd() / "bench")]
    import serve_bench  # the checkout's own

    counting = ctypes.CDLL(os.environ["TUANBOT_COUNT_HELPER"])
    tmp = Path(tempfile.mkdtemp())
    build = serve_bench.build
    where = f"sqlite:///{tmp / 'bench.db'}" if "url" in inspect.signature(build).parameters else tmp / "bench.db"
    app = build(where, SECRET, None)
    codes = _orderable(app.state.db)
    texts = {"bare": lambda i: "x", "商品": lambda i: "商品", "下单": lambda i: f"下单 {codes[i % len(codes)]} 1"}
    seq = iter(range(10**9))

    async def run(which: str, count: int) -> None:
        path = "/bare" if which == "bare" else "/bridge/messages"
        requests = [_request(app, path, next(seq), texts[which]) for _ in range(count)]
        for scope, body in requests:
            status, answer = await _call(app, scope, body)
            if status != 200 or (which != "bare" and b'"duplicate":false' not in answer.replace(b" ", b"")):
                raise SystemExit(f"{which}: {status} {answer[:200]!r}")

    async def measure() -> None:
        for which in COMMANDS:
            await run(which, 1500)
        await run(command, 300)
        gc.collect()
        gc.freeze()  # as `tuanbot serve` does once started
        counting.count_start()
        await run(command, n)
        counting.count_stop()

    asyncio.run(measure())


def _orderable(db) -> list[str]:
    from sqlalchemy import select

    from storage import tables
    with db.begin() as conn:
        query = select(tables.products.c.code).where(tables.products.c.active.is_(True))
        if hasattr(tables, "product_variants"):  # older checkouts have no sizes
            query = query.where(tables.products.c.id.not_in(select(tables.product_variants.c.product_id)))
        return list(conn.execute(query.order_by(tables.products.c.code).limit(4)).scalars())


def _request(app, path: str, i: int, text_of) -> tuple[dict, bytes]:
    body = json.dumps({
        "msg_id": f"count-{i}", "group_id": f"bench-g{i % GROUPS}", "group_name": "压测群",
        "sender_id": f"u{i % SENDERS}", "sender_name": "压测", "sender_role": "member",
        "text": text_of(i), "mentions_bot": False, "sent_at": int(time.time()),
    }, ensure_ascii=False, separators=(",", ":")).encode()
    ts = str(int(time.time()))
    sig = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = [(b"host", b"bench"), (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"x-tuanbot-timestamp", ts.encode()), (b"x-tuanbot-signature", sig.encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}, "app": app}
    return scope, body


async def _call(app, scope: dict, body: bytes) -> tuple[int, bytes]:
    sent: list[dict] = []
    given = False

    async def receive():
        nonlocal given
        if given:  # the app never asks twice for a complete body; a disconnect would be the next message
            await asyncio.Event().wait()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


if __name__ == "__main__":
    main()
