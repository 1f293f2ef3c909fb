"""开团/groupbuy, 参团/join, +N, 退团/leave and 结束/close: group buys in the chat."""
from __future__ import annotations

from dataclasses import dataclass

from catalog.groupbuys import (
    GroupBuy,
    GroupBuyUnavailable,
    JoinResult,
    NotParticipating,
    OverLimit,
    get_groupbuy,
    join_groupbuy,
    leave_groupbuy,
    live_groupbuys,
    open_groupbuy,
    reopen_groupbuy,
    settle,
)
from catalog.orders import OutOfStock
from catalog.products import get_product_by_id, lock_product
from handlers.announcements import announcement, settlement_names
from handlers.args import quantity, tokens
from handlers.common import (
    UNTIL_WORDS,
    Pick,
    announce_promotions,
    deadline,
    find_product,
    pick_variant,
    pickup_hint,
    refuse_private,
    show,
    split_keyword,
    status_text,
    variant_and_qty,
    with_variant,
)
from handlers.context import Ctx, UserError
from handlers.when import fmt_local
from pricing.groupbuy import PEOPLE, Basis, PriceRuleError, Tier, parse_tiers
from pricing.money import fmt

PER_MEMBER_WORDS = ("限购", "limit")  # 限购 N: pieces one member may hold in the group buy


# ---- 开团 / groupbuy ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenArgs:
    code: str
    basis: Basis
    tiers: list[Tier]
    when: list[str] | None
    limit: int | None = None


_OPEN_USAGE = ("格式：开团 编码 人数:价格 … [限购 件数] [截止 时间]，例如：开团 A12 10:89 20:79 限购 3 截止 明天 20:00",
               "Usage: groupbuy CODE PEOPLE:PRICE … [limit N] [until WHEN], "
               "e.g. groupbuy A12 10:89 20:79 limit 3 until tomorrow 20:00")


def take_limit(parts: list[list[str] | None]) -> int | None:
    """Finds `限购 N` / `limit N` in any of these token lists (removing it); its N, or None."""
    limit = None
    for part in parts:
        if part is None:
            continue
        head, after = split_keyword(part, PER_MEMBER_WORDS)
        if after is None:
            continue
        if not after:
            raise UserError("“限购”后面要写每人最多几件，例如：限购 3",
                            "Put the pieces per member after \"limit\", e.g. limit 3")
        limit = quantity(after[0])
        part[:] = head + after[1:]
    return limit


def parse_open(rest: str) -> OpenArgs:
    args = tokens(rest)
    if not args or ":" in args[0]:
        raise UserError(*_OPEN_USAGE)
    tier_tokens, when = split_keyword(args[1:], UNTIL_WORDS)
    limit = take_limit([tier_tokens, when])
    try:
        basis, tiers = parse_tiers(tier_tokens)
    except PriceRuleError as e:
        raise UserError(e.zh, e.en) from None
    return OpenArgs(args[0], basis, tiers, when, limit)


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
    lock_product(ctx.conn, product.id)  # two owners opening it at once: the second sees the first's
    same = next((g for g in live_groupbuys(ctx.conn, ctx.group_id, ctx.now) if g.product_id == product.id), None)
    if same is not None:  # two at once would split the group's people between two ladders
        raise UserError(
            f"本群已有 {product.code} 的团购 #{same.id} 在进行中。要重开，请先“结束 {same.id}”。",
            f"Group buy #{same.id} for {product.code} is already open here. To start again, first \"close {same.id}\".",
        )
    gb = open_groupbuy(
        ctx.conn, group_id=ctx.group_id, product=product, basis=a.basis, tiers=a.tiers,
        deadline=ends, created_by=ctx.user_id, now=ctx.now, limit_qty=a.limit, lang=ctx.lang,
    )
    show(ctx, gb, invites_joining=True)
    ctx.tell_group(gb.group_id, opened_text(ctx, gb))


