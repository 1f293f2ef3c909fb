"""Helpers shared by several commands."""
from __future__ import annotations

from catalog.pickups import nearest_points, needs_choice
from handlers.context import Ctx, UserError


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
