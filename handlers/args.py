"""Argument readers shared by the command parsers: quantities and prices as people type them
(`2件`, `两件`, `三`, `150元`, `¥150`); each refusal is one sentence in both languages."""
from __future__ import annotations

import re

from handlers.context import UserError
from pricing.money import parse_yuan

MAX_QTY = 9999

# A counted quantity: an optional `x`/`×` (`×2`, as replies show it), the number, an optional measure word.
_QTY = re.compile(r"^[x×*]?(\d{1,4}|[一二两三四五六七八九十]{1,3})(?:件|个|份|双|只|盒|瓶|袋|箱|套|pcs?)?$",
                  re.IGNORECASE)
_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def tokens(rest: str) -> list[str]:
    return rest.split()


def chinese_number(text: str) -> int | None:
    """`三` -> 3, `两` -> 2, `十` -> 10, `十二` -> 12, `二十` -> 20, `九十九` -> 99; anything else None."""
    if text in _DIGIT:
        return _DIGIT[text]
    tens, sep, ones = text.partition("十")
    if not sep:
        return None
    if tens and tens not in _DIGIT or ones and ones not in _DIGIT or "两" in (tens, ones) and tens != "两":
        return None
    return (_DIGIT[tens] if tens else 1) * 10 + (_DIGIT[ones] if ones else 0)


def read_quantity(text: str) -> int | None:
    """The number of pieces a token says (`2`, `2件`, `两件`, `三`, `×2`), or None when it is not a quantity.
    Range is not checked here (see `quantity`)."""
    m = _QTY.match(text.strip())
    if m is None:
        return None
    n = m.group(1)
    return int(n) if n.isdecimal() and n.isascii() else chinese_number(n)


def quantity(text: str | None, *, default: int = 1) -> int:
    if text is None:
        return default
    n = read_quantity(text)
    if n is None or not 1 <= n <= MAX_QTY:
        raise UserError(
            f"数量要写 1 到 {MAX_QTY} 之间的数，例如 2、2件、两件，“{text}”不行。",
            f"The quantity must be a whole number from 1 to {MAX_QTY}, like 2, not \"{text}\".",
        )
    return n


def price(text: str, what: tuple[str, str] = ("价格", "A price")) -> int:
    """A price above zero in fen: `150`, `150.5`, `150元`, `150块`, `¥150`. `what` names it in the refusal."""
    fen = parse_yuan(text)
    if fen is None or fen <= 0:
        raise UserError(
            f"{what[0]}要写成大于 0 的金额，例如 99、99.5、99元 或 ¥99，“{text}”不行。",
            f"{what[1]} must be an amount above zero, like 99, 99.5 or ¥99, not \"{text}\".",
        )
    return fen


def require(value: str | None, zh: str, en: str) -> str:
    if not value:
        raise UserError(zh, en)
    return value


def no_args(rest: str) -> None:
    return None


def rest_text(rest: str) -> str:
    return rest.strip()
