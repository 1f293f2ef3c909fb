"""The per-day chart: a real PNG of the declared size, from the same series as the stats, and lazy matplotlib."""
import io
import struct
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest

from bot.app import create_app
from bot.chart import HEIGHT_PX, WIDTH_PX, activity_png
from bot.settings import load_settings
from catalog.stats import Window, daily_series, group_stats
from helpers import SHANGHAI, T0, Chat, add_product

AUTH = {"Authorization": "Bearer tok"}
NOW = T0 + timedelta(days=30)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def seed(db, clock) -> None:
    add_product(db)
    chat = Chat(db, clock)
    for day in range(0, 30, 3):
        clock.now = NOW - timedelta(days=day, hours=2)
        chat.send("早上好", user=f"u{day}")
        chat.send("下单 A12 1", user="buyer")
    clock.now = NOW


@pytest.mark.anyio
async def test_chart_is_a_png_of_the_declared_size(db, clock):
    seed(db, clock)
    app = create_app(load_settings(admin_token="tok", database_url=db.url), db=db, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        r = await http.get("/admin/groups/g1/chart.png?days=30", headers=AUTH)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert png_size(r.content) == (WIDTH_PX, HEIGHT_PX) == (1000, 600)
        default = await http.get("/admin/groups/g1/chart.png", headers=AUTH)
        assert png_size(default.content) == (1000, 600)
        assert (await http.get("/admin/groups/g1/chart.png?days=400", headers=AUTH)).status_code == 422


def test_chart_decodes_as_an_image():
    from matplotlib.image import imread  # reads the PNG back: it opens, and has the size it claims

    img = imread(io.BytesIO(activity_png([], "empty")), format="png")
    assert img.shape[:2] == (HEIGHT_PX, WIDTH_PX)


def test_chart_numbers_are_the_stats_numbers(db, clock):
    seed(db, clock)
    w = Window.last(NOW, 30)
    with db.read() as conn:
        days = daily_series(conn, "g1", w, SHANGHAI)
        stats = group_stats(conn, "g1", w, SHANGHAI)
    assert len(days) == 31  # 30 days back from 10:00 touch 31 local dates
    assert (sum(d.messages for d in days), sum(d.orders for d in days)) == (stats.messages, stats.orders) == (20, 10)
    assert max(d.active_members for d in days) == 2 and stats.active_members == 11


def test_start_up_does_not_import_matplotlib():
    code = "import sys, bot.app, bot.admin.stats; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_chinese_labels_have_their_glyphs_from_the_bundled_cjk_font(recwarn):
    from datetime import date

    from bot.chart import cjk_font
    from catalog.stats import DayPoint

    assert "Noto Sans CJK" in cjk_font().get_name()
    points = [DayPoint(date(2026, 11, d), 100 + d, d, d % 3, d * 18900) for d in range(1, 31)]
    png = activity_png(points, "潮鞋团 · 最近 30 天")
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX)
    assert not [w for w in recwarn if "missing from font" in str(w.message) or "Glyph" in str(w.message)]


def test_a_system_font_without_chinese_would_have_warned(recwarn):
    """The check above can fail: DejaVu Sans (matplotlib's own) has no Chinese and says so."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    fig.suptitle("潮鞋团")
    fig.savefig(io.BytesIO(), format="png")
    assert [w for w in recwarn if "missing from font" in str(w.message) or "Glyph" in str(w.message)]


def test_daily_gmv_is_the_days_orders_total(db, clock):
    seed(db, clock)
    with db.read() as conn:
        days = daily_series(conn, "g1", Window.last(NOW, 30), SHANGHAI)
        stats = group_stats(conn, "g1", Window.last(NOW, 30), SHANGHAI)
    assert sum(d.gmv_fen for d in days) == stats.gmv_fen == 10 * 19900


def _bars_of(png: bytes, color: str) -> list[int]:
    """The heights in pixels, left to right, of the bars of one colour: columns of that colour standing on
    a common baseline (the legend's patch of the same colour floats above it and is left out; a grid line
    across a bar is a gap of a pixel or two)."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    want = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
    mask = (np.abs(rgb - want).sum(axis=2) <= 6)
    runs = {}  # column: (bottom row, height) of its lowest run of the colour
    for col in np.flatnonzero(mask.any(axis=0)):
        rows = np.flatnonzero(mask[:, col])
        bottom = top = rows[-1]
        while top - 3 >= 0 and mask[top - 3:top, col].any():
            top -= 1
        runs[col] = (bottom, bottom - top + 1)
    baseline = max(bottom for bottom, _ in runs.values())
    standing = sorted(col for col, (bottom, _) in runs.items() if bottom == baseline)
    bars, start = [], standing[0]
    for a, b in zip(standing, standing[1:] + [None]):
        if b != a + 1:  # the end of a bar: its height at its middle column
            bars.append(runs[(start + a) // 2][1])
            start = b
    return bars


def test_the_bars_are_drawn_to_scale_one_a_day_and_none_for_an_empty_day():
    from datetime import date

    from bot.chart import _BLUE, _PURPLE
    from catalog.stats import DayPoint

    messages = [10, 40, 20, 0, 30, 5]
    gmv = [0, 300, 600, 900, 150, 450]
    points = [DayPoint(date(2026, 11, 1 + i), n, 1, 1, fen * 100) for i, (n, fen) in enumerate(zip(messages, gmv))]
    png = activity_png(points, "比例")
    for color, values in ((_BLUE, messages), (_PURPLE, gmv)):
        heights = _bars_of(png, color)
        shown = [v for v in values if v]
        assert len(heights) == len(shown), (color, heights)
        tallest = max(heights)
        for h, v in zip(heights, shown):
            assert abs(h / tallest - v / max(shown)) < 0.03, (color, heights, values)
