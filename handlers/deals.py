"""发布/deal (post a flash deal to the group) and 团购/deals (what is on offer here now)."""
from __future__ import annotations

from dataclasses import dataclass

from catalog.deals import Deal, live_deals, post_deal
from catalog.groupbuys import GroupBuy, live_groupbuys, participants
from catalog.members import names_of
from catalog.products import get_product_by_id
from handlers.args import price, quantity, tokens
from handlers.common import (
    UNTIL_WORDS, deadline, find_product, refuse_private, show, split_keyword, status_text, time_left,
)
from handlers.context import Ctx, UserError
from handlers.when import fmt_local
from pricing.money import fmt

LIMIT_WORDS = ("限量", "limit")


@dataclass(frozen=True)
class DealArgs:
    code: str
    price_fen: int
    limit: int | None
    when: list[str] | None


_USAGE = ("格式：发布 编码 特价 [限量 数量] [截止 时间]，例如：发布 A12 99 限量 50 截止 20:00",
          "Usage: deal CODE PRICE [limit N] [until WHEN], e.g. deal A12 99 limit 50 until 20:00")


def parse_deal(rest: str) -> DealArgs:
    args = tokens(rest)
    if len(args) < 2:
        raise UserError(*_USAGE)
    code, price_text = args[0], args[1]
    price_fen = price(price_text, ("特价", "The deal price"))
    # The options may come in either order: split on 截止/until first, then find 限量/limit on either side.
    before, when = split_keyword(args[2:], UNTIL_WORDS)
    limit = None
    for part in (before, when):
        if part is None:
            continue
        head, after = split_keyword(part, LIMIT_WORDS)
        if after is None:
            continue
        if not after:
            raise UserError("“限量”后面要写件数，例如：限量 50", "Put a number of pieces after \"limit\", e.g. limit 50")
        limit = quantity(after[0])
        part[:] = head + after[1:]
    if before:
        raise UserError(*_USAGE)
    return DealArgs(code, price_fen, limit, when)


def deal(ctx: Ctx, a: DealArgs) -> None:
    refuse_private(ctx, "请在群里发布特价。", "Post a deal in the group chat.")
    product = find_product(ctx, a.code)
    if a.price_fen >= product.price_fen:
        raise UserError(
            f"特价 {fmt(a.price_fen)} 要低于原价 {fmt(product.price_fen)}。",
            f"The deal price ({fmt(a.price_fen)}) must be below the product price ({fmt(product.price_fen)}).",
        )
    ends = deadline(ctx, a.when)
    earlier = next((d for d in live_deals(ctx.conn, ctx.group_id, ctx.now) if d.product_id == product.id), None)
    post_deal(
        ctx.conn, group_id=ctx.group_id, product=product, price_fen=a.price_fen, limit_qty=a.limit,
        ends_at=ends, created_by=ctx.user_id, now=ctx.now,
    )
    until = fmt_local(ends, ctx.tz)
    limited = ctx.t(f"，限量 {a.limit} 件", f", limited to {a.limit}") if a.limit else ""
    if earlier is not None:  # one deal per product and group: the new one takes the earlier one's place
        limited += ctx.t(f"，取代之前的特价 {fmt(earlier.price_fen)}", f", replacing the earlier deal at {fmt(earlier.price_fen)}")
    ctx.tell_group(ctx.group_id, ctx.t(
        f"限时特价！{product.code} {product.name} {fmt(a.price_fen)}（原价 {fmt(product.price_fen)}）{limited}，"
        f"截止 {until}。下单发“下单 {product.code} 数量”。",
        f"Flash deal! {product.code} {product.name} at {fmt(a.price_fen)} (usually {fmt(product.price_fen)}){limited}, "
        f"until {until}. Order with \"buy {product.code} QTY\".",
    ))


def show_deals(ctx: Ctx, _args: None) -> None:
    gbs = [] if ctx.msg.is_private else live_groupbuys(ctx.conn, ctx.group_id, ctx.now)
    flash = [] if ctx.msg.is_private else live_deals(ctx.conn, ctx.group_id, ctx.now)
    if not gbs and not flash:
        ctx.say("本群现在没有进行中的团购或特价。", "No open group buys or deals in this group right now.")
        return
    lines = []
    if gbs:
        show(ctx, gbs[0], invites_joining=True)
        lines.append(ctx.t("进行中的团购：", "Open group buys:"))
        for gb in gbs:
            lines.append(f"#{gb.id} {gb.product_code} {gb.product_name}{ctx.t('：', ': ')}"
                         f"{status_text(ctx, gb)}{ctx.t('，', ', ')}{time_left(ctx, gb.deadline)}")
            lines.extend(_joins(ctx, gb))
        sized = get_product_by_id(ctx.conn, gbs[0].product_id).variants  # the newest needs a size after +1
        plus = f"+1 {next((v.name for v in sized if v.stock > 0), sized[0].name)}" if sized else "+1"
        lines.append(ctx.t(f"参团发“参团 编号 数量”，或发“{plus}”加入最新的团购（#{gbs[0].id}）。",
                           f"Join with \"join ID QTY\", or send \"{plus}\" for the newest (#{gbs[0].id})."))
    if flash:
        lines.append(ctx.t("限时特价：", "Flash deals:"))
        lines.extend(_deal_line(ctx, d) for d in flash)
    ctx.reply.texts.append("\n".join(lines))


LISTED_JOINS = 10  # per group buy in 团购; a big one says how many more


def _joins(ctx: Ctx, gb: GroupBuy) -> list[str]:
    """The 接龙 list: `  1. 张阿姨 42码 ×2 跟团号 1`, numbered in join order."""
    joins = participants(ctx.conn, gb.id, limit=LISTED_JOINS + 1)
    names = names_of(ctx.conn, gb.group_id, [p.user_id for p in joins[:LISTED_JOINS]])
    lines = [f"  {i}. {names[p.user_id]}{' ' + p.variant if p.variant else ''} ×{p.quantity} "
             + ctx.t(f"跟团号 {p.join_no}", f"join no. {p.join_no}")
             for i, p in enumerate(joins[:LISTED_JOINS], 1)]
    if len(joins) > LISTED_JOINS:
        lines.append(ctx.t(f"  ……（前 {LISTED_JOINS} 个，共 {gb.participants} 人）",
                           f"  … (the first {LISTED_JOINS}; {gb.participants} people in all)"))
    return lines


def _deal_line(ctx: Ctx, d: Deal) -> str:
    p = get_product_by_id(ctx.conn, d.product_id)
    parts = [f"{p.code} {p.name} {fmt(d.price_fen)}" + ctx.t(f"（原价 {fmt(p.price_fen)}）", f" (usually {fmt(p.price_fen)})")]
    if d.left is not None:
        parts.append(ctx.t(f"限量还剩 {d.left} 件", f"{d.left} left at this price"))
    if d.ends_at is not None:
        parts.append(time_left(ctx, d.ends_at))
    return ctx.t("，", ", ").join(parts)
