"""The order spreadsheet: CSV and an .xlsx workbook (XlsxWriter, constant memory: rows are streamed
to disk as they come, so 10,000 orders cost no more memory than 100)."""
from __future__ import annotations

import csv
import io
import unicodedata
from datetime import datetime, tzinfo
from typing import Iterable

import xlsxwriter

from catalog.fulfilment import Line
from pricing.money import fmt

HEADER = ["跟团号", "订单号", "下单人", "商品编码", "商品", "规格", "数量", "单价", "金额", "状态", "自提点", "下单时间", "取货时间"]
SUMMARY = "汇总"
SUMMARY_HEADER = ["商品编码", "商品", "规格", "数量", "金额"]
STATE_WORDS = {"pending": "待付款", "confirmed": "已确认", "collected": "已取货", "cancelled": "已取消"}
_TIME = "%Y-%m-%d %H:%M"
_MAX_WIDTH = 60


def _yuan(fen: int) -> str:
    """`189.00`: the one money formatter without its currency sign."""
    return fmt(fen).replace("¥", "")


def _local(moment: datetime | None, tz: tzinfo) -> datetime | None:
    return None if moment is None else moment.astimezone(tz).replace(tzinfo=None)


def _cells(ln: Line, tz: tzinfo) -> list:
    """One order as the row's values: numbers stay numbers, times are local naive datetimes."""
    return [
        ln.join_no, ln.order_no, ln.user_name, ln.product_code, ln.product_name, ln.variant, ln.quantity,
        ln.unit_price_fen, ln.total_fen, STATE_WORDS.get(ln.state, ln.state), ln.pickup_point or "",
        _local(ln.created_at, tz), _local(ln.collected_at, tz),
    ]


def orders_csv(rows: Iterable[Line], tz: tzinfo) -> bytes:
    """UTF-8 CSV, prices in yuan as `189.00`, times `2026-12-02 10:30` in tz."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(HEADER)
    for ln in rows:
        c = _cells(ln, tz)
        c[0] = "" if c[0] is None else c[0]
        c[7], c[8] = _yuan(c[7]), _yuan(c[8])
        c[11] = c[11].strftime(_TIME)
        c[12] = "" if c[12] is None else c[12].strftime(_TIME)
        w.writerow(c)
    return out.getvalue().encode("utf-8")


def display_width(value) -> int:
    """Columns a value takes on screen: Chinese (wide) characters count two."""
    text = value if isinstance(value, str) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def orders_xlsx(rows: Iterable[Line], tz: tzinfo) -> bytes:
    """Sheet 订单: one row per order, header bold and frozen; sheet 汇总: pieces and amount per product
    and variant, cancelled orders left out."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"constant_memory": True})
    header = wb.add_format({"bold": True, "align": "center"})
    bold = wb.add_format({"bold": True})
    money = wb.add_format({"num_format": "0.00"})
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    centred = wb.add_format({"align": "center"})
    ws = wb.add_worksheet("订单")
    _page_setup(ws)
    widths = [display_width(h) for h in HEADER]
    ws.write_row(0, 0, HEADER, header)
    totals: dict[tuple[str, str, str], list[int]] = {}
    r = 0
    text_cols = (2, 3, 4, 5, 9, 10)  # the columns whose width follows their text
    seen: set[tuple[int, str]] = set()  # names repeat: measure each distinct one once
    for r, ln in enumerate(rows, 1):
        c = _cells(ln, tz)
        if c[0] is not None:
            ws.write_number(r, 0, c[0], centred)
        ws.write_string(r, 1, c[1])
        for col in text_cols:
            v = c[col]
            if v:
                ws.write_string(r, col, v)
                if (col, v) not in seen:
                    seen.add((col, v))
                    widths[col] = max(widths[col], display_width(v))
        ws.write_number(r, 6, c[6])
        ws.write_number(r, 7, c[7] / 100, money)
        ws.write_number(r, 8, c[8] / 100, money)
        ws.write_datetime(r, 11, c[11], when)
        if c[12] is not None:
            ws.write_datetime(r, 12, c[12], when)
        if ln.state != "cancelled":
            t = totals.setdefault((ln.product_code, ln.product_name, ln.variant), [0, 0])
            t[0] += ln.quantity
            t[1] += ln.total_fen
    if r:
        widths[1] = max(widths[1], 8)  # D1234567
        widths[7] = max(widths[7], 10)
        widths[8] = max(widths[8], 10)
        widths[11] = widths[12] = 16
    for col, w in enumerate(widths):
        ws.set_column(col, col, min(w, _MAX_WIDTH) + 2)
    ws.autofilter(0, 0, r, len(HEADER) - 1)
    _summary(wb, totals, header, bold, money, wb.add_format({"num_format": "0.00", "bold": True}))
    wb.close()
    return out.getvalue()


def _page_setup(ws) -> None:
    """Header frozen on screen and repeated on paper; printed landscape, one page wide (a pick list to carry)."""
    ws.freeze_panes(1, 0)
    ws.repeat_rows(0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)


def _summary(wb, totals: dict[tuple[str, str, str], list[int]], header, bold, money, money_bold) -> None:
    ws = wb.add_worksheet(SUMMARY)
    _page_setup(ws)
    ws.write_row(0, 0, SUMMARY_HEADER, header)
    widths = [display_width(h) for h in SUMMARY_HEADER]
    by_product: dict[tuple[str, str], list[tuple[str, list[int]]]] = {}
    for (code, name, variant), t in sorted(totals.items()):
        by_product.setdefault((code, name), []).append((variant, t))
    r = 0
    for (code, name), variants in by_product.items():
        rows = list(variants)
        if len(rows) > 1 or rows[0][0]:  # a product with variants: one row each, then its total
            rows.append(("合计", [sum(t[0] for _, t in variants), sum(t[1] for _, t in variants)]))
        for variant, (qty, fen) in rows:
            r += 1
            fmt_ = bold if variant == "合计" else None
            ws.write_string(r, 0, code, fmt_)
            ws.write_string(r, 1, name, fmt_)
            if variant:
                ws.write_string(r, 2, variant, fmt_)
            ws.write_number(r, 3, qty, fmt_)
            ws.write_number(r, 4, fen / 100, money_bold if fmt_ else money)
            for col, v in ((0, code), (1, name), (2, variant)):
                widths[col] = max(widths[col], display_width(v))
    widths[4] = max(widths[4], 12)
    for col, w in enumerate(widths):
        ws.set_column(col, col, min(w, _MAX_WIDTH) + 2)
