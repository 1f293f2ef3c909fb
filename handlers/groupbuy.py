"""开团/groupbuy, 参团/join, +N, 退团/leave and 结束/close: group buys in the chat."""
from __future__ import annotations

from dataclasses import dataclass

from catalog.groupbuys import (
    GroupBuy,
    GroupBuyUnavailable,
    JoinResult,
    NotParticipating,
    get_groupbuy,
    join_groupbuy,
    leave_groupbuy,
    live_groupbuys,
    open_groupbuy,
    settle,
)
from catalog.orders import OutOfStock
from handlers.announcements import announcement, settlement_names
from handlers.args import quantity, tokens
from handlers.common import (
    UNTIL_WORDS, deadline, find_product, pickup_hint, refuse_private, show, split_keyword, status_text,
)
from handlers.context import Ctx, UserError
from handlers.when import fmt_local
from pricing.groupbuy import PEOPLE, Basis, PriceRuleError, Tier, parse_tiers
from pricing.money import fmt

# ---- 开团 / groupbuy ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenArgs:
    code: str
    basis: Basis
    tiers: list[Tier]
    when: list[str] | None


_OPEN_USAGE = ("格式：开团 编码 人数:价格 … [截止 时间]，例如：开团 A12 10:89 20:79 截止 明天 20:00",
               "Usage: groupbuy CODE PEOPLE:PRICE … [until WHEN], e.g. groupbuy A12 10:89 20:79 until tomorrow 20:00")


def parse_open(rest: str) -> OpenArgs:
    args = tokens(rest)
    if not args or ":" in args[0]:
        raise UserError(*_OPEN_USAGE)
    tier_tokens, when = split_keyword(args[1:], UNTIL_WORDS)
    try:
        basis, tiers = parse_tiers(tier_tokens)
    except PriceRuleError as e:
        raise UserError(e.zh, e.en) from None
    return OpenArgs(args[0], basis, tiers, when)


def open_(ctx: Ctx, a: OpenArgs) -> None:
    refuse_private(ctx, "请在群里开团。", "Open a group buy in the group chat.")
    product = find_product(ctx, a.code)
    top = max(t.price_fen for t in a.tiers)
    if top >= product.price_fen:
        raise UserError(
            f"团购价 {fmt(top)} 要低于原价 {fmt(product.price_fen)}。",
            f"A group-buy price ({fmt(top)}) must be below the product price ({fmt(product.price_fen)}).",
        )
    ends = deadline(ctx, a.when)
    if product.stock <= 0:
        raise UserError(f"{product.code} 已经卖完了，不能开团。", f"{product.code} is sold out; no group buy can open.")
    same = next((g for g in live_groupbuys(ctx.conn, ctx.group_id, ctx.now) if g.product_id == product.id), None)
    if same is not None:  # two at once would split the group's people between two ladders
        raise UserError(
            f"本群已有 {product.code} 的团购 #{same.id} 在进行中。要重开，请先“结束 {same.id}”。",
            f"Group buy #{same.id} for {product.code} is already open here. To start again, first \"close {same.id}\".",
        )
    gb = open_groupbuy(
        ctx.conn, group_id=ctx.group_id, product=product, basis=a.basis, tiers=a.tiers,
        deadline=ends, created_by=ctx.user_id, now=ctx.now, lang=ctx.lang,
    )
    show(ctx, gb, invites_joining=True)
    steps = ctx.t("；", "; ").join(_tier_text(ctx, gb.basis, t) for t in gb.tiers)
    until = fmt_local(gb.deadline, ctx.tz)
    ctx.tell_group(gb.group_id, ctx.t(
        f"开团啦！团购 #{gb.id}：{product.code} {product.name}（原价 {fmt(product.price_fen)}）\n"
        f"{steps}\n截止 {until}\n参团发“参团 {gb.id} 数量”，或直接发“+1”。",
        f"Group buy #{gb.id} is open: {product.code} {product.name} (usually {fmt(product.price_fen)})\n"
        f"{steps}\nUntil {until}\nJoin with \"join {gb.id} QTY\", or just send \"+1\".",
    ))


