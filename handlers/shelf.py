"""上架/list and 下架/unlist: which products this group sells (its shelf); 上架 alone shows it."""
from __future__ import annotations

from catalog.shelf import UnknownCodes, add_to_shelf, remove_from_shelf, shelf
from handlers.args import tokens
from handlers.context import Ctx, UserError
from pricing.money import fmt


def parse_codes(rest: str) -> list[str]:
    return tokens(rest.replace("，", " ").replace(",", " "))


def _refuse_private(ctx: Ctx) -> None:
    if ctx.msg.is_private:
        raise UserError("请在群里管理本群的货架。", "Manage a group's shelf in the group chat.")


def _unknown(e: UnknownCodes) -> UserError:
    codes = "、".join(e.codes)
    return UserError(f"没有编码为 {codes} 的商品，货架没有改动。发送“商品”看看有什么。",
                     f"There is no product with code {', '.join(e.codes)}; the shelf is unchanged. "
                     "Send \"browse\" to see what there is.")


def show_or_add(ctx: Ctx, codes: list[str]) -> None:
    _refuse_private(ctx)
    if codes:
        try:
            added = add_to_shelf(ctx.conn, ctx.group_id, codes, ctx.now)
        except UnknownCodes as e:
            raise _unknown(e) from None
        if added:
            ctx.say(f"已上架：{'、'.join(added)}。", f"Now on this group's shelf: {', '.join(added)}.")
        else:
            ctx.say("这些商品已经在本群货架上了。", "Those products are already on this group's shelf.")
    _show(ctx)


def unlist(ctx: Ctx, codes: list[str]) -> None:
    _refuse_private(ctx)
    if not codes:
        raise UserError("请写上要下架的商品编码，例如：下架 C05", "Give the codes to take off, e.g. unlist C05")
    try:
        gone = remove_from_shelf(ctx.conn, ctx.group_id, codes)
    except UnknownCodes as e:
        raise _unknown(e) from None
    if gone:
        ctx.say(f"已下架：{'、'.join(gone)}。", f"Taken off this group's shelf: {', '.join(gone)}.")
    else:
        ctx.say("这些商品本来就不在本群货架上。", "Those products were not on this group's shelf.")
    _show(ctx)


def _show(ctx: Ctx) -> None:
    products = shelf(ctx.conn, ctx.group_id)
    if not products:
        ctx.say("本群货架是空的：群里能看到并购买全部商品。上架发“上架 编码 …”。",
                "This group's shelf is empty: the whole catalog is on sale here. Add with \"list CODE …\".")
        return
    lines = [ctx.t(f"本群货架（{len(products)} 件商品，群里只卖这些和进行中的团购、特价）：",
                   f"This group's shelf ({len(products)} products; the group sees only these and its open group buys "
                   "and deals):")]
    lines += [f"{p.code} {p.name} {fmt(p.price_fen)}" for p in products]
    ctx.reply.texts.append("\n".join(lines))
