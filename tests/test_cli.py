"""The tuanbot command as a user runs it: real processes, real exit codes, real logs."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory

from helpers import signed_bridge_post
from storage.migrate import alembic_config

ROOT = Path(__file__).resolve().parents[1]


def tuanbot(*args, env=None, input=None, timeout=60):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TUANBOT_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=full_env,
                          input=input, timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize("var, value", [
    ("TUANBOT_WECHAT_AES_KEY", "tooshort"),
    ("TUANBOT_DATABASE_URL", "not a url"),
    ("TUANBOT_TIMEZONE", "Mars/Olympus"),
    ("TUANBOT_QUIET_HOURS", "22-99"),
    ("TUANBOT_LOG_FORMAT", "xml"),
])
def test_a_malformed_setting_stops_start_up_with_one_line_and_exit_2(var, value, tmp_path):
    r = tuanbot("serve", "--no-scheduler", env={var: value, "TUANBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **{var: value}})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and var in lines[0]


def test_migrate_is_safe_to_run_twice(tmp_path):
    env = {"TUANBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    first, second = tuanbot("migrate", env=env), tuanbot("migrate", env=env)
    assert first.returncode == 0 and second.returncode == 0
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert f"at revision {head} (head)" in second.stdout


def test_chat_console_browses_orders_and_cancels(tmp_path):
    env = {"TUANBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    product = json.dumps([{"code": "A12", "name": "潮流男鞋", "price_fen": 19900, "stock": 10,
                           "tiers": [{"min_qty": 2, "price_fen": 18900}]}])
    (tmp_path / "p.json").write_text(product, encoding="utf-8")
    assert tuanbot("import-catalog", str(tmp_path / "p.json"), env=env).returncode == 0
    r = tuanbot("chat", "--group", "g1", "--user", "me", env=env, input="商品\n下单 A12 2\n我的订单\n取消 D1\n")
    assert r.returncode == 0, r.stderr
    assert "A12 潮流男鞋 ¥199.00" in r.stdout
    assert "单价 ¥189.00" in r.stdout and "D1" in r.stdout and "已取消订单 D1" in r.stdout


def test_chat_console_reads_lines_as_the_group_would_unless_told_to_mention(tmp_path):
    env = {"TUANBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    talk = tuanbot("chat", "--group", "g1", "--user", "u1", "--name", "张阿姨", env=env, input="大家好\n我的订单\n")
    assert talk.returncode == 0, talk.stderr
    assert talk.stdout.strip() == "@张阿姨 你在本群还没有订单。"  # the talk got no answer
    addressed = tuanbot("chat", "--group", "g1", "--user", "u1", "--mention", env=env, input="大家好\n")
    assert addressed.stdout.strip() == "@张阿姨 我是团购助手，发送“帮助”看看我能做什么。"  # the name was kept


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_writes_only_json_lines_with_one_per_message(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUANBOT_")}
    env.update({"TUANBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "TUANBOT_LOG_FORMAT": "json",
                "TUANBOT_BRIDGE_SECRET": "s", "TUANBOT_ADMIN_TOKEN": "secret-token"})
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--no-scheduler", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        body, headers = signed_bridge_post("s", {"msg_id": "m-7", "group_id": "g1", "sender_id": "u1", "text": "商品"})
        assert httpx.post(base + "/bridge/messages", content=body, headers=headers).status_code == 200
        secret_text = "我的手机号 13800000000"
        body, headers = signed_bridge_post("wrong", {"msg_id": "m-8", "group_id": "g1", "sender_id": "u1",
                                                     "text": secret_text})
        assert httpx.post(base + "/bridge/messages", content=body, headers=headers).status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    lines = [json.loads(line) for line in (out + err).splitlines() if line.strip()]  # every line is JSON
    started = next(l for l in lines if l["msg"] == "tuanbot started")
    assert started["channels"] == ["bridge"] and started["database"].startswith("sqlite:///")
    handled = [l for l in lines if l["msg"] == "message handled"]
    assert len(handled) == 1
    assert {k: handled[0][k] for k in ("msg_id", "channel", "group", "command", "outcome")} == {
        "msg_id": "m-7", "channel": "bridge", "group": "g1", "command": "browse", "outcome": "ok"}
    assert isinstance(handled[0]["ms"], float)
    access = [l for l in lines if l["logger"] == "uvicorn.access" and l.get("path") == "/bridge/messages"]
    assert [(a["method"], a["status"]) for a in access] == [("POST", 200), ("POST", 401)]
    refused = [l for l in lines if l["msg"] == "request refused"]
    assert [(r["path"], r["status"], r["reason"]) for r in refused] == [("/bridge/messages", 401, "bad signature")]
    assert "13800000000" not in out + err  # the refused body is never logged


def test_the_database_password_is_masked_in_the_start_up_line():
    from storage.db import mask_url

    assert "hunter2" not in mask_url("postgresql+psycopg://app:hunter2@db:5432/tuanbot")


def test_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    r = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_serve_on_a_port_in_use_exits_3_with_one_line_before_the_scheduler_ticks(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = tmp_path / "x.db"
        # A tick of 0.1 s: had the scheduler started, it would have ticked (and logged) many times.
        r = tuanbot("serve", "--port", str(port), env={"TUANBOT_DATABASE_URL": f"sqlite:///{db}",
                                                       "TUANBOT_SCHEDULER_TICK_SECONDS": "0.1",
                                                       "TUANBOT_LOG_FORMAT": "json"}, timeout=60)
    assert r.returncode == 3
    lines = [line for line in (r.stdout + r.stderr).splitlines() if line.strip()]
    assert lines == [f"tuanbot: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert not db.exists()  # nothing started: not even the migrations ran