def opened_text(ctx: Ctx, gb: GroupBuy) -> str:
    """The announcement of a newly opened group buy: product, tiers, limit, deadline, how to join."""
    product = get_product_by_id(ctx.conn, gb.product_id)
    steps = ctx.t("；", "; ").join(_tier_text(ctx, gb.basis, t) for t in gb.tiers)
    until = fmt_local(gb.deadline, ctx.tz)
    limit = ctx.t(f"\n每人限购 {gb.limit_qty} 件", f"\nAt most {gb.limit_qty} per member") if gb.limit_qty else ""
    if product.variants:
        v = next((x.name for x in product.variants if x.stock > 0), product.variants[0].name)
        sizes = "、".join(x.name for x in product.variants)
        how = ctx.t(f"规格：{sizes}\n参团发“参团 {gb.id} 规格 数量”，或直接发“+1 {v}”。",
                    f"Variants: {', '.join(x.name for x in product.variants)}\n"
                    f"Join with \"join {gb.id} VARIANT QTY\", or just send \"+1 {v}\".")
    else:
        how = ctx.t(f"参团发“参团 {gb.id} 数量”，或直接发“+1”。", f"Join with \"join {gb.id} QTY\", or just send \"+1\".")
    return ctx.t(
        f"开团啦！团购 #{gb.id}：{product.code} {product.name}（原价 {fmt(product.price_fen)}）\n"
        f"{steps}{limit}\n截止 {until}\n{how}",
        f"Group buy #{gb.id} is open: {product.code} {product.name} (usually {fmt(product.price_fen)})\n"
        f"{steps}{limit}\nUntil {until}\n{how}",
    )


def _tier_text(ctx: Ctx, basis: Basis, t: Tier) -> str:
    if basis == PEOPLE:
        return ctx.t(f"满 {t.threshold} 人 {fmt(t.price_fen)}", f"{t.threshold}+ people {fmt(t.price_fen)}")
    return ctx.t(f"满 {t.threshold} 件 {fmt(t.price_fen)}", f"{t.threshold}+ pieces {fmt(t.price_fen)}")


# ---- 参团 / join, +N, 退团 / leave, 结束 / close -----------------------------------------------

@dataclass(frozen=True)
class JoinArgs:
    groupbuy_id: int
    pick: Pick  # the variant (规格) if one was named, and the quantity

    @property
    def qty(self) -> int:
        return self.pick.qty


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


_JOIN_USAGE = ("格式：参团 编号 [规格] [数量]，例如：参团 3 2 或 参团 3 42码 2",
               "Usage: join ID [VARIANT] [QTY], e.g. join 3 2 or join 3 42码 2")


def parse_join(rest: str) -> JoinArgs:
    args = tokens(rest)
    gb_id = _groupbuy_id(args[0] if args else None, *_JOIN_USAGE)
    return JoinArgs(gb_id, variant_and_qty(args[1:], _JOIN_USAGE))


def parse_plus(rest: str) -> Pick:
    """`2` or `2 42码` (the router hands over the text after "+")."""
    args = tokens(rest)
    if not args:
        raise UserError("接龙请发 +数量，例如 +1。", "To join, send +QTY, e.g. +1.")
    # Anything after the first word is the variant, or talk ("+1 谢谢") for a product without variants.
    return Pick(args[1] if len(args) > 1 else None, quantity(args[0]), None, talk_after=True)


@dataclass(frozen=True)
class LeaveArgs:
    groupbuy_id: int
    variant: str | None = None  # None: every join of the sender there


def parse_id(rest: str) -> LeaveArgs:
    args = tokens(rest)
    usage = ("请写上团购编号，例如：退团 3（只退一个规格：退团 3 42码）",
             "Give the group buy id, e.g. leave 3 (one variant only: leave 3 42码)")
    if len(args) > 2:
        raise UserError(*usage)
    return LeaveArgs(_groupbuy_id(args[0] if args else None, *usage), args[1] if len(args) > 1 else None)


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


