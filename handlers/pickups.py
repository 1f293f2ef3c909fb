"""自提点/pickups (list; owners add and remove) and 自提/pickup NAME (a member's choice)."""
from __future__ import annotations

from dataclasses import dataclass

from catalog.fulfilment import give_point_to_waiting_orders
from catalog.pickups import (
    MAX_NAME,
    MAX_POINTS,
    BadPickupName,
    add_point,
    choose_point,
    chosen_point,
    find_point,
    list_points,
    remove_point,
)
from handlers.common import unknown_point
from handlers.context import Ctx, UserError

_ADD = ("添加", "增加", "add")
_REMOVE = ("删除", "remove", "delete")


@dataclass(frozen=True)
class PickupsArgs:
    action: str | None  # None: list; "add" | "remove"
    name: str = ""


def parse_pickups(rest: str) -> PickupsArgs:
    words = rest.split(None, 1)
    if not words:
        return PickupsArgs(None)
    verb = words[0].lower()
    if verb not in _ADD + _REMOVE:
        raise UserError(
            "选择自提点请发“自提 名称”；群主添加或删除：自提点 添加 名称 / 自提点 删除 名称。",
            "To choose a pickup point: pickup NAME; owners: pickups add NAME / pickups remove NAME.",
        )
    name = words[1].strip() if len(words) > 1 else ""
    if not name:
        raise UserError("请写上自提点名称，例如：自提点 添加 东门快递柜", "Give the pickup point's name, e.g. pickups add East Gate")
    return PickupsArgs("add" if verb in _ADD else "remove", name)


def _bad_name(e: BadPickupName) -> UserError:
    if e.reason == "too_many":
        return UserError(f"一个群最多 {MAX_POINTS} 个自提点。", f"A group has at most {MAX_POINTS} pickup points.")
    if e.reason == "too_long":
        return UserError(f"自提点名称最多 {MAX_NAME} 个字。", f"A pickup point's name has at most {MAX_NAME} characters.")
    return UserError("请写上自提点名称。", "Give the pickup point's name.")


def pickups(ctx: Ctx, a: PickupsArgs) -> None:
    if ctx.msg.is_private:
        raise UserError("自提点属于群，请在群里发。", "Pickup points belong to a group: send this in the group.")
    if a.action is None:
        _show(ctx)
        return
    if not ctx.is_staff:
        word = ctx.t(f"自提点 {'添加' if a.action == 'add' else '删除'}", f"pickups {a.action}")
        raise UserError(f"只有群主或管理员可以用“{word}”。", f"Only the group owner or an admin can use \"{word}\".")
    try:
        if a.action == "add":
            added = add_point(ctx.conn, ctx.group_id, a.name, ctx.now)
            name = find_point(ctx.conn, ctx.group_id, a.name)
            if not added:
                raise UserError(f"本群已经有自提点“{name}”。", f"This group already has the pickup point \"{name}\".")
            ctx.say(f"已添加自提点“{name}”。", f"Pickup point \"{name}\" added.")
        else:
            gone = remove_point(ctx.conn, ctx.group_id, a.name)
            if gone is None:
                raise unknown_point(ctx, a.name, list_points(ctx.conn, ctx.group_id))
            ctx.say(f"已删除自提点“{gone}”，选过它的成员需要重新选择。",
                    f"Pickup point \"{gone}\" removed; members who had chosen it need to choose again.")
    except BadPickupName as e:
        raise _bad_name(e) from None
    _show(ctx, mine=False)


def _show(ctx: Ctx, *, mine: bool = True) -> None:
    names = list_points(ctx.conn, ctx.group_id)
    if not names:
        ctx.say("本群还没有自提点。群主可发“自提点 添加 名称”。",
                "This group has no pickup points yet. Owners add one with \"pickups add NAME\".")
        return
    lines = [ctx.t("本群自提点：", "Pickup points here:")]
    lines += [f"{i}. {n}" for i, n in enumerate(names, 1)]
    if mine:
        chosen = chosen_point(ctx.conn, ctx.group_id, ctx.user_id)
        lines.append(ctx.t(f"你的自提点：{chosen}。" if chosen else "你还没有选，发“自提 名称”选择。",
                           f"Yours: {chosen}." if chosen else "You have not chosen one: send \"pickup NAME\"."))
    else:
        lines.append(ctx.t("成员发“自提 名称”选择自己的自提点。", "Members choose theirs with \"pickup NAME\"."))
    ctx.reply.texts.append("\n".join(lines))


def parse_pickup(rest: str) -> str:
    return " ".join(rest.split())


def pickup(ctx: Ctx, typed: str) -> None:
    if ctx.msg.is_private:
        raise UserError("自提点属于群，请在群里选择。", "Pickup points belong to a group: choose in the group.")
    names = list_points(ctx.conn, ctx.group_id)
    if not names:
        raise UserError("本群还没有设置自提点。", "This group has no pickup points yet.")
    if not typed:
        mine = chosen_point(ctx.conn, ctx.group_id, ctx.user_id)
        raise UserError(
            (f"你的自提点是“{mine}”。" if mine else "") + f"请写上名称，例如：自提 {names[0]}（可选：{'、'.join(names)}）",
            (f"Your pickup point is \"{mine}\". " if mine else "") + f"Give a name, e.g. pickup {names[0]} "
            f"(one of: {', '.join(names)})",
        )
    name = find_point(ctx.conn, ctx.group_id, typed)
    if name is None:
        raise unknown_point(ctx, typed, names)
    choose_point(ctx.conn, ctx.group_id, ctx.user_id, name, ctx.now)
    moved = give_point_to_waiting_orders(ctx.conn, ctx.group_id, ctx.user_id, name)
    extra = ctx.t(f"你已确认、还没有自提点的 {moved} 笔订单也在这里取。",
                  f" Your {moved} confirmed order{'s' if moved > 1 else ''} without a pickup point will be collected here too.") if moved else ""
    ctx.say(f"已选择自提点：{name}。之后确认的订单都在这里取货。{extra}",
            f"Pickup point chosen: {name}. Orders confirmed from now on are collected there.{extra}")
