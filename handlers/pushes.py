"""推送/push: schedule content for this group (one-off, delay or daily), list it, delete it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.pushes import MAX_TEXT, Push, create_push, delete_push, list_pushes
from handlers.context import Ctx, UserError
from handlers.when import fmt_local, is_daily, parse_daily, parse_when, split_when

LIST_WORDS = ("列表", "list")
DELETE_WORDS = ("删除", "delete")
_PREVIEW = 30  # characters of a push's text shown in the list

_USAGE = (
    "格式：推送 时间 内容（时间如 30m、20:00、明天 20:00、每天 09:00），或 推送 列表 / 推送 删除 编号",
    "Usage: push WHEN TEXT (WHEN like 30m, 20:00, tomorrow 20:00, daily 09:00), or push list / push delete ID",
)


@dataclass(frozen=True)
class PushArgs:
    action: str  # "create" | "list" | "delete"
    when: str = ""  # create: the WHEN as typed
    daily: tuple[int, int] | None = None  # create: (hour, minute) for 每天/daily
    text: str = ""  # create: what to send
    push_id: int = 0  # delete


def parse_push(rest: str) -> PushArgs:
    words = rest.split()
    if not words:
        raise UserError(*_USAGE)
    first = words[0].lower()
    if first in LIST_WORDS:
        if len(words) > 1:
            raise UserError(*_USAGE)
        return PushArgs("list")
    if first in DELETE_WORDS:
        if len(words) != 2:
            raise UserError("格式：推送 删除 编号，例如：推送 删除 3", "Usage: push delete ID, e.g. push delete 3")
        digits = words[1].lstrip("#")
        if not digits.isdecimal() or not 1 <= int(digits) < 2**31:
            raise UserError(f"“{words[1]}”不是推送编号，编号像 3 这样。", f"\"{words[1]}\" is not a push ID; IDs look like 3.")
        return PushArgs("delete", push_id=int(digits))
    when, after = split_when(words)
    if not when:
        raise UserError(*_USAGE)
    # The text keeps its own spacing and line breaks: cut the WHEN's words off the original.
    text = re.sub(r"^\s*(?:\S+\s*){%d}" % len(when.split()), "", rest, count=1).strip() if after else ""
    if not text:
        raise UserError("请在时间后面写上推送内容，例如：推送 每天 09:00 早上好", "Put the text after the time, e.g. push daily 09:00 Good morning")
    if len(text) > MAX_TEXT:
        raise UserError(f"推送内容最多 {MAX_TEXT} 个字。", f"A push can be at most {MAX_TEXT} characters.")
    daily = parse_daily(when) if is_daily(when) else None
    return PushArgs("create", when=when, daily=daily, text=text)


def push(ctx: Ctx, a: PushArgs) -> None:
    if ctx.msg.is_private:
        raise UserError("定时推送要在群里设置。", "Schedule pushes in the group they are for.")
    if a.action == "list":
        _list(ctx)
    elif a.action == "delete":
        if not delete_push(ctx.conn, ctx.group_id, a.push_id):
            raise UserError(f"本群没有推送 #{a.push_id}。发送“推送 列表”查看。",
                            f"This group has no push #{a.push_id}. Send \"push list\" to see them.")
        ctx.say(f"已删除推送 #{a.push_id}。", f"Push #{a.push_id} deleted.")
    else:
        _create(ctx, a)


def _create(ctx: Ctx, a: PushArgs) -> None:
    if a.daily is not None:
        p = create_push(ctx.conn, ctx.group_id, a.text, now=ctx.now, tz=ctx.tz, daily=a.daily, created_by=ctx.user_id)
        nxt = fmt_local(p.next_run_at, ctx.tz)
        ctx.say(f"已安排推送 #{p.id}：每天 {p.daily_time} 发送，下次 {nxt}。",
                f"Push #{p.id} scheduled: daily at {p.daily_time}, next {nxt}.")
        return
    at = parse_when(a.when, ctx.now, ctx.tz)
    p = create_push(ctx.conn, ctx.group_id, a.text, now=ctx.now, tz=ctx.tz, at=at, created_by=ctx.user_id)
    when = fmt_local(at, ctx.tz)
    ctx.say(f"已安排推送 #{p.id}：{when} 发送。", f"Push #{p.id} scheduled for {when}.")


def _list(ctx: Ctx) -> None:
    found = list_pushes(ctx.conn, ctx.group_id)
    if not found:
        ctx.say("本群还没有定时推送。", "This group has no scheduled pushes.")
        return
    lines = [ctx.t("本群的定时推送：", "Scheduled pushes here:")]
    lines += [_line(ctx, p) for p in found]
    lines.append(ctx.t("删除请发“推送 删除 编号”。", "To remove one: push delete ID"))
    ctx.reply.texts.append("\n".join(lines))


def _line(ctx: Ctx, p: Push) -> str:
    nxt = fmt_local(p.next_run_at, ctx.tz)
    if p.kind == "daily":
        when = ctx.t(f"每天 {p.daily_time}（下次 {nxt}）", f"daily {p.daily_time} (next {nxt})")
    elif p.kind == "cron":
        when = ctx.t(f"定时 {p.cron}（下次 {nxt}）", f"cron {p.cron} (next {nxt})")
    else:
        when = nxt
    preview = p.text if len(p.text) <= _PREVIEW else p.text[:_PREVIEW] + "…"
    preview = " ".join(preview.split())
    return f"#{p.id} {when}：{preview}" if ctx.lang == "zh" else f"#{p.id} {when}: {preview}"
