"""帮助/help: the commands this sender may use, in the language they asked in."""
from __future__ import annotations

from typing import Any, Iterable

from handlers.context import Ctx


def show_help(ctx: Ctx, commands: Iterable[Any]) -> None:
    """`commands`: the registry's Command entries (handlers.registry passes its table; importing it
    from here would make the two modules import each other)."""
    lang = 0 if ctx.lang == "zh" else 1
    lines = [ctx.t("可用命令：", "Commands:")]
    for cmd in commands:
        if not cmd.listed or (cmd.staff and not ctx.is_staff):
            continue
        word = cmd.zh[0] if lang == 0 else cmd.en[0]
        usage = f" {cmd.usage[lang]}" if cmd.usage[lang] else ""
        lines.append(f"{word}{usage} — {cmd.summary[lang]}")
    if not ctx.msg.is_private:
        lines.append(ctx.t("命令前可加 / 或 #，也可以 @我。", "Commands may start with / or #, or mention me."))
    ctx.reply.texts.append("\n".join(lines))


def text_only(ctx: Ctx) -> None:
    """The answer to a picture, file or video sent to the bot (the `media` event): it reads words only."""
    ctx.say("我只能读文字消息：请用文字发命令，例如“团购”或“下单 A12 2”。发“帮助”查看全部命令。",
            "I can only read text: type a command, e.g. \"deals\" or \"buy A12 2\". Send \"help\" for all commands.")
