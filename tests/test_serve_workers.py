"""`tuanbot serve --workers N`: several worker processes on PostgreSQL, each with a scheduler, still
deliver each due push once; on SQLite the option is refused with one line."""
import os
import subprocess
import sys

import httpx

from test_scheduler_processes import (  # noqa: F401  (pg_db and receiver are fixtures)
    ROOT, SECRET, free_port, pg_db, receiver, statuses, stop, ten_due_pushes, wait_for,
)


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUANBOT_")}
    env.update({"TUANBOT_DATABASE_URL": url, "TUANBOT_BRIDGE_SECRET": SECRET, "TUANBOT_QUIET_HOURS": "",
                "TUANBOT_SCHEDULER_TICK_SECONDS": "0.2"})
    return env


def test_workers_are_refused_on_sqlite_with_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "bot", "serve", "--workers", "2", "--port", str(free_port())],
                       cwd=ROOT, env=_env(f"sqlite:///{tmp_path}/x.db"), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "--workers needs PostgreSQL" in r.stderr


def test_two_workers_serve_and_deliver_each_due_push_once(pg_db, receiver, tmp_path):
    ten_due_pushes(pg_db, receiver)
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--workers", "2", "--port", str(port)],
                            cwd=ROOT, env=_env(pg_db.url), stdout=log, stderr=subprocess.STDOUT)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_for(healthy, 60), (tmp_path / "serve.log").read_text()
        assert wait_for(lambda: len(receiver.delivered()) == 10, 60), (tmp_path / "serve.log").read_text()
        assert wait_for(lambda: set(statuses(pg_db).values()) == {"sent"}, 30)
    finally:
        stop([proc])
    assert set(receiver.delivery_ids().values()) == {1}  # two schedulers, each push sent once
    assert (tmp_path / "serve.log").read_text().count("Started server process") == 2  # two workers ran