def _join(ctx: Ctx, gb: GroupBuy, pick: Pick) -> None:
    product = get_product_by_id(ctx.conn, gb.product_id)
    variant, qty = pick_variant(ctx, product, pick, (f"参团 {gb.id} {{v}} 1", f"join {gb.id} {{v}} 1"))
    item = with_variant(gb.product_code, variant)
    show(ctx, gb)  # a refusal leaves these figures as they are
    try:
        r: JoinResult = join_groupbuy(ctx.conn, gb.id, ctx.user_id, qty, ctx.now, variant)
    except GroupBuyUnavailable as e:
        raise _closed(ctx, e.gb) from None
    except OverLimit as e:
        more = max(e.limit - e.held, 0)
        raise UserError(
            f"团购 #{gb.id} 每人限购 {e.limit} 件，你已有 {e.held} 件"
            + (f"，这里最多还能要 {more} 件。" if more else "，不能再加了。"),
            f"Group buy #{gb.id} allows {e.limit} per member and you already hold {e.held}"
            + (f"; at most {more} more here." if more else "; you cannot add more."),
        ) from None
    except OutOfStock as e:
        raise UserError(
            f"库存不足：{item} 只剩 {e.left} 件，数量没有改。" if e.left else f"{item} 已经卖完了，数量没有改。",
            f"Not enough stock: only {e.left} of {item} left; your quantity is unchanged." if e.left
            else f"{item} is sold out; your quantity is unchanged.",
        ) from None
    announce_promotions(ctx, r.promotions)
    g = r.gb
    show(ctx, g)
    name = with_variant(g.product_name, r.variant)
    state = status_text(ctx, g)
    if r.kind == "joined":
        ctx.say(
            f"参团成功！团购 #{g.id} {name} ×{r.quantity}，你的跟团号 {r.join_no}。现在 {state}。",
            f"You joined group buy #{g.id} ({name}) ×{r.quantity}, join number {r.join_no}. Now {state}.",
        )
    elif r.kind == "changed":
        ctx.say(
            f"已把团购 #{g.id} {name} 的数量从 {r.previous} 改为 {r.quantity}（跟团号 {r.join_no}）。现在 {state}。",
            f"Your quantity of {name} in group buy #{g.id} is now {r.quantity} (was {r.previous}; "
            f"join number {r.join_no}). Now {state}.",
        )
    elif r.kind == "waitlisted":
        short_zh = f"{item} 只剩 {r.left} 件" if r.left else f"{item} 已经卖完了"
        short_en = f"Only {r.left} of {item} left" if r.left else f"{item} is sold out"
        if r.left >= r.quantity:  # enough in stock, but others were waiting for it first
            short_zh, short_en = f"{item} 前面还有人在候补", f"Others are already waiting for {item}"
        ctx.say(
            f"{short_zh}，已加入候补第 {r.position} 位：团购 #{g.id} {name} ×{r.quantity}。"
            f"有人退团或补货时按顺序递补，递补后群里会通知；不想等了发“退团 {g.id}”。",
            f"{short_en}: you are number {r.position} on the waitlist of group buy #{g.id} ({name} ×{r.quantity}). "
            f"When someone leaves or stock comes back the line moves up in order and the group is told; "
            f"to stop waiting send \"leave {g.id}\".",
        )
    elif r.kind == "waiting":
        ctx.say(
            f"你在团购 #{g.id} {name} 的候补第 {r.position} 位，数量 {r.quantity}。",
            f"You are number {r.position} on the waitlist of group buy #{g.id} ({name}), quantity {r.quantity}.",
        )
    else:
        ctx.say(
            f"你已在团购 #{g.id} 中（{name}），数量 {r.quantity}，跟团号 {r.join_no}。"
            f"改数量发“参团 {g.id} 新数量”，退出发“退团 {g.id}”。",
            f"You are already in group buy #{g.id} ({name}) with {r.quantity}, join number {r.join_no}. "
            f"To change it send \"join {g.id} QTY\"; to leave, \"leave {g.id}\".",
        )


def join(ctx: Ctx, a: JoinArgs) -> None:
    _join(ctx, _visible(ctx, a.groupbuy_id), a.pick)
    pickup_hint(ctx)


def plus(ctx: Ctx, pick: Pick) -> None:
    live = [] if ctx.msg.is_private else live_groupbuys(ctx.conn, ctx.group_id, ctx.now)
    if not live and not ctx.msg.is_private:
        return  # in a group "+1" is also "me too": with no group buy open it is talk, answered with silence
    if not live:
        raise UserError(
            "本群现在没有进行中的团购，发“团购”看看有什么。",
            "There is no open group buy in this group right now; send \"deals\" to see what there is.",
        )
    _join(ctx, live[0], pick)
    pickup_hint(ctx)


