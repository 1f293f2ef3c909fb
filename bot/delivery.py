"""Sending one outbox message to a group's push target over HTTP, and how long to wait after a failed try."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.channels.bridge import sign

HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# The longest one send can take under HTTP_TIMEOUT (connect, write, read); a claimed row is only sent
# while at least this much of its lease is left, so its lease cannot run out mid-send.
WORST_SEND_SECONDS = 30.0

FIRST_RETRY = timedelta(seconds=15)
MAX_WAIT = timedelta(hours=1)
RETRY_WINDOW = timedelta(hours=24)
WECOM_RATE_LIMITED = 45009
THROTTLE_PAUSE = timedelta(minutes=1)  # a receiver that says "rate-limited" gets nothing for this long


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    error: str | None = None
    throttled: bool = False  # the receiver is rate-limited: not delivered, not counted toward giving up


def send(client: httpx.Client, target: dict[str, Any], *, group_id: str, text: str, delivery_id: str,
         secret: str | None, now: datetime) -> Outcome:
    """One try at delivering a message to `target` ({"kind": "bridge"|"wecom_robot", "url": …})."""
    kind, url = target.get("kind"), target.get("url")
    try:
        if kind == "bridge":
            return _send_bridge(client, url, group_id, text, delivery_id, secret, now)
        if kind == "wecom_robot":
            return _send_wecom(client, url, text)
    except httpx.HTTPError as e:
        return Outcome(False, f"{type(e).__name__}: {e}"[:500] or type(e).__name__)
    return Outcome(False, f"unknown push target kind {kind!r}")


def _send_bridge(client, url, group_id, text, delivery_id, secret, now) -> Outcome:
    if not secret:
        return Outcome(False, "TUANBOT_BRIDGE_SECRET is not set: a bridge push cannot be signed")
    body = json.dumps({"group_id": group_id, "text": text, "delivery_id": delivery_id}, ensure_ascii=False).encode()
    ts = str(int(now.timestamp()))
    r = client.post(url, content=body, headers={
        "Content-Type": "application/json",
        "X-Tuanbot-Timestamp": ts,
        "X-Tuanbot-Signature": sign(secret, ts, body),
    })
    if 200 <= r.status_code < 300:
        return Outcome(True)
    return Outcome(False, f"HTTP {r.status_code}: {r.text[:200]}")


def _send_wecom(client, url, text) -> Outcome:
    r = client.post(url, json={"msgtype": "markdown", "markdown": {"content": text}})
    if not 200 <= r.status_code < 300:
        return Outcome(False, f"HTTP {r.status_code}: {r.text[:200]}")
    try:
        answer = r.json()
        code = answer.get("errcode")
    except (ValueError, AttributeError):
        return Outcome(False, f"not a WeCom answer: {r.text[:200]}")
    if code == 0:
        return Outcome(True)
    error = f"errcode {code}: {answer.get('errmsg', '')}"[:500]
    return Outcome(False, error, throttled=code == WECOM_RATE_LIMITED)


def retry_wait(tries: int) -> timedelta:
    """The wait after the `tries`-th try did not deliver: 15 s, 30 s, 1 min … doubling, at most an hour.
    No jitter: the schedule is what proves the 24-hour window (see gives_up)."""
    return min(FIRST_RETRY * 2 ** min(tries - 1, 20), MAX_WAIT)


def gives_up(tries: int) -> bool:
    """Whether a failure on try number `tries` ends the row (dead): the waits before it add up to the
    retry window. Every real wait is at least its scheduled one, so a row is retried for at least 24 hours
    (32 tries over 24 h 3 min)."""
    return sum((retry_wait(i) for i in range(1, tries)), timedelta()) >= RETRY_WINDOW
