"""A group's per-day activity as a PNG, drawn off-screen with Agg: messages; active members and orders;
GMV in yuan. Three panels over one date axis, so the small figures are not flattened by the messages.

Chinese labels need a CJK font that is always there: Noto Sans CJK (SIL Open Font License) from the
`noto-cjk-sans-otc` package, never a system font that a server may not have."""
from __future__ import annotations

import io
from collections.abc import Sequence

from catalog.stats import DayPoint

WIDTH_PX, HEIGHT_PX = 1000, 600
_DPI = 100
_BLUE, _ORANGE, _GREEN, _PURPLE = "#6baed6", "#e6550d", "#31a354", "#756bb1"


def cjk_font():
    """The bundled CJK font as matplotlib FontProperties (the collection's first face; every face holds
    the simplified Chinese glyphs)."""
    from matplotlib.font_manager import FontProperties
    from noto_cjk_sans_otc import FONT_PATH

    return FontProperties(fname=str(FONT_PATH))


def activity_png(points: Sequence[DayPoint], title: str) -> bytes:
    """WIDTH_PX × HEIGHT_PX PNG. matplotlib is imported here, not at start-up (it takes a while), and only
    its object API is used: no pyplot, so no global figure state shared between request threads."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    font = cjk_font()
    small = font.copy()
    small.set_size(9)
    fig = Figure(figsize=(WIDTH_PX / _DPI, HEIGHT_PX / _DPI), dpi=_DPI)
    FigureCanvasAgg(fig)
    talk, people, money = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.2, 1]})
    days = date2num([p.day for p in points])
    money.xaxis_date()  # the shared x axis holds dates (as matplotlib's day numbers)

    messages = [p.messages for p in points]
    members, orders = [p.active_members for p in points], [p.orders for p in points]
    yuan = [p.gmv_fen / 100 for p in points]
    _bars(talk, days, messages, _BLUE, "消息")
    people.plot(days, members, color=_ORANGE, marker="o", label="活跃成员")
    people.plot(days, orders, color=_GREEN, marker="s", label="订单")
    _bars(money, days, yuan, _PURPLE, "成交额（元）")

    for ax, ylabel, values in ((talk, "消息", messages), (people, "人 / 单", members + orders),
                               (money, "成交额（元）", yuan)):
        ax.set_ylabel(ylabel, fontproperties=font)
        ax.set_ylim(0, max(values + [1]) * 1.3)  # headroom: the legend sits above the highest day
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper left", prop=small, frameon=False, ncol=2)
    fig.suptitle(title, fontproperties=font, fontsize=14)
    money.xaxis.set_major_formatter(DateFormatter("%m-%d"))
    fig.autofmt_xdate()
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.1, hspace=0.15)
    buf = io.BytesIO()
    # no bbox_inches="tight": the size stays exactly as declared. zlib's fastest level: half the encoding
    # time of the default for a somewhat larger file.
    fig.savefig(buf, format="png", dpi=_DPI, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _bars(ax, days, heights: list[float], color: str, label: str) -> None:
    """Bars 0.8 of a day wide, as Axes.bar draws them, but as one collection: Axes.bar makes an artist of
    each day's bar, and making and drawing those was a third of the chart's time."""
    from matplotlib.collections import PolyCollection

    ax.add_collection(PolyCollection(
        [((d - 0.4, 0), (d - 0.4, h), (d + 0.4, h), (d + 0.4, 0)) for d, h in zip(days, heights)],
        facecolors=color, edgecolors="none", label=label))
    ax.autoscale_view()