def leave(ctx: Ctx, a: LeaveArgs) -> None:
    gb = _visible(ctx, a.groupbuy_id)
    variant = None
    if a.variant is not None:
        product = get_product_by_id(ctx.conn, gb.product_id)
        variant, _ = pick_variant(ctx, product, Pick(a.variant, 1),
                                  (f"退团 {gb.id} {{v}}", f"leave {gb.id} {{v}}"))
    show(ctx, gb)
    try:
        done = leave_groupbuy(ctx.conn, gb.id, ctx.user_id, ctx.now, variant)
    except GroupBuyUnavailable as e:
        raise _closed(ctx, e.gb) from None
    except NotParticipating:
        raise UserError(f"你没有参加团购 #{gb.id}。", f"You are not in group buy #{gb.id}.") from None
    announce_promotions(ctx, done.promotions)
    gb = done.gb
    show(ctx, gb)
    parts_zh, parts_en = [], []
    if done.joins:
        pieces = sum(p.quantity for p in done.joins)
        parts_zh.append(f"已退出团购 #{gb.id}，{pieces} 件已退回库存")
        parts_en.append(f"You left group buy #{gb.id}; {pieces} returned to stock")
    if done.waits:
        parts_zh.append(f"已取消团购 #{gb.id} 的候补")
        parts_en.append(f"your place on the waitlist of group buy #{gb.id} is given up")
    state = status_text(ctx, gb)
    ctx.say("，".join(parts_zh) + f"。现在 {state}。", "; ".join(parts_en) + f". Now {state}.")


# ---- 复团 / reopen ----------------------------------------------------------------------------

_INVITED = 30  # the reopening announcement names at most this many earlier participants


@dataclass(frozen=True)
class ReopenArgs:
    groupbuy_id: int
    when: list[str] | None


def parse_reopen(rest: str) -> ReopenArgs:
    usage = ("格式：复团 编号 [截止 时间]，例如：复团 3 截止 明天 20:00",
             "Usage: reopen ID [until WHEN], e.g. reopen 3 until tomorrow 20:00")
    before, when = split_keyword(tokens(rest), UNTIL_WORDS)
    if len(before) != 1:
        raise UserError(*usage)
    return ReopenArgs(_groupbuy_id(before[0], *usage), when)


def reopen(ctx: Ctx, a: ReopenArgs) -> None:
    """A new group buy like an earlier one of this group: same product, basis, tiers and limit."""
    refuse_private(ctx, "请在群里复团。", "Reopen a group buy in the group chat.")
    old = _visible(ctx, a.groupbuy_id)
    if old.is_live(ctx.now):
        raise UserError(f"团购 #{old.id} 还在进行中，不用复团。", f"Group buy #{old.id} is still open; no need to reopen it.")
    product = find_product(ctx, old.product_code)
    if product.stock <= 0:
        raise UserError(f"{product.code} 已经卖完了，不能复团。", f"{product.code} is sold out; it cannot reopen.")
    ends = deadline(ctx, a.when)
    _, gb, people = reopen_groupbuy(ctx.conn, old.id, group_id=ctx.group_id, deadline=ends,
                                    created_by=ctx.user_id, now=ctx.now)
    show(ctx, gb, invites_joining=True)
    text = ctx.t(f"复团（上次是 #{old.id}）！", f"Reopened (last time #{old.id})! ") + opened_text(ctx, gb)
    if people:
        names = " ".join(f"@{u}" for u in people[:_INVITED])
        more = len(people) - _INVITED
        names += ctx.t(f" 等 {len(people)} 位", f" and {more} more") if more > 0 else ""
        text += ctx.t(f"\n上次参团的 {names}，欢迎再来！", f"\n{names}: you joined last time, join again!")
    ctx.tell_group(gb.group_id, text)


def close(ctx: Ctx, groupbuy_id: int) -> None:
    gb = _visible(ctx, groupbuy_id)
    done = settle(ctx.conn, gb.id, ctx.now) if gb.status == "open" else None
    if done is None:
        raise _closed(ctx, get_groupbuy(ctx.conn, gb.id))
    ctx.orders_placed += len(done.orders)
    ctx.tell_group(gb.group_id, announcement(done, ctx.lang, settlement_names(ctx.conn, done)))
    announce_promotions(ctx, done.promotions)
    if ctx.msg.is_private or gb.group_id != ctx.group_id:
        ctx.say(f"团购 #{gb.id} 已结算，群里已通知。", f"Group buy #{gb.id} is settled; the group has been told.")
