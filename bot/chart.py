"""A group's per-day activity as a PNG (messages, active members, orders), drawn off-screen with Agg."""
from __future__ import annotations

import io
from collections.abc import Sequence

from catalog.stats import DayPoint

WIDTH_PX, HEIGHT_PX = 1000, 500
_DPI = 100


def activity_png(points: Sequence[DayPoint], title: str) -> bytes:
    """WIDTH_PX × HEIGHT_PX PNG. matplotlib is imported here, not at start-up (it takes a while), and only
    its object API is used: no pyplot, so no global figure state shared between request threads."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(WIDTH_PX / _DPI, HEIGHT_PX / _DPI), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    days = [p.day for p in points]
    ax.bar(days, [p.messages for p in points], color="#9ecae1", label="messages")
    ax.plot(days, [p.active_members for p in points], color="#e6550d", marker="o", label="active members")
    ax.plot(days, [p.orders for p in points], color="#31a354", marker="s", label="orders")
    ax.set_title(title)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)  # no bbox_inches="tight": the size stays exactly as declared
    return buf.getvalue()
