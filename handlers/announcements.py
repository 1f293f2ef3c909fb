"""What a group hears about its group buys without asking: the settlement announcement and the last-hour
reminder, in the language the group buy was opened in (the scheduler's jobs and 结束/close use these)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from catalog import reminders
from catalog.groupbuys import GroupBuy, Settlement, settle
from catalog.members import names_of
from catalog.orders import order_no
from handlers.common import minutes_left, promotion_text
from pricing.groupbuy import PEOPLE, Basis, progress_text
from pricing.money import fmt
from storage.outbox import enqueue

_LISTED_IN_ANNOUNCEMENT = 30  # a settlement announcement names at most this many participants


def settle_groupbuy(conn: Connection, groupbuy_id: int, now: datetime) -> str | None:
    """Settle (catalog.groupbuys.settle) and return the announcement for the group in the group buy's
    language; None when it was already settled. Stock a failed group buy returns may serve waitlists
    of other group buys of the product: each promotion is queued to its group here, in this unit of work."""
    done = settle(conn, groupbuy_id, now)
    if done is None:
        return None
    for p in done.promotions:
        enqueue(conn, p.group_id, promotion_text(p, p.lang), now, source="waitlist")
    return announcement(done, done.gb.lang, settlement_names(conn, done))


def settlement_names(conn: Connection, s: Settlement) -> dict[str, str]:
    """How the group names each participant listed in the announcement."""
    return names_of(conn, s.gb.group_id, [p.user_id for p, _ in s.orders[:_LISTED_IN_ANNOUNCEMENT]])


def remind(conn: Connection, groupbuy_id: int, now: datetime) -> str | None:
    """Claim the group buy's one reminder and queue it for the group; returns the text, or None when
    it was reminded already, settled, or is not closing within the hour."""
    gb = reminders.claim_reminder(conn, groupbuy_id, now)
    if gb is None:
        return None
    text = reminder_text(gb, now)
    reminders.queue_reminder(conn, gb, text, now)
    return text


def reminder_text(gb: GroupBuy, now: datetime) -> str:
    """`团购 #3 A12 潮流男鞋 还剩 1 小时，再 2 人降到 ¥79.00。发送“参团 3”加入。`"""
    minutes = max(1, minutes_left(gb.deadline, now))
    progress = progress_text(gb.basis, gb.tiers, gb.reached, gb.lang)
    if gb.lang == "en":
        when = "1 hour left" if minutes >= 60 else f"{minutes} {'minute' if minutes == 1 else 'minutes'} left"
        return f"Group buy #{gb.id} {gb.product_code} {gb.product_name}: {when}, {progress}. Send \"join {gb.id}\" to join."
    when = "还剩 1 小时" if minutes >= 60 else f"还剩 {minutes} 分钟"
    return f"团购 #{gb.id} {gb.product_code} {gb.product_name} {when}，{progress}。发送“参团 {gb.id}”加入。"


def announcement(s: Settlement, lang: str = "zh", names: dict[str, str] | None = None) -> str:
    """The group's news of a settled group buy: success lists everyone numbered 1, 2, 3 … by name with
    their 跟团号 (`1. 张阿姨 ×2 ¥300.00 跟团号 1（D1）`); failure says what the first tier needed."""
    names = names or {}
    gb = s.gb
    en = lang == "en"
    title = f"#{gb.id} {gb.product_code} {gb.product_name}"
    counted = _counted(gb, en)
    if not s.succeeded:
        first = min(gb.tiers, key=lambda t: t.threshold)
        need = _amount(gb.basis, first.threshold, en)
        if en:
            return "\n".join([f"Group buy {title} did not succeed: {counted}, the first tier needs {need}. "
                              "All stock has been returned; no orders were made."] + _dropped_line(s, en))
        return "\n".join([f"团购 {title} 未成团：{counted}，最低一档要 {need}。库存已全部退回，不产生订单。"]
                         + _dropped_line(s, en))
    price = fmt(gb.final_price_fen)
    if en:
        lines = [f"Group buy {title} succeeded! {counted}; everyone pays {price} each. Confirmed orders:"]
    else:
        lines = [f"团购 {title} 成团啦！{counted}，每位团员都按 {price}/件 成交。已确认订单："]
    for i, (p, order_id) in enumerate(s.orders[:_LISTED_IN_ANNOUNCEMENT], 1):
        total = fmt(gb.final_price_fen * p.quantity)
        who = names.get(p.user_id) or p.user_id
        variant = f" {p.variant}" if p.variant else ""
        if en:
            lines.append(f"{i}. {who}{variant} ×{p.quantity} {total} join no. {p.join_no} (order {order_no(order_id)})")
        else:
            lines.append(f"{i}. {who}{variant} ×{p.quantity} {total} 跟团号 {p.join_no}（{order_no(order_id)}）")
    hidden = len(s.orders) - _LISTED_IN_ANNOUNCEMENT
    if hidden > 0:
        lines.append(f"… and {hidden} more" if en else f"……另有 {hidden} 人")
    return "\n".join(lines + _dropped_line(s, en))


def _dropped_line(s: Settlement, en: bool) -> list[str]:
    """The waitlist ends with the group buy: who waited in vain is told so."""
    if not s.dropped:
        return []
    names = list(dict.fromkeys(w.user_id for w in s.dropped))
    shown = (", " if en else "、").join(names[:_LISTED_IN_ANNOUNCEMENT])
    if len(names) > _LISTED_IN_ANNOUNCEMENT:
        shown += f" and {len(names) - _LISTED_IN_ANNOUNCEMENT} more" if en else f" 等 {len(names)} 人"
    if en:
        return [f"The waitlist was not reached and is dropped: {shown}."]
    return [f"候补没能递补，已取消：{shown}。"]


def _amount(basis: Basis, n: int, en: bool) -> str:
    if basis == PEOPLE:
        return f"{n} {'person' if n == 1 else 'people'}" if en else f"{n} 人"
    return f"{n} {'piece' if n == 1 else 'pieces'}" if en else f"{n} 件"


def _counted(gb: GroupBuy, en: bool) -> str:
    if en:
        return f"{_amount(PEOPLE, gb.participants, True)}, {_amount('quantity', gb.quantity, True)}"
    return f"{gb.participants} 人 {gb.quantity} 件"
