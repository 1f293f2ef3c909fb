"""Two real `tuanbot serve` processes sharing one PostgreSQL database: each due push is delivered once,
and when one process is SIGKILLed mid-send, the other finishes its work after the lease."""
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from catalog.groups import put_group
from catalog.pushes import create_push
from conftest import _fresh_db
from receiver import Receiver
from storage.tables import outbox

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("Asia/Shanghai")
SECRET = "proc-secret"


@pytest.fixture
def pg_db(tmp_path, sqlite_template, pg_admin, pg_template):
    yield from _fresh_db("postgresql", tmp_path, sqlite_template, pg_admin, pg_template)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db, tmp_path, name):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUANBOT_")}
    env.update({"TUANBOT_DATABASE_URL": db.url, "TUANBOT_BRIDGE_SECRET": SECRET, "TUANBOT_QUIET_HOURS": "",
                "TUANBOT_SCHEDULER_TICK_SECONDS": "0.2"})
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(free_port())],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def ten_due_pushes(db, receiver):
    now = datetime.now(timezone.utc)
    with db.begin() as conn:
        for i in range(10):
            put_group(conn, f"g{i}", {"push_target": {"kind": "bridge", "url": receiver.url(f"/g{i}")}}, now)
            create_push(conn, f"g{i}", f"push {i}", now=now, tz=TZ, at=now - timedelta(seconds=1))


def statuses(db):
    with db.read() as conn:
        return dict(conn.execute(select(outbox.c.delivery_id, outbox.c.status)).all())


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)  # polling for another process's progress, not timing the code under test
    return condition()


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


def test_two_serve_processes_deliver_each_due_push_once(pg_db, receiver, tmp_path):
    ten_due_pushes(pg_db, receiver)
    procs = [serve(pg_db, tmp_path, "a"), serve(pg_db, tmp_path, "b")]
    try:
        assert wait_for(lambda: len(receiver.delivered()) == 10, 60), (tmp_path / "a.log").read_text()
        assert wait_for(lambda: set(statuses(pg_db).values()) == {"sent"}, 30)
    finally:
        stop(procs)
    assert len(statuses(pg_db)) == 10
    assert set(receiver.delivery_ids().values()) == {1}  # not even a second try
    assert set(receiver.delivered()) == set(statuses(pg_db))


def test_a_process_killed_mid_send_leaves_its_rows_to_the_other(pg_db, receiver, tmp_path):
    """b never sends a row while a's lease on it lasts, and sends it once the lease has ended.

    The lease is 60 s; rather than wait it out, the test ends a's leases itself (claimed_until set to the
    past) once it has seen b at work on other rows and leave a's alone."""
    receiver.gate.clear()  # hold every request open: the sender is mid-send
    ten_due_pushes(pg_db, receiver)
    a = serve(pg_db, tmp_path, "a")
    b = None
    try:
        assert receiver.arrived.wait(60), (tmp_path / "a.log").read_text()
        held_by_a = leased(pg_db)
        assert held_by_a  # a claims before it sends
        assert wait_for(lambda: len(receiver.got) == len(held_by_a), 30)  # a is mid-send on every row it holds
        b = serve(pg_db, tmp_path, "b")
        a.send_signal(signal.SIGKILL)
        a.wait(10)
        receiver.gate.set()  # the held requests are answered 503 (not delivered); later ones 200
        now = datetime.now(timezone.utc)
        with pg_db.begin() as conn:  # a push due after the kill: only b can send it
            put_group(conn, "g10", {"push_target": {"kind": "bridge", "url": receiver.url("/g10")}}, now)
            create_push(conn, "g10", "push 10", now=now, tz=TZ, at=now - timedelta(seconds=1))
        assert wait_for(lambda: receiver.delivered().total() == 1, 60), (tmp_path / "b.log").read_text()
        time.sleep(1)  # b ticks every 0.2 s: five more chances to take a's rows
        assert len(receiver.got) == len(held_by_a) + 1  # b sent the new push and nothing of a's
        assert leased(pg_db) == held_by_a
        with pg_db.begin() as conn:  # a's leases end (what 60 s would do)
            conn.execute(update(outbox).where(outbox.c.id.in_(held_by_a))
                         .values(claimed_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
        assert wait_for(lambda: set(statuses(pg_db).values()) == {"sent"} and len(statuses(pg_db)) == 11, 60), \
            statuses(pg_db)
    finally:
        stop([p for p in (a, b) if p is not None])
    delivered = receiver.delivered()
    assert set(delivered) == set(statuses(pg_db)) and set(delivered.values()) == {1}
    # a's tries reached the receiver but were never answered 2xx; b sent those rows once a's lease ended.
    assert {r["body"]["delivery_id"] for r in receiver.got if r["status"] != 200}


def leased(db) -> set[int]:
    """Ids of the pending rows whose lease has not ended."""
    with db.read() as conn:
        return set(conn.execute(select(outbox.c.id).where(
            outbox.c.status == "pending", outbox.c.claimed_until > datetime.now(timezone.utc))).scalars())
