"""Small argument readers shared by the command parsers; each refusal is one sentence in both languages."""
from __future__ import annotations

from handlers.context import UserError

MAX_QTY = 9999


def tokens(rest: str) -> list[str]:
    return rest.split()


def quantity(text: str | None, *, default: int = 1) -> int:
    if text is None:
        return default
    if not text.isdecimal() or not 1 <= int(text) <= MAX_QTY:
        raise UserError(
            f"数量要写 1 到 {MAX_QTY} 之间的整数，“{text}”不行。",
            f"The quantity must be a whole number from 1 to {MAX_QTY}, not \"{text}\".",
        )
    return int(text)


def require(value: str | None, zh: str, en: str) -> str:
    if not value:
        raise UserError(zh, en)
    return value


def no_args(rest: str) -> None:
    return None


def rest_text(rest: str) -> str:
    return rest.strip()
