"""The WeCom robot's one-tap joining card: a button_interaction template card drawn from a GroupBuyView.

The only place the card is built, for the 开团/团购 answers and for the update after a click.
Lengths are cut to what WeCom shows (title 26, desc 30, sub-title 112 characters).
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from handlers.context import GroupBuyView
from pricing.money import fmt

JOIN_KEY = re.compile(r"join:([0-9]{1,9}):([0-9]{1,3})")
LEAVE_KEY = re.compile(r"leave:([0-9]{1,9})")
_TASK_ID = re.compile(r"[A-Za-z0-9_@-]{1,128}")  # what WeCom accepts as a task_id


def task_id_for(groupbuy_id: int, msg_id: str) -> str:
    """Unique per card (WeCom refuses a task_id twice), and the same for a repeated message (same answer)."""
    return f"gb{groupbuy_id}_{hashlib.sha1(msg_id.encode()).hexdigest()[:24]}"


def valid_task_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _TASK_ID.fullmatch(value) else None


def card(view: GroupBuyView | None, groupbuy_id: int, task_id: str, sub_title: str | None = None) -> dict[str, Any]:
    """The card for group buy `groupbuy_id`; `view` None (a click on an id this chat cannot see) draws it bare."""
    if view is None:
        title, desc = {"title": f"团购 #{groupbuy_id}"}, {}
    else:
        title, desc = {"title": _cut(view.product_name, 26)}, {"desc": _cut(_figures(view), 30)}
    out: dict[str, Any] = {"card_type": "button_interaction", "main_title": {**title, **desc}}
    sub = sub_title if sub_title is not None else (view.status if view else "")
    if sub:
        out["sub_title_text"] = _cut(sub, 112)
    out["task_id"] = task_id
    out["button_list"] = [
        {"text": "跟团 +1", "style": 1, "key": f"join:{groupbuy_id}:1"},
        {"text": "+2", "style": 1, "key": f"join:{groupbuy_id}:2"},
        {"text": "退团", "style": 2, "key": f"leave:{groupbuy_id}"},
    ]
    return out


def _figures(view: GroupBuyView) -> str:
    """`#3 当前价 ¥89.00 · 2 人 3 件`: the current price and people/pieces so far."""
    price = f"当前价 {fmt(view.price_fen)}" if view.price_fen is not None else "未到第一档"
    return f"#{view.id} {price} · {view.participants} 人 {view.quantity} 件"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
