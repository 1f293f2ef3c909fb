"""确认/confirm, 核销/collect, 未取/uncollected and 导出/export: an owner's work after the sale."""
from __future__ import annotations

from catalog.exports import create_link
from catalog.fulfilment import Outcome, collect, confirm, groupbuy_in_group, lines
from catalog.orders import parse_order_no
from catalog.pickups import find_point, list_points
from handlers.args import tokens
from handlers.common import unknown_point
from handlers.context import Ctx, UserError
from handlers.when import fmt_local

MAX_ORDERS = 50  # order numbers in one 确认/核销
MAX_LISTED = 60  # orders named by one 未取


def parse_order_list(rest: str) -> list[int]:
    """`D17 D18 19`, also separated by commas -> [17, 18, 19] (each once, in the order typed)."""
    words = tokens(rest.replace(",", " ").replace("，", " ").replace("、", " "))
    if not words:
        raise UserError("请写上订单号，例如：确认 D17 D18", "Give order numbers, e.g. confirm D17 D18")
    if len(words) > MAX_ORDERS:
        raise UserError(f"一次最多 {MAX_ORDERS} 个订单号。", f"At most {MAX_ORDERS} order numbers at a time.")
    ids: list[int] = []
    for w in words:
        order_id = parse_order_no(w)
        if order_id is None:
            raise UserError(f"“{w}”不是订单号，订单号像 D17 这样。", f"\"{w}\" is not an order number; they look like D17.")
        if order_id not in ids:
            ids.append(order_id)
    return ids


def _order_line(ctx: Ctx, o: Outcome) -> str:
    order = o.order
    point = order.pickup_point or ctx.t("未选自提点", "no pickup point")
    what = f"{order.product_name} {order.variant}" if order.variant else order.product_name
    return f"{o.order_no} {o.user_name} {what} ×{order.quantity}（{point}）" if ctx.lang == "zh" \
        else f"{o.order_no} {o.user_name} {what} ×{order.quantity} ({point})"


def _refusal(ctx: Ctx, o: Outcome, doing: str) -> str:
    no = o.order_no
    if o.reason == "missing":
        return ctx.t(f"本群没有订单 {no}。", f"There is no order {no} in this group.")
    if o.reason == "cancelled":
        return ctx.t(f"{no} 已取消，不能{'确认' if doing == 'confirm' else '核销'}。",
                     f"{no} is cancelled and cannot be {'confirmed' if doing == 'confirm' else 'collected'}.")
    if o.reason == "collected":
        when = fmt_local(o.order.collected_at, ctx.tz)
        return ctx.t(f"{no} 已于 {when} 核销过了，没有再改动。", f"{no} was already collected at {when}; nothing changed.")
    if o.reason == "confirmed":  # only a confirm gets here
        return ctx.t(f"{no} 已经确认过了。", f"{no} is already confirmed.")
    return ctx.t(f"{no} 还没有确认，先发“确认 {no}”。", f"{no} is not confirmed yet; send \"confirm {no}\" first.")


def _act(ctx: Ctx, ids: list[int], doing: str) -> None:
    act = confirm if doing == "confirm" else collect
    outcomes = [act(ctx.conn, ctx.group_id, i, ctx.now) for i in ids]
    done = [o for o in outcomes if o.ok]
    refused = [_refusal(ctx, o, doing) for o in outcomes if not o.ok]
    if not done:
        raise UserError("\n".join(refused))  # already in the sender's language
    if doing == "confirm":
        head = ctx.t(f"已确认 {len(done)} 笔订单：", f"Confirmed {len(done)} order{'s' if len(done) > 1 else ''}:")
    else:
        head = ctx.t(f"已核销 {len(done)} 笔订单（已取货）：", f"Collected {len(done)} order{'s' if len(done) > 1 else ''}:")
    ctx.reply.texts.append("\n".join([head, *(_order_line(ctx, o) for o in done), *refused]))


def confirm_orders(ctx: Ctx, ids: list[int]) -> None:
    _act(ctx, ids, "confirm")


def collect_orders(ctx: Ctx, ids: list[int]) -> None:
    _act(ctx, ids, "collect")


