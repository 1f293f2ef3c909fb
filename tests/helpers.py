"""Test builders: messages, a clock the test moves by hand, a chat driver through the real router."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.dispatch import Dispatcher
from catalog.products import create_product, validate_product
from handlers.context import Message

_ids = itertools.count(1)
ADMIN_TOKEN = "tok"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-11-24 10:00 in Shanghai: daytime, outside the default quiet hours.
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def make_message(text: str, *, user: str = "u1", group: str = "g1", role: str = "member",
                 channel: str = "bridge", msg_id: str | None = None, **kw) -> Message:
    return Message(channel=channel, chat_id=group, sender_id=user, text=text,
                   msg_id=msg_id or f"m-{next(_ids)}", sender_role=role, **kw)


class Chat:
    """Types into a group as someone, through the real router, dispatcher and database."""

    def __init__(self, db, clock: FakeClock | None = None, owners: frozenset[str] = frozenset(),
                 quiet: tuple[int, int] | None = None):
        self.db = db
        self.clock = clock or FakeClock()
        self.dispatcher = Dispatcher(db, owners=owners, tz=SHANGHAI, clock=self.clock, quiet=quiet)

    def send(self, text: str, **kw) -> str:
        return self.dispatcher.handle(make_message(text, **kw)).reply.text

    def handle(self, msg: Message):
        return self.dispatcher.handle(msg)


SNEAKERS = {
    "code": "A12", "name": "潮流男鞋", "description": "透气跑鞋", "category": "鞋", "price_fen": 19900,
    "market_price_fen": 39900, "stock": 3000, "active": True,
    "tiers": [{"min_qty": 2, "price_fen": 18900}, {"min_qty": 5, "price_fen": 16900}],
}


def add_product(db, now: datetime = T0, **fields):
    data = validate_product({**SNEAKERS, **fields})
    with db.begin() as conn:
        return create_product(conn, data, now)


def signed_bridge_post(secret: str, payload, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """A bridge request body and its headers, signed as SPEC section 3 says."""
    import json
    import time

    from bot.channels.bridge import sign

    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return body, {
        "X-Tuanbot-Timestamp": ts,
        "X-Tuanbot-Signature": sign(secret, ts, body),
        "Content-Type": "application/json",
    }
