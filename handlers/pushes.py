"""推送/push: schedule content for this group (one-off, delay, daily or weekly), list it, delete it, and say
honestly when it will go out."""
from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.groups import get_group
from catalog.pushes import MAX_TEXT, Push, create_push, delete_push, list_pushes
from handlers.context import Ctx, UserError
from handlers.when import (
    WEEKDAYS, fmt_local, is_daily, is_weekly, parse_daily, parse_weekly, parse_when, quiet_until, split_when,
)

LIST_WORDS = ("列表", "list")
DELETE_WORDS = ("删除", "delete")
_PREVIEW = 30  # characters of a push's text shown in the list

_USAGE = (
    "格式：推送 时间 内容（时间如 30m、20:00、明天 20:00、每天 09:00、每周一 09:00），或 推送 列表 / 推送 删除 编号",
    "Usage: push WHEN TEXT (WHEN like 30m, 20:00, tomorrow 20:00, daily 09:00, weekly mon 09:00), "
    "or push list / push delete ID",
)


@dataclass(frozen=True)
class PushArgs:
    action: str  # "create" | "list" | "delete"
    when: str = ""  # create: the WHEN as typed
    daily: tuple[int, int] | None = None  # create: (hour, minute) for 每天/daily
    weekly: tuple[str, int, int] | None = None  # create: (cron day name, hour, minute) for 每周一/weekly mon
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
    weekly = parse_weekly(when) if is_weekly(when) else None
    return PushArgs("create", when=when, daily=daily, weekly=weekly, text=text)


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
        zh, en = (f"已安排推送 #{p.id}：每天 {p.daily_time} 发送，下次 {nxt}。",
                  f"Push #{p.id} scheduled: daily at {p.daily_time}, next {nxt}.")
    elif a.weekly is not None:
        day, hour, minute = a.weekly
        cron = f"{minute} {hour} * * {day}"  # the admin API's cron form: one push kind for both
        p = create_push(ctx.conn, ctx.group_id, a.text, now=ctx.now, tz=ctx.tz, cron=cron, created_by=ctx.user_id)
        nxt = fmt_local(p.next_run_at, ctx.tz)
        zh, en = (f"已安排推送 #{p.id}：{weekly_words(p.cron, 'zh')} 发送，下次 {nxt}。",
                  f"Push #{p.id} scheduled: {weekly_words(p.cron, 'en')}, next {nxt}.")
    else:
        at = parse_when(a.when, ctx.now, ctx.tz)
        p = create_push(ctx.conn, ctx.group_id, a.text, now=ctx.now, tz=ctx.tz, at=at, created_by=ctx.user_id)
        when = fmt_local(at, ctx.tz)
        zh, en = f"已安排推送 #{p.id}：{when} 发送。", f"Push #{p.id} scheduled for {when}."
    ctx.say(zh + _honest(ctx, p, zh=True), en + _honest(ctx, p, zh=False))


def _honest(ctx: Ctx, p: Push, *, zh: bool) -> str:
    """What the scheduling sentence alone would hide: quiet hours holding the push until they end, and a
    group with no push target, where nothing can be delivered until an admin sets one."""
    out = ""
    held = quiet_until(p.next_run_at, ctx.quiet, ctx.tz) if p.next_run_at is not None else None
    if held is not None:
        start, end = ctx.quiet
        again = p.kind != "once"  # a repeating time inside quiet hours is held every time
        at = fmt_local(held, ctx.tz)[-5:] if again else fmt_local(held, ctx.tz)
        if zh:
            out += (f"这个时间在免打扰时段（{start}:00–{end}:00）内，" + ("每次都" if again else "")
                    + f"要等到 {at} 才会发出。")
        else:
            out += (f" That time is inside quiet hours ({start}:00–{end}:00), so it will "
                    + ("each time " if again else "") + f"go out at {at}.")
    group = get_group(ctx.conn, ctx.group_id)
    if group is None or not group.push_target:
        out += ("\n本群还没有推送通道：请管理员为本群设置推送地址（管理接口 PUT /admin/groups/本群ID 的 push_target），"
                "设置之前推送只会排队，不会送达。" if zh else
                "\nThis group has no push target yet: an admin must set one (push_target in PUT /admin/groups/ID); "
                "until then pushes wait in the queue and reach nobody.")
    return out


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
    elif p.kind == "cron" and weekly_words(p.cron, ctx.lang):
        when = ctx.t(f"{weekly_words(p.cron, 'zh')}（下次 {nxt}）", f"{weekly_words(p.cron, 'en')} (next {nxt})")
    elif p.kind == "cron":
        when = ctx.t(f"定时 {p.cron}（下次 {nxt}）", f"cron {p.cron} (next {nxt})")
    else:
        when = nxt
    preview = p.text if len(p.text) <= _PREVIEW else p.text[:_PREVIEW] + "…"
    preview = " ".join(preview.split())
    return f"#{p.id} {when}：{preview}" if ctx.lang == "zh" else f"#{p.id} {when}: {preview}"


_ZH_DAY = dict(zip(WEEKDAYS, "一二三四五六日"))


def weekly_words(cron: str | None, lang: str) -> str:
    """`0 9 * * mon` -> `每周一 09:00` / `weekly Mon 09:00`; "" for any other cron."""
    parts = (cron or "").split()
    if len(parts) != 5 or parts[2:4] != ["*", "*"] or parts[4] not in _ZH_DAY \
            or not parts[0].isdecimal() or not parts[1].isdecimal():
        return ""
    clock = f"{int(parts[1]):02d}:{int(parts[0]):02d}"
    return f"每周{_ZH_DAY[parts[4]]} {clock}" if lang == "zh" else f"weekly {parts[4].capitalize()} {clock}"
