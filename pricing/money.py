"""Money is integer fen (1/100 yuan); this module is the one place that turns it into text and back."""
from __future__ import annotations

import re

# `¥150`, `￥150`, `150元`, `150块`, `150块钱`, `150.5`: how prices are typed and imported.
_YUAN = re.compile(r"^\s*[¥￥]?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*(?:元|块钱|块)?\s*$")


def fmt(fen: int) -> str:
    """`¥89.00`, `¥1234.50`, `-¥3.00`."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100}.{fen % 100:02d}"


def parse_yuan(text: str) -> int | None:
    """`199`, `199.5`, `199.00`, `¥199`, `199元`, `199块` -> fen; anything else (negative, three decimals, words) -> None."""
    m = _YUAN.match(text)
    if not m:
        return None
    whole, frac = m.group(1), (m.group(2) or "")
    return int(whole) * 100 + int(frac.ljust(2, "0") or 0)