def _tier_text(ctx: Ctx, basis: Basis, t: Tier) -> str:
    if basis == PEOPLE:
        return ctx.t(f"满 {t.threshold} 人 {fmt(t.price_fen)}", f"{t.threshold}+ people {fmt(t.price_fen)}")
    return ctx.t(f"满 {t.threshold} 件 {fmt(t.price_fen)}", f"{t.threshold}+ pieces {fmt(t.price_fen)}")


# ---- 参团 / join, +N, 退团 / leave, 结束 / close -----------------------------------------------

@dataclass(frozen=True)
class JoinArgs:
    groupbuy_id: int
    qty: int


def _groupbuy_id(text: str | None, zh_usage: str, en_usage: str) -> int:
    if not text:
        raise UserError(zh_usage, en_usage)
    digits = text.removeprefix("#")
    if not digits.isdecimal() or len(digits) > 9:
        raise UserError(
            f"“{text}”不是团购编号，编号是一个数字，发“团购”可以看到。",
            f"\"{text}\" is not a group buy id; ids are numbers, send \"deals\" to see them.",
        )
    return int(digits)


def parse_join(rest: str) -> JoinArgs:
    args = tokens(rest)
    usage = ("格式：参团 编号 [数量]，例如：参团 3 2", "Usage: join ID [QTY], e.g. join 3 2")
    if len(args) > 2:
        raise UserError(*usage)
    gb_id = _groupbuy_id(args[0] if args else None, *usage)
    return JoinArgs(gb_id, quantity(args[1] if len(args) > 1 else None))


def parse_plus(rest: str) -> int:
    """`2`, `2件`, `两件` (the router only sends a quantity here); words after it (`+1 我也要`) are talk."""
    args = tokens(rest)
    if not args:
        raise UserError("接龙请发 +数量，例如 +1。", "To join, send +QTY, e.g. +1.")
    return quantity(args[0])


def parse_id(rest: str) -> int:
    args = tokens(rest)
    return _groupbuy_id(args[0] if args else None, "请写上团购编号，例如：退团 3", "Give the group buy id, e.g. leave 3")


def parse_close(rest: str) -> int:
    args = tokens(rest)
    return _groupbuy_id(args[0] if args else None, "请写上团购编号，例如：结束 3", "Give the group buy id, e.g. close 3")


def _visible(ctx: Ctx, groupbuy_id: int) -> GroupBuy:
    """The group buy with this id, if it belongs to this group (a private chat sees every group's)."""
    gb = get_groupbuy(ctx.conn, groupbuy_id)
    if gb is None or (not ctx.msg.is_private and gb.group_id != ctx.group_id):
        raise UserError(
            f"本群没有团购 #{groupbuy_id}。发“团购”看看进行中的团购。",
            f"There is no group buy #{groupbuy_id} in this group. Send \"deals\" to see the open ones.",
        )
    return gb


def _closed(ctx: Ctx, gb: GroupBuy | None) -> UserError:
    if gb is None:
        return UserError("没有这个团购。", "There is no such group buy.")
    if gb.status == "succeeded":
        return UserError(f"团购 #{gb.id} 已经成团结束了。", f"Group buy #{gb.id} has already closed (it succeeded).")
    if gb.status == "failed":
        return UserError(f"团购 #{gb.id} 已经结束，没有成团。", f"Group buy #{gb.id} has already closed (it failed).")
    return UserError(f"团购 #{gb.id} 已经截止，正在结算。", f"Group buy #{gb.id} is past its deadline and being settled.")


