"""Helpers shared by several commands: finding a product by code, deadlines and time left, group-buy progress,
pickup-point hints."""
from __future__ import annotations

from datetime import datetime, timedelta

from catalog.groupbuys import GroupBuy
from catalog.pickups import nearest_points, needs_choice
from catalog.products import Product, get_product
from catalog.search import nearest_codes
from handlers.context import Ctx, GroupBuyView, UserError
from handlers.when import parse_when
from pricing.groupbuy import progress_text
from pricing.money import fmt

DEFAULT_DEADLINE = timedelta(hours=24)
UNTIL_WORDS = ("截止", "until")


def find_product(ctx: Ctx, code: str) -> Product:
    """The active product with this code, or one sentence naming the nearest codes."""
    p = get_product(ctx.conn, code)
    if p is not None and p.active:
        return p
    if p is not None:
        raise UserError(f"{p.code} {p.name} 已下架。", f"{p.code} {p.name} is not on sale.")
    near = nearest_codes(ctx.conn, code)
    if near:
        raise UserError(
            f"没有编码为 {code} 的商品。你是不是要找：{'、'.join(near)}？",
            f"There is no product with code {code}. Did you mean: {', '.join(near)}?",
        )
    raise UserError(
        f"没有编码为 {code} 的商品。发送“商品”看看有什么。",
        f"There is no product with code {code}. Send \"browse\" to see what there is.",
    )


def split_keyword(args: list[str], words: tuple[str, ...]) -> tuple[list[str], list[str] | None]:
    """(tokens before the first keyword, tokens after it); None when no keyword. `截止20:00` counts as `截止 20:00`."""
    for i, tok in enumerate(args):
        low = tok.lower()
        for w in words:
            if low == w:
                return args[:i], args[i + 1:]
            if not w.isascii() and low.startswith(w):
                return args[:i], [tok[len(w):]] + args[i + 1:]
    return args, None


def deadline(ctx: Ctx, when: list[str] | None) -> datetime:
    """The WHEN after 截止/until as UTC, or 24 hours from now when none was given."""
    if when is None:
        return ctx.now + DEFAULT_DEADLINE
    if not when:
        raise UserError("“截止”后面要写时间，例如：截止 明天 20:00", "Put a time after \"until\", e.g. until tomorrow 20:00")
    return parse_when(" ".join(when), ctx.now, ctx.tz)


def time_left(ctx: Ctx, until: datetime) -> str:
    minutes = int((until - ctx.now).total_seconds() // 60)
    if minutes < 1:
        return ctx.t("不到 1 分钟", "under a minute left")
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return ctx.t(f"还剩 {days} 天 {hours} 小时", f"{days}d {hours}h left")
    if hours:
        if not mins:
            return ctx.t(f"还剩 {hours} 小时", f"{hours}h left")
        return ctx.t(f"还剩 {hours} 小时 {mins} 分", f"{hours}h {mins}m left")
    return ctx.t(f"还剩 {mins} 分钟", f"{mins}m left")


def refuse_private(ctx: Ctx, zh: str, en: str) -> None:
    if ctx.msg.is_private:
        raise UserError(zh, en)


def status_text(ctx: Ctx, gb: GroupBuy) -> str:
    """`2 人 3 件，当前价 ¥150.00，再 2 人降到 ¥120.00`."""
    price = gb.current_price_fen
    now_price = (ctx.t(f"当前价 {fmt(price)}", f"current price {fmt(price)}") if price is not None
                 else ctx.t("还没到第一档", "first tier not reached yet"))
    counted = ctx.t(f"{gb.participants} 人 {gb.quantity} 件",
                    f"{gb.participants} {'person' if gb.participants == 1 else 'people'}, "
                    f"{gb.quantity} {'piece' if gb.quantity == 1 else 'pieces'}")
    return ctx.t("，", ", ").join([counted, now_price, progress_text(gb.basis, gb.tiers, gb.reached, ctx.lang)])


def show(ctx: Ctx, gb: GroupBuy, invites_joining: bool = False) -> None:
    """Tell the reply which group buy it is about, as figures (a channel with buttons draws a card)."""
    ctx.reply.groupbuy = GroupBuyView(gb.id, gb.product_name, gb.basis, gb.participants, gb.quantity,
                                      gb.current_price_fen, status_text(ctx, gb))
    ctx.reply.invites_joining = invites_joining


def pickup_hint(ctx: Ctx) -> None:
    """After 下单/参团/+N: where the group has pickup points and this member has chosen none, say how to choose."""
    if not ctx.msg.is_private and needs_choice(ctx.conn, ctx.group_id, ctx.user_id):
        ctx.say(
            "本群有自提点，你还没有选：发“自提点”查看，发“自提 名称”选择。",
            "This group has pickup points and you have not chosen one: send \"pickups\" to see them, "
            "\"pickup NAME\" to choose.",
        )


def unknown_point(ctx: Ctx, typed: str, names: list[str]) -> UserError:
    """A pickup point name that is not on the group's list: the nearest names (or all of them)."""
    if not names:
        return UserError("本群还没有自提点。", "This group has no pickup points yet.")
    near = nearest_points(names, typed) or names
    return UserError(
        f"没有自提点“{typed}”。你是不是说：{'、'.join(near)}？",
        f"There is no pickup point \"{typed}\". Did you mean: {', '.join(near)}?",
    )
