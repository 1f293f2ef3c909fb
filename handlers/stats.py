"""统计/stats: this group's 7-day health in a few lines, each figure against the 7 days before."""
from __future__ import annotations

from catalog.stats import GroupStats, Window, group_stats_over
from handlers.context import Ctx, UserError
from pricing.money import fmt

DAYS = 7
SHOW_INVITERS = 3
SHOW_CONTRIBUTORS = 5
REASON_WORDS = {
    "invited": ("拉新", "invited"),
    "groupbuy": ("开团", "group buy"),
    "deal": ("发特价", "deal"),
    "talked": ("常发言", "regular talk"),
}


def change(now: int, before: int, lang: str) -> str:
    """`↑18%`, `↓5%`, `持平`/`flat`, and `新增`/`new` when the window before had none of this figure."""
    if now == before:
        return "持平" if lang == "zh" else "flat"
    if before == 0:
        return "新增" if lang == "zh" else "new"
    pct = round(abs(now - before) * 100 / before)
    arrow = "↑" if now > before else "↓"
    return f"{arrow}{pct}%" if pct else f"{arrow}<1%"


def show_stats(ctx: Ctx, _args: None) -> None:
    if ctx.msg.is_private:
        raise UserError("请在群里发“统计”，查看那个群的数据。", "Send \"stats\" in a group to see that group's figures.")
    w = Window.last(ctx.now, DAYS)
    cur, prev = group_stats_over(ctx.conn, ctx.group_id, [w, w.before()], ctx.tz)
    ctx.reply.texts.append("\n".join(render(cur, prev, ctx.lang)))


def _empty(s: GroupStats) -> bool:
    """Nothing at all happened in the window (then there is nothing to compare against)."""
    return not (s.messages or s.new_members or s.orders or s.groupbuys_succeeded or s.pushes_sent or s.contributors)


def render(cur: GroupStats, prev: GroupStats, lang: str) -> list[str]:
    zh = lang == "zh"
    compare = not _empty(prev)  # an empty week before: every figure would read "new", which says nothing

    def fig(label_zh: str, label_en: str, attr: str, show=str) -> str:
        a, b = getattr(cur, attr), getattr(prev, attr)
        if not compare:
            return f"{label_zh} {show(a)}" if zh else f"{label_en} {show(a)}"
        return f"{label_zh} {show(a)}（{change(a, b, lang)}）" if zh else f"{label_en} {show(a)} ({change(a, b, lang)})"

    sep = "、" if zh else ", "
    if compare:
        head = (f"本群近 {DAYS} 天（与之前 {DAYS} 天相比）：" if zh
                else f"This group, last {DAYS} days (change against the {DAYS} days before):")
    else:
        head = (f"本群近 {DAYS} 天（上周无数据，暂无对比）：" if zh
                else f"This group, last {DAYS} days (no data for the week before, so no comparison):")
    lines = [
        head,
        fig("消息", "Messages", "messages"),
        fig("活跃成员", "Active members", "active_members"),
        fig("新成员", "New members", "new_members"),
    ]
    if cur.top_inviters:
        top = sep.join(
            f"{_name(t)} {t['invited']} 人" if zh else f"{_name(t)} ({t['invited']})"
            for t in cur.top_inviters[:SHOW_INVITERS]
        )
        lines.append(f"拉新最多：{top}" if zh else f"Top inviters: {top}")
    if cur.contributors:
        people = sep.join(
            f"{_name(c)}（{'、'.join(REASON_WORDS[r][0] for r in c['reasons'])}）" if zh
            else f"{_name(c)} ({', '.join(REASON_WORDS[r][1] for r in c['reasons'])})"
            for c in cur.contributors[:SHOW_CONTRIBUTORS]
        )
        more = len(cur.contributors) - SHOW_CONTRIBUTORS
        if more > 0:
            people += " 等" if zh else f" and {more} more"
        n = len(cur.contributors)
        lines.append(f"贡献者 {n} 人：{people}" if zh else f"Contributors ({n}): {people}")
    else:
        lines.append("贡献者：暂无" if zh else "Contributors: none yet")
    rate = round(cur.repurchase_rate * 100)
    lines += [
        fig("订单", "Orders", "orders"),
        fig("买家", "Buyers", "buyers"),
        (f"复购率 {rate}%（{cur.repeat_buyers} 人买了 2 次及以上）" if zh
         else f"Repurchase rate {rate}% ({cur.repeat_buyers} bought twice or more)"),
        fig("成交额", "GMV", "gmv_fen", fmt),
        fig("成团", "Group buys succeeded", "groupbuys_succeeded"),
        fig("推送送达", "Pushes sent", "pushes_sent"),
    ]
    return lines


def _name(person: dict) -> str:
    return person.get("name") or person["user_id"]
