"""Every command in one table: its Chinese and English words, who may use it, its parser and handler."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from handlers import browse, deals, fulfilment, groupbuy, help, orders, pickups, pushes, shelf, stats
from handlers.args import no_args, rest_text
from handlers.context import Ctx


@dataclass(frozen=True)
class Command:
    name: str
    zh: tuple[str, ...]  # command words, the first is shown in help
    en: tuple[str, ...]
    run: Callable[[Ctx, Any], None]
    parse: Callable[[str], Any] = no_args  # the text after the word -> args; raises UserError
    staff: bool = False  # owner or admin only
    raw: bool = False  # the parser gets the text exactly as typed (free text), not the half-width reading
    usage: tuple[str, str] = ("", "")  # (zh, en) argument hint for help
    summary: tuple[str, str] = ("", "")  # (zh, en) one line for help
    listed: bool = True  # shown in help
    personal: bool = False  # its reply is about the sender: in a group it begins with "@NAME "


def _help(ctx: Ctx, _args: None) -> None:
    help.show_help(ctx, COMMANDS)


COMMANDS: list[Command] = [
    Command("help", ("帮助",), ("help",), _help, summary=("查看可用命令", "the commands you can use")),
    Command(
        "browse", ("商品",), ("browse",), browse.browse, parse=rest_text,
        usage=("[词]", "[word]"), summary=("浏览在售商品", "products on sale"),
    ),
    Command("more", ("更多",), ("more",), browse.more, listed=False),
    Command(
        "info", ("详情",), ("info",), browse.info, parse=browse.parse_info,
        usage=("编码", "CODE"), summary=("商品详情与阶梯价", "one product with its ladder prices"),
    ),
    Command(
        "buy", ("下单",), ("buy",), orders.buy, parse=orders.parse_buy, personal=True,
        usage=("编码 [规格] [数量]", "CODE [VARIANT] [N]"),
        summary=("下单，买得越多越便宜", "order; the more you buy, the cheaper"),
    ),
    Command("orders", ("我的订单",), ("orders",), orders.my_orders, personal=True, summary=("我的订单", "your orders here")),
    Command(
        "cancel", ("取消",), ("cancel",), orders.cancel, parse=orders.parse_cancel, personal=True,
        usage=("订单号", "ORDER"), summary=("取消待付款的订单", "cancel a pending order"),
    ),
    Command(
        "deals", ("团购",), ("deals",), deals.show_deals,
        summary=("本群进行中的团购和特价", "open group buys and deals here"),
    ),
    Command(
        "join", ("参团",), ("join",), groupbuy.join, parse=groupbuy.parse_join, personal=True,
        usage=("编号 [规格] [数量]", "ID [VARIANT] [N]"),
        summary=("参加团购，再发一次可改数量；库存不够时排候补", "join a group buy; again to change the quantity; "
                 "waitlisted when stock runs short"),
    ),
    # The router sends "+2" here with the digits as its text; the word "+N" only names it in help.
    Command(
        "plus", ("+N",), ("+N",), groupbuy.plus, parse=groupbuy.parse_plus, personal=True,
        summary=("接龙：加入本群最新的团购，N 为数量", "join this group's newest group buy with N pieces"),
    ),
    Command(
        "leave", ("退团",), ("leave",), groupbuy.leave, parse=groupbuy.parse_id, personal=True,
        usage=("编号 [规格]", "ID [VARIANT]"), summary=("结算前退出团购（或候补），库存退回", "leave a group buy (or its waitlist) before it settles"),
    ),
    Command(
        "groupbuy", ("开团",), ("groupbuy",), groupbuy.open_, parse=groupbuy.parse_open, staff=True,
        usage=("编码 人数:价格 … [限购 件数] [截止 时间]", "CODE PEOPLE:PRICE … [limit N] [until WHEN]"),
        summary=("开团，人越多越便宜（100件:79 按件数）", "open a group buy; more people, lower price (100pcs:79 counts pieces)"),
    ),
    Command(
        "close", ("结束",), ("close",), groupbuy.close, parse=groupbuy.parse_close, staff=True,
        usage=("编号", "ID"), summary=("立即结算团购", "settle a group buy now"),
    ),
    Command(
        "deal", ("发布",), ("deal",), deals.deal, parse=deals.parse_deal, staff=True,
        usage=("编码 特价 [限量 数量] [截止 时间]", "CODE PRICE [limit N] [until WHEN]"),
        summary=("发布本群限时特价", "post a flash deal to this group"),
    ),
    Command(
        "push", ("推送",), ("push",), pushes.push, parse=pushes.parse_push, staff=True, raw=True,
        usage=("时间 内容 | 列表 | 删除 编号", "WHEN TEXT | list | delete ID"),
        summary=("定时推送内容（每天 09:00、20:00、2h）", "schedule content (daily 09:00, 20:00, 2h)"),
    ),
    Command(
        "reopen", ("复团",), ("reopen",), groupbuy.reopen, parse=groupbuy.parse_reopen, staff=True,
        usage=("编号 [截止 时间]", "ID [until WHEN]"),
        summary=("按原样再开一次团购，邀请上次的团员", "open a past group buy again and invite its members"),
    ),
    Command(
        "shelf", ("上架",), ("list",), shelf.show_or_add, parse=shelf.parse_codes, staff=True,
        usage=("[编码 …]", "[CODE …]"), summary=("本群货架：只卖这些商品；不带编码查看货架", "this group's shelf: "
                                                 "sell only these; alone, show it"),
    ),
    Command(
        "unlist", ("下架",), ("unlist",), shelf.unlist, parse=shelf.parse_codes, staff=True,
        usage=("编码 …", "CODE …"), summary=("从本群货架拿下商品", "take products off this group's shelf"),
    ),
    Command(
        "stats", ("统计",), ("stats",), stats.show_stats, staff=True,
        summary=("本群近 7 天的活跃、拉新与成交", "this group's last 7 days: activity, invites, sales"),
    ),
    # Fulfilment (docs/fulfilment.md): pickup points, confirmation, 核销, what waits, the spreadsheet link.
    Command(
        "pickups", ("自提点",), ("pickups",), pickups.pickups, parse=pickups.parse_pickups,
        usage=("[添加|删除 名称]", "[add|remove NAME]"),
        summary=("本群自提点；群主可添加、删除", "this group's pickup points; owners add and remove them"),
    ),
    Command(
        "pickup", ("自提",), ("pickup",), pickups.pickup, parse=pickups.parse_pickup,
        usage=("名称", "NAME"), summary=("选择我的自提点", "choose your pickup point"),
    ),
    Command(
        "confirm", ("确认",), ("confirm",), fulfilment.confirm_orders, parse=fulfilment.parse_order_list,
        staff=True, usage=("订单号 …", "ORDER …"),
        summary=("确认订单（如已付款），可一次多个", "confirm orders (e.g. once paid), several at once"),
    ),
    Command(
        "collect", ("核销",), ("collect",), fulfilment.collect_orders, parse=fulfilment.parse_order_list,
        staff=True, usage=("订单号 …", "ORDER …"),
        summary=("核销：已确认的订单取货了", "mark confirmed orders as collected"),
    ),
    Command(
        "uncollected", ("未取",), ("uncollected",), fulfilment.uncollected, parse=fulfilment.parse_point_filter,
        staff=True, usage=("[自提点]", "[PICKUP POINT]"),
        summary=("按自提点列出还没取货的订单", "confirmed orders not yet collected, by pickup point"),
    ),
    Command(
        "export", ("导出",), ("export",), fulfilment.export, parse=fulfilment.parse_export, staff=True,
        usage=("[团购编号]", "[GROUPBUY ID]"),
        summary=("本群订单表格的下载链接（24 小时有效）", "a download link of this group's order spreadsheet (24 h)"),
    ),
]

BY_WORD: dict[str, tuple[Command, str]] = {}
for _cmd in COMMANDS:
    for _w in _cmd.zh:
        BY_WORD[_w] = (_cmd, "zh")
    for _w in _cmd.en:
        BY_WORD[_w.lower()] = (_cmd, "en")
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
