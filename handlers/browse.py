"""商品/browse, 更多/more and 详情/info: looking at the catalog."""
from __future__ import annotations

from catalog.cursors import forget_cursor, get_cursor, save_cursor
from catalog.deals import active_deal
from catalog.products import Product
from catalog.search import search_products
from handlers.args import require, tokens
from handlers.common import find_product
from handlers.context import Ctx
from pricing.money import fmt

PAGE = 10


def parse_info(rest: str) -> str:
    args = tokens(rest)
    return require(args[0] if args else None, "请写上商品编码，例如：详情 A12", "Give a product code, e.g. info A12")


def browse(ctx: Ctx, word: str) -> None:
    _show_page(ctx, word, 0)


def more(ctx: Ctx, _args: None) -> None:
    cursor = get_cursor(ctx.conn, ctx.group_id, ctx.user_id)
    if cursor is None:
        ctx.say("没有更多商品了。发送“商品”重新浏览。", "No more products. Send \"browse\" to start again.")
        return
    word, offset = cursor
    _show_page(ctx, word, offset)


def _show_page(ctx: Ctx, word: str, offset: int) -> None:
    here = None if ctx.msg.is_private else ctx.group_id  # a group with a shelf sees only it (catalog.shelf)
    page, has_more = search_products(ctx.conn, word, offset=offset, limit=PAGE, group_id=here, now=ctx.now)
    if not page:
        forget_cursor(ctx.conn, ctx.group_id, ctx.user_id)
        if word:
            ctx.say(f"没有找到“{word}”相关的商品。", f"No products match \"{word}\".")
        else:
            ctx.say("现在还没有在售的商品。", "No products are on sale yet.")
        return
    head = ctx.t(f"商品（{word}）：" if word else "商品：", f"Products ({word}):" if word else "Products:")
    lines = [head] + [_line(ctx, p) for p in page]
    if has_more:
        save_cursor(ctx.conn, ctx.group_id, ctx.user_id, word, offset + PAGE, ctx.now)
        lines.append(ctx.t("发送“更多”看下一页。", "Send \"more\" for the next page."))
    else:
        forget_cursor(ctx.conn, ctx.group_id, ctx.user_id)
    ctx.reply.texts.append("\n".join(lines))


def _line(ctx: Ctx, p: Product) -> str:
    return f"{p.code} {p.name} {fmt(p.price_fen)} " + ctx.t(f"库存 {p.stock}", f"stock {p.stock}")


def info(ctx: Ctx, code: str) -> None:
    p = find_product(ctx, code, sold_here=True)
    lines = [f"{p.code} {p.name}"]
    price = fmt(p.price_fen)
    if p.market_price_fen and p.market_price_fen > p.price_fen:
        price += ctx.t(f"（市场价 {fmt(p.market_price_fen)}）", f" (market price {fmt(p.market_price_fen)})")
    lines.append(price + ctx.t(f"，库存 {p.stock}", f", stock {p.stock}"))
    if p.ladder:
        steps = [ctx.t(f"{q}件起 {fmt(fen)}/件", f"from {q} pcs {fmt(fen)} each") for q, fen in p.ladder]
        lines.append(ctx.t("阶梯价：", "Ladder: ") + ctx.t("；", "; ").join(steps))
    if p.variants:
        sizes = [ctx.t(f"{v.name} 库存 {v.stock}" if v.stock else f"{v.name} 已售罄",
                       f"{v.name} stock {v.stock}" if v.stock else f"{v.name} sold out") for v in p.variants]
        lines.append(ctx.t("规格：", "Variants: ") + ctx.t("；", "; ").join(sizes))
    deal = active_deal(ctx.conn, ctx.group_id, p.id, ctx.now)
    if deal is not None:
        text = ctx.t(f"本群特价：{fmt(deal.price_fen)}", f"Deal in this group: {fmt(deal.price_fen)}")
        if deal.left is not None:
            text += ctx.t(f"，限量还剩 {deal.left} 件", f", {deal.left} left at this price")
        if deal.ends_at is not None:
            until = deal.ends_at.astimezone(ctx.tz).strftime("%m-%d %H:%M")
            text += ctx.t(f"，截止 {until}", f", until {until}")
        lines.append(text)
    if p.category:
        lines.append(ctx.t(f"分类：{p.category}", f"Category: {p.category}"))
    if p.description:
        lines.append(p.description)
    if p.variants:
        lines.append(ctx.t(f"下单：下单 {p.code} 规格 数量", f"To order: buy {p.code} VARIANT QTY"))
    else:
        lines.append(ctx.t(f"下单：下单 {p.code} 数量", f"To order: buy {p.code} QTY"))
    ctx.reply.texts.append("\n".join(lines))