# ---- 未取 / uncollected -------------------------------------------------------------------------

def parse_point_filter(rest: str) -> str | None:
    return " ".join(rest.split()) or None


def uncollected(ctx: Ctx, typed: str | None) -> None:
    point = None
    if typed is not None:
        point = find_point(ctx.conn, ctx.group_id, typed)
        if point is None and typed not in ("无", "none"):
            raise unknown_point(ctx, typed, list_points(ctx.conn, ctx.group_id))
        point = point or ""
    waiting = list(lines(ctx.conn, ctx.group_id, state="uncollected", pickup_point=point))
    if not waiting:
        if point:
            ctx.say(f"{point} 没有待取货的订单。", f"No confirmed orders wait to be collected at {point}.")
        else:
            ctx.say("没有待取货的订单。", "No confirmed orders are waiting to be collected.")
        return
    by_point: dict[str, list] = {}
    for ln in waiting:
        by_point.setdefault(ln.pickup_point or "", []).append(ln)
    order = {n: i for i, n in enumerate(list_points(ctx.conn, ctx.group_id))}
    out = [ctx.t(f"待取货 {len(waiting)} 笔：", f"{len(waiting)} waiting to be collected:")]
    shown = 0
    for name in sorted(by_point, key=lambda n: (n == "", order.get(n, len(order)), n)):
        group = by_point[name]
        label = name or ctx.t("未选自提点", "no pickup point")
        out.append(ctx.t(f"【{label}】{len(group)} 笔", f"[{label}] {len(group)}"))
        for ln in group:
            if shown == MAX_LISTED:
                break
            jn = f" #{ln.join_no}" if ln.join_no else ""
            variant = f" {ln.variant}" if ln.variant else ""
            out.append(f"{ln.order_no}{jn} {ln.user_name} {ln.product_name}{variant} ×{ln.quantity}")
            shown += 1
    if shown < len(waiting):
        out.append(ctx.t(f"……还有 {len(waiting) - shown} 笔，完整名单发“导出”。",
                         f"… and {len(waiting) - shown} more; send \"export\" for the full list."))
    out.append(ctx.t("取货后发“核销 订单号”。", "When goods are handed over: collect ORDER."))
    ctx.reply.texts.append("\n".join(out))


# ---- 导出 / export ---------------------------------------------------------------------------------

def parse_export(rest: str) -> int | None:
    args = tokens(rest)
    if not args:
        return None
    digits = args[0].removeprefix("#")
    if len(args) > 1 or not digits.isdecimal() or len(digits) > 9:
        raise UserError("格式：导出 [团购编号]，例如：导出 3", "Usage: export [GROUPBUY ID], e.g. export 3")
    return int(digits)


def export(ctx: Ctx, groupbuy_id: int | None) -> None:
    if ctx.msg.is_private:
        raise UserError("请在群里导出本群的订单。", "Send export in the group whose orders you want.")
    if not ctx.public_url:
        raise UserError(
            "还不能发导出链接：服务需要先设置 TUANBOT_PUBLIC_URL（服务的公网地址）。",
            "Export links need TUANBOT_PUBLIC_URL (the service's public address) to be set first.",
        )
    if groupbuy_id is not None and not groupbuy_in_group(ctx.conn, ctx.group_id, groupbuy_id):
        raise UserError(f"本群没有团购 #{groupbuy_id}。", f"There is no group buy #{groupbuy_id} in this group.")
    token, expires = create_link(ctx.conn, ctx.group_id, groupbuy_id, ctx.user_id, ctx.now)
    url = f"{ctx.public_url}/exports/{token}.xlsx"
    what = ctx.t(f"团购 #{groupbuy_id} 的订单" if groupbuy_id else "本群全部订单",
                 f"orders of group buy #{groupbuy_id}" if groupbuy_id else "all orders of this group")
    until = fmt_local(expires, ctx.tz)
    ctx.say(
        f"订单表格（{what}）：{url}\n24 小时内有效（到 {until}），请勿外传。",
        f"Spreadsheet ({what}): {url}\nValid for 24 hours (until {until}); do not share it.",
    )
