"""商品/browse, 更多/more and 详情/info: looking at the catalog."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from catalog.deals import active_deal
from catalog.products import Product, get_product, nearest_codes, search_products
from handlers.args import require, tokens
from handlers.common import require_on_shelf
from handlers.context import Ctx, UserError
from pricing.money import fmt
from storage.prepared import Prepared
from storage.tables import browse_cursors

PAGE = 10


def parse_info(rest: str) -> str:
    args = tokens(rest)
    return require(args[0] if args else None, "请写上商品编码，例如：详情 A12", "Give a product code, e.g. info A12")


def browse(ctx: Ctx, word: str) -> None:
    _show_page(ctx, word, 0)


def more(ctx: Ctx, _args: None) -> None:
    row = ctx.conn.execute(
        select(browse_cursors.c.word, browse_cursors.c.next_offset).where(
            browse_cursors.c.chat_id == ctx.group_id, browse_cursors.c.user_id == ctx.user_id
        )
    ).first()
    if row is None:
        ctx.say("没有更多商品了。发送“商品”重新浏览。", "No more products. Send \"browse\" to start again.")
        return
    _show_page(ctx, row.word, row.next_offset)


def _show_page(ctx: Ctx, word: str, offset: int) -> None:
    here = None if ctx.msg.is_private else ctx.group_id  # a group with a shelf sees only it (catalog.shelf)
    page, has_more = search_products(ctx.conn, word, offset=offset, limit=PAGE, group_id=here, now=ctx.now)
    if not page:
        _forget_cursor(ctx)
        if word:
            ctx.say(f"没有找到“{word}”相关的商品。", f"No products match \"{word}\".")
        else:
            ctx.say("现在还没有在售的商品。", "No products are on sale yet.")
        return
    head = ctx.t(f"商品（{word}）：" if word else "商品：", f"Products ({word}):" if word else "Products:")
    lines = [head] + [_line(ctx, p) for p in page]
    if has_more:
        _save_cursor(ctx, word, offset + PAGE, ctx.now)
        lines.append(ctx.t("发送“更多”看下一页。", "Send \"more\" for the next page."))
    else:
        _forget_cursor(ctx)
    ctx.reply.texts.append("\n".join(lines))


def _line(ctx: Ctx, p: Product) -> str:
    return f"{p.code} {p.name} {fmt(p.price_fen)} " + ctx.t(f"库存 {p.stock}", f"stock {p.stock}")


def _upsert_cursor(dialect):
    stmt = dialect.insert(browse_cursors)
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "user_id"],
        set_={"word": stmt.excluded.word, "next_offset": stmt.excluded.next_offset, "updated_at": stmt.excluded.updated_at},
    )


# Every 商品 runs one of them: prepared once (storage/prepared.py).
_SAVE_CURSOR = {"postgresql": Prepared(_upsert_cursor(postgresql)), "sqlite": Prepared(_upsert_cursor(sqlite))}
_FORGET_CURSOR = Prepared(delete(browse_cursors).where(
    browse_cursors.c.chat_id == bindparam("chat_id"), browse_cursors.c.user_id == bindparam("user_id")
))


def _save_cursor(ctx: Ctx, word: str, next_offset: int, now: datetime) -> None:
    stmt = _SAVE_CURSOR["postgresql" if ctx.conn.dialect.name == "postgresql" else "sqlite"]
    stmt.rowcount(
        ctx.conn,
        {"chat_id": ctx.group_id, "user_id": ctx.user_id, "word": word, "next_offset": next_offset, "updated_at": now},
    )


def _forget_cursor(ctx: Ctx) -> None:
    _FORGET_CURSOR.rowcount(ctx.conn, {"chat_id": ctx.group_id, "user_id": ctx.user_id})


def info(ctx: Ctx, code: str) -> None:
    p = find_product(ctx, code)
    require_on_shelf(ctx, p)
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
