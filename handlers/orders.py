"""下单/buy, 我的订单/orders and 取消/cancel: a member's own orders."""
from __future__ import annotations

from dataclasses import dataclass

from catalog.groupbuys import joined_live, promote
from catalog.orders import CancelRefused, OutOfStock, cancel_order, list_orders, parse_order_no, place_order
from handlers.args import require, tokens
from handlers.common import (
    Pick,
    announce_promotions,
    find_product,
    pick_variant,
    pickup_hint,
    variant_and_qty,
    with_variant,
)
from handlers.context import Ctx, UserError
from pricing.money import fmt

STATUS = {
    "pending": ("待付款", "pending"),
    "confirmed": ("已确认", "confirmed"),
    "collected": ("已取货", "collected"),
    "cancelled": ("已取消", "cancelled"),
}


@dataclass(frozen=True)
class BuyArgs:
    code: str
    pick: Pick  # the variant (规格) if one was named, and the quantity

    @property
    def qty(self) -> int:
        return self.pick.qty


_BUY_USAGE = ("格式：下单 编码 [规格] [数量]，例如：下单 A12 2 或 下单 A12 42码 2",
              "Usage: buy CODE [VARIANT] [QTY], e.g. buy A12 2 or buy A12 42码 2")


def parse_buy(rest: str) -> BuyArgs:
    args = tokens(rest)
    code = require(args[0] if args else None, "请写上商品编码，例如：下单 A12 2", "Give a product code, e.g. buy A12 2")
    return BuyArgs(code, variant_and_qty(args[1:], _BUY_USAGE))


def buy(ctx: Ctx, a: BuyArgs) -> None:
    product = find_product(ctx, a.code, sold_here=True)
    variant, qty = pick_variant(ctx, product, a.pick, (f"下单 {product.code} {{v}} 1", f"buy {product.code} {{v}} 1"))
    item = with_variant(product.code, variant)
    try:
        order, q = place_order(ctx.conn, group_id=ctx.group_id, user_id=ctx.user_id, product=product, qty=qty,
                               now=ctx.now, variant=variant)
    except OutOfStock as e:
        raise UserError(
            f"库存不足：{item} 只剩 {e.left} 件。" if e.left else f"{item} 已经卖完了。",
            f"Not enough stock: only {e.left} of {item} left." if e.left else f"{item} is sold out.",
        ) from None
    ctx.orders_placed += 1
    no = order.order_no
    name = with_variant(product.name, variant)
    zh = f"下单成功！订单号 {no}：{name} ×{qty}，单价 {fmt(q.unit_price_fen)}，合计 {fmt(q.total_fen)}"
    en = f"Order {no} placed: {name} ×{qty} at {fmt(q.unit_price_fen)} each, total {fmt(q.total_fen)}"
    if q.saving_fen > 0:
        label = {"ladder": ("阶梯价", "ladder price"), "deal": ("本群特价", "group deal")}.get(q.source, ("", ""))
        zh += f"（{label[0]}），比原价省 {fmt(q.saving_fen)}"
        en += f" ({label[1]}), you save {fmt(q.saving_fen)}"
    ctx.say(zh + f"。取消请发“取消 {no}”。", en + f". To cancel: cancel {no}")
    pickup_hint(ctx)


def my_orders(ctx: Ctx, _args: None) -> None:
    mine = list_orders(ctx.conn, group_id=ctx.group_id, user_id=ctx.user_id, limit=10)
    joins = [] if ctx.msg.is_private else joined_live(ctx.conn, ctx.group_id, ctx.user_id, ctx.now)
    if not mine and not joins:
        ctx.say("你在本群还没有订单。", "You have no orders in this group yet.")
        return
    lines = []
    if mine:
        lines.append(ctx.t("你的订单（最近 10 笔）：", "Your orders (latest 10):"))
    for o in mine:
        name = with_variant(o.product_name, o.variant)
        lines.append(f"{o.order_no} {name} ×{o.quantity} {fmt(o.total_fen)} {_state(ctx, o)}")
    if joins:  # not orders yet: each becomes one when its group buy succeeds
        lines.append(ctx.t("进行中的团购（成团后生成订单）：", "Group buys you are in (orders once they succeed):"))
    for gb, p in joins:
        price = gb.current_price_fen
        now_price = (ctx.t(f"当前价 {fmt(price)}", f"current price {fmt(price)}") if price is not None
                     else ctx.t("还没到第一档", "first tier not reached yet"))
        name = with_variant(gb.product_name, p.variant)
        lines.append(ctx.t(f"团购 #{gb.id} {name} ×{p.quantity} 跟团号 {p.join_no}，{now_price}",
                           f"Group buy #{gb.id} {name} ×{p.quantity}, join no. {p.join_no}, {now_price}"))
    ctx.reply.texts.append("\n".join(lines))


def _state(ctx: Ctx, o) -> str:
    """已确认 · 自提 东门快递柜 / 已取货 12-02 10:30 · 东门快递柜."""
    if o.status == "confirmed" and o.collected_at is not None:
        words = ctx.t("已取货 ", "collected ") + o.collected_at.astimezone(ctx.tz).strftime("%m-%d %H:%M")
    else:
        words = ctx.t(*STATUS.get(o.status, (o.status, o.status)))
    if o.pickup_point and o.status == "confirmed":
        words += ctx.t(f" · 自提 {o.pickup_point}", f" · pickup {o.pickup_point}")
    return words


def parse_cancel(rest: str) -> int:
    args = tokens(rest)
    text = require(args[0] if args else None, "请写上订单号，例如：取消 D17", "Give an order number, e.g. cancel D17")
    order_id = parse_order_no(text)
    if order_id is None:
        raise UserError(f"“{text}”不是订单号，订单号像 D17 这样。", f"\"{text}\" is not an order number; they look like D17.")
    return order_id


def cancel(ctx: Ctx, order_id: int) -> None:
    try:
        order = cancel_order(ctx.conn, order_id, ctx.user_id, ctx.now)
    except CancelRefused as e:
        no = f"D{order_id}"
        if e.reason == "missing":
            raise UserError(f"你没有订单 {no}。发送“我的订单”查看。", f"You have no order {no}. Send \"orders\" to see yours.") from None
        status = STATUS.get(e.status, (e.status, e.status))
        if e.status == "confirmed":  # the owner has it (paid, packed): only they can undo it
            raise UserError(f"订单 {no} 已确认，不能自己取消，请联系群主。",
                            f"Order {no} is confirmed and cannot be cancelled; please ask the group owner.") from None
        raise UserError(f"订单 {no} {status[0]}，不能取消。", f"Order {no} is {status[1]} and cannot be cancelled.") from None
    # The pieces back in stock serve group-buy waitlists of the product first (catalog.groupbuys.promote).
    announce_promotions(ctx, promote(ctx.conn, order.product_id, order.variant, ctx.now))
    name = with_variant(order.product_name, order.variant)
    ctx.say(
        f"已取消订单 {order.order_no}（{name} ×{order.quantity}），库存已退回。",
        f"Order {order.order_no} ({name} ×{order.quantity}) cancelled.",
    )