def _join(ctx: Ctx, gb: GroupBuy, qty: int) -> None:
    show(ctx, gb)  # a refusal leaves these figures as they are
    try:
        r: JoinResult = join_groupbuy(ctx.conn, gb.id, ctx.user_id, qty, ctx.now)
    except GroupBuyUnavailable as e:
        raise _closed(ctx, e.gb) from None
    except OutOfStock as e:
        raise UserError(
            f"库存不足：{gb.product_code} 只剩 {e.left} 件。" if e.left else f"{gb.product_code} 已经卖完了。",
            f"Not enough stock: only {e.left} of {gb.product_code} left." if e.left else f"{gb.product_code} is sold out.",
        ) from None
    g = r.gb
    show(ctx, g)
    state = status_text(ctx, g)
    if r.kind == "joined":
        ctx.say(
            f"参团成功！团购 #{g.id} {g.product_name} ×{r.quantity}，你的跟团号 {r.join_no}。现在 {state}。",
            f"You joined group buy #{g.id} ({g.product_name}) ×{r.quantity}, join number {r.join_no}. Now {state}.",
        )
    elif r.kind == "changed":
        ctx.say(
            f"已把团购 #{g.id} 的数量从 {r.previous} 改为 {r.quantity}（跟团号 {r.join_no}）。现在 {state}。",
            f"Your quantity in group buy #{g.id} is now {r.quantity} (was {r.previous}; join number {r.join_no}). "
            f"Now {state}.",
        )
    else:
        ctx.say(
            f"你已在团购 #{g.id} 中，数量 {r.quantity}，跟团号 {r.join_no}。改数量发“参团 {g.id} 新数量”，退出发“退团 {g.id}”。",
            f"You are already in group buy #{g.id} with {r.quantity}, join number {r.join_no}. "
            f"To change it send \"join {g.id} QTY\"; to leave, \"leave {g.id}\".",
        )


def join(ctx: Ctx, a: JoinArgs) -> None:
    _join(ctx, _visible(ctx, a.groupbuy_id), a.qty)
    pickup_hint(ctx)


def plus(ctx: Ctx, qty: int) -> None:
    live = [] if ctx.msg.is_private else live_groupbuys(ctx.conn, ctx.group_id, ctx.now)
    if not live and not ctx.msg.is_private:
        return  # in a group "+1" is also "me too": with no group buy open it is talk, answered with silence
    if not live:
        raise UserError(
            "本群现在没有进行中的团购，发“团购”看看有什么。",
            "There is no open group buy in this group right now; send \"deals\" to see what there is.",
        )
    _join(ctx, live[0], qty)
    pickup_hint(ctx)


def leave(ctx: Ctx, groupbuy_id: int) -> None:
    gb = _visible(ctx, groupbuy_id)
    show(ctx, gb)
    try:
        gb, mine = leave_groupbuy(ctx.conn, gb.id, ctx.user_id, ctx.now)
    except GroupBuyUnavailable as e:
        raise _closed(ctx, e.gb) from None
    except NotParticipating:
        raise UserError(f"你没有参加团购 #{gb.id}。", f"You are not in group buy #{gb.id}.") from None
    show(ctx, gb)
    state = status_text(ctx, gb)
    ctx.say(
        f"已退出团购 #{gb.id}，{mine.quantity} 件已退回库存。现在 {state}。",
        f"You left group buy #{gb.id}; {mine.quantity} returned to stock. Now {state}.",
    )


def close(ctx: Ctx, groupbuy_id: int) -> None:
    gb = _visible(ctx, groupbuy_id)
    done = settle(ctx.conn, gb.id, ctx.now) if gb.status == "open" else None
    if done is None:
        raise _closed(ctx, get_groupbuy(ctx.conn, gb.id))
    ctx.orders_placed += len(done.orders)
    ctx.tell_group(gb.group_id, announcement(done, ctx.lang, settlement_names(ctx.conn, done)))
    if ctx.msg.is_private or gb.group_id != ctx.group_id:
        ctx.say(f"团购 #{gb.id} 已结算，群里已通知。", f"Group buy #{gb.id} is settled; the group has been told.")
