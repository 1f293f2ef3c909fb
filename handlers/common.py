"""Helpers shared by several commands: finding a product by code, deadlines and time left, group-buy progress,
pickup-point hints, a variant named after a code or id, waitlist promotions' words, the group's shelf."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from catalog.groupbuys import GroupBuy, Promotion
from catalog.pickups import nearest_points, needs_choice
from catalog.products import Product, find_variant, get_product
from catalog.search import nearest_codes
from catalog.shelf import product_here
from handlers.args import quantity, read_quantity
from handlers.context import Ctx, GroupBuyView, UserError
from handlers.when import parse_when
from pricing.groupbuy import progress_text
from pricing.money import fmt

DEFAULT_DEADLINE = timedelta(hours=24)
UNTIL_WORDS = ("截止", "until")


def find_product(ctx: Ctx, code: str, *, sold_here: bool = False) -> Product:
    """The active product with this code, or one sentence naming the nearest codes. `sold_here`: also
    refuse, in a group, a product the group does not sell (its shelf holds others, and no group buy or
    deal of it is open here)."""
    if sold_here and not ctx.msg.is_private:
        p, here = product_here(ctx.conn, code, ctx.group_id, ctx.now)
    else:
        p, here = get_product(ctx.conn, code), True
    if p is not None and p.active:
        if not here:
            raise UserError(
                f"本群不卖 {p.code} {p.name}。发“商品”看看本群在售的商品。",
                f"This group does not sell {p.code} {p.name}. Send \"browse\" to see what it sells.",
            )
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


def minutes_left(until: datetime, now: datetime) -> int:
    """Whole minutes left, rounded down: 团购 and the deadline reminder count the same way."""
    return int((until - now).total_seconds() // 60)


def time_left(ctx: Ctx, until: datetime) -> str:
    minutes = minutes_left(until, ctx.now)
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
    parts = [counted, now_price, progress_text(gb.basis, gb.tiers, gb.reached, ctx.lang)]
    if gb.limit_qty:
        parts.append(ctx.t(f"每人限购 {gb.limit_qty} 件", f"at most {gb.limit_qty} per member"))
    if gb.waitlist:
        parts.append(ctx.t(f"候补 {gb.waitlist} 人", f"{gb.waitlist} on the waitlist"))
    return ctx.t("，", ", ").join(p for p in parts if p)


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
    return read_quantity(text) is not None


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
        return (f"From the waitlist: {p.name or p.user_id} is now in group buy #{p.groupbuy_id} ({item}) ×{p.quantity}, "
                f"join number {p.join_no}.")
    return f"候补递补成功：{p.name or p.user_id} 已加入团购 #{p.groupbuy_id}（{item}）×{p.quantity}，跟团号 {p.join_no}。"


def announce_promotions(ctx: Ctx, promotions: list[Promotion]) -> None:
    """Each promotion is told to its group through the outbox, in this message's unit of work, in the
    language its group buy was opened in."""
    for p in promotions:
        ctx.outgoing.append((p.group_id, promotion_text(p, p.lang)))


