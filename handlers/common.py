"""Helpers shared by the command handlers: a variant named after a code or id, waitlist promotions' words, the shelf."""
from __future__ import annotations

from dataclasses import dataclass

from catalog.groupbuys import Promotion
from catalog.products import Product, find_variant
from catalog.shelf import on_shelf
from handlers.args import quantity
from handlers.context import Ctx, UserError

_LISTED_VARIANTS = 12  # a refusal lists at most this many variants in stock


# ---- variants (规格) ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pick:
    """What followed a code or group-buy id: an optional variant name and the quantity."""

    variant: str | None
    qty: int
    qty_text: str | None = None  # the quantity as typed: `下单 A12 42` may mean the variant named 42
    talk_after: bool = False  # `+1 谢谢`: for a product without variants the word after is just talk


def is_quantity(text: str) -> bool:
    try:
        quantity(text)
    except UserError:
        return False
    return True


def variant_and_qty(args: list[str], usage: tuple[str, str]) -> Pick:
    """`[]`, `[2]`, `[42码]`, `[42码, 2]` or `[2, 42码]` -> Pick. A variant comes first when both read as numbers."""
    if not args:
        return Pick(None, 1)
    if len(args) == 1:
        return Pick(None, quantity(args[0]), args[0]) if is_quantity(args[0]) else Pick(args[0], 1)
    if len(args) == 2:
        first, second = args
        if is_quantity(second):
            return Pick(first, quantity(second), second)
        if is_quantity(first):
            return Pick(second, quantity(first), first)
        quantity(second)  # neither is a quantity: say why the second is not
    raise UserError(*usage)


def pick_variant(ctx: Ctx, product: Product, pick: Pick, example: tuple[str, str]) -> tuple[str, int]:
    """(the variant's stored name, "" for a product without variants; the quantity), or one sentence:
    the variants in stock when none was given, the nearest names for a typo. `example` is the command
    to show, with {v} where the variant goes: ("下单 A12 {v} 2", "buy A12 {v} 2")."""
    text, qty = pick.variant, pick.qty
    if not product.variants:
        if text is None or pick.talk_after:
            return "", qty
        if pick.qty_text is None:
            quantity(text)  # `下单 A12 0`: a lone word is a bad quantity; says why
        raise UserError(
            f"{product.code} 没有可选的规格，直接写数量就行，例如：{example[0].format(v='').replace('  ', ' ')}",
            f"{product.code} has no variants; just give the quantity, e.g. {example[1].format(v='').replace('  ', ' ')}",
        )
    if text is None and pick.qty_text is not None and product.variant(pick.qty_text) is not None:
        text, qty = pick.qty_text, 1  # `下单 A12 42` with a variant named "42"
    if text is None:
        raise UserError(
            f"{product.code} {product.name} 有多个规格，请写上规格，例如：{example[0].format(v=_first(product))}。"
            f"{_in_stock(ctx, product, 'zh')}",
            f"{product.code} {product.name} comes in several variants; name one, e.g. {example[1].format(v=_first(product))}. "
            f"{_in_stock(ctx, product, 'en')}",
        )
    found, near = find_variant(product, text)
    if found is None:
        guess_zh = f"你是不是要：{'、'.join(near)}？" if near else ""
        guess_en = f"Did you mean: {', '.join(near)}? " if near else ""
        raise UserError(
            f"{product.code} 没有“{text}”这个规格。{guess_zh}{_in_stock(ctx, product, 'zh')}",
            f"{product.code} has no variant \"{text}\". {guess_en}{_in_stock(ctx, product, 'en')}",
        )
    return found.name, qty


def _first(product: Product) -> str:
    return next((v.name for v in product.variants if v.stock > 0), product.variants[0].name)


def _in_stock(ctx: Ctx, product: Product, lang: str) -> str:
    have = [v for v in product.variants if v.stock > 0]
    if not have:
        return "各规格都已卖完。" if lang == "zh" else "Every variant is sold out."
    shown = [f"{v.name}({v.stock})" for v in have[:_LISTED_VARIANTS]]
    more = len(have) - _LISTED_VARIANTS
    if lang == "zh":
        return "有货：" + "、".join(shown) + (f" 等 {len(have)} 个" if more > 0 else "") + "。"
    return "In stock: " + ", ".join(shown) + (f" and {more} more" if more > 0 else "") + "."


def with_variant(name: str, variant: str) -> str:
    """`潮流男鞋 42码`, or the name alone without a variant."""
    return f"{name} {variant}" if variant else name


# ---- waitlist promotions ------------------------------------------------------------------------

def promotion_text(p: Promotion, lang: str) -> str:
    item = with_variant(p.product_name, p.variant)
    if lang == "en":
        return (f"From the waitlist: {p.user_id} is now in group buy #{p.groupbuy_id} ({item}) ×{p.quantity}, "
                f"join number {p.join_no}.")
    return f"候补递补成功：{p.user_id} 已加入团购 #{p.groupbuy_id}（{item}）×{p.quantity}，跟团号 {p.join_no}。"


def announce_promotions(ctx: Ctx, promotions: list[Promotion]) -> None:
    """Each promotion is told to its group through the outbox, in this message's unit of work."""
    for p in promotions:
        ctx.outgoing.append((p.group_id, promotion_text(p, ctx.lang)))


# ---- the group's shelf --------------------------------------------------------------------------

def require_on_shelf(ctx: Ctx, product: Product) -> None:
    """Refuse a product this group does not sell (its shelf holds others, and no group buy or deal of it is open here)."""
    if ctx.msg.is_private or on_shelf(ctx.conn, ctx.group_id, product.id, ctx.now):
        return
    raise UserError(
        f"本群不卖 {product.code} {product.name}。发“商品”看看本群在售的商品。",
        f"This group does not sell {product.code} {product.name}. Send \"browse\" to see what it sells.",
    )
