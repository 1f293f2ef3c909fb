"""Product ladders ("the more you buy, the cheaper"): `(min_qty, price_fen)` tiers, their rule, text and JSON forms.

The rule is "volume": every unit is charged at the tier the total quantity reaches (5 pieces on a
`2:189;5:169` ladder cost 5 x 169, not 1 x 199 + 3 x 189 + 1 x 169).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from pricing.groupbuy import MAX_TIERS, PriceRuleError
from pricing.money import fmt, parse_yuan

Ladder = Sequence[tuple[int, int]]

_PIECE = re.compile(r"^(\d{1,9})\s*:\s*(\S.*)$")


def ladder_unit_price(base_price_fen: int, ladder: Ladder, qty: int) -> int:
    """The lower of the base price and the price of the highest tier whose min_qty <= qty."""
    reached = [(min_qty, price) for min_qty, price in ladder if min_qty <= qty]
    if not reached:
        return base_price_fen
    return min(base_price_fen, max(reached)[1])


def validate_ladder(ladder: Ladder, base_price_fen: int | None = None) -> None:
    """A ladder starts at 2 pieces or more (1 piece is the product price), has at most 10 tiers, its
    min_qty strictly rises, its prices are above zero and strictly fall, and, when the base price is
    given, each is strictly below it (a tier that saves nothing is a typo). An empty ladder is valid."""
    if len(ladder) > MAX_TIERS:
        raise PriceRuleError(
            f"阶梯价最多 {MAX_TIERS} 档，现在有 {len(ladder)} 档。",
            f"A ladder has at most {MAX_TIERS} tiers; got {len(ladder)}.",
        )
    for min_qty, price in ladder:
        if min_qty < 2:
            raise PriceRuleError(
                f"阶梯价的起购数量至少为 2：{min_qty}。", f"A ladder tier must start at 2 pieces or more: {min_qty}."
            )
        if price <= 0:
            raise PriceRuleError(f"阶梯价必须大于 0：{fmt(price)}。", f"A ladder price must be above zero: {fmt(price)}.")
        if base_price_fen is not None and price >= base_price_fen:
            raise PriceRuleError(
                f"阶梯价 {fmt(price)} 必须低于商品价 {fmt(base_price_fen)}。",
                f"The ladder price {fmt(price)} must be below the product price {fmt(base_price_fen)}.",
            )
    for (lo_qty, lo_price), (hi_qty, hi_price) in zip(ladder, ladder[1:]):
        if hi_qty <= lo_qty:
            raise PriceRuleError(
                f"阶梯数量必须逐档升高：{hi_qty} 不高于 {lo_qty}。",
                f"Ladder quantities must rise from tier to tier: {hi_qty} is not above {lo_qty}.",
            )
        if hi_price >= lo_price:
            raise PriceRuleError(
                f"阶梯价必须逐档降低：{fmt(hi_price)} 不低于 {fmt(lo_price)}。",
                f"Ladder prices must fall from tier to tier: {fmt(hi_price)} is not below {fmt(lo_price)}.",
            )


def parse_ladder_text(text: str, base_price_fen: int | None = None) -> list[tuple[int, int]]:
    """The CSV column: `2:189;5:169.50` (prices in yuan) -> [(2, 18900), (5, 16950)]; empty -> [].
    Full-width digits, colon and semicolon are read as half-width; a trailing `;` is tolerated."""
    ladder: list[tuple[int, int]] = []
    for piece in unicodedata.normalize("NFKC", text).split(";"):
        piece = piece.strip()
        if not piece:
            continue
        m = _PIECE.match(piece)
        price = parse_yuan(m.group(2)) if m else None
        if m is None or price is None:
            raise PriceRuleError(
                f"看不懂阶梯价“{piece}”，请写成 数量:价格，如 2:189;5:169。",
                f'Cannot read the ladder tier "{piece}"; write quantity:price, like 2:189;5:169.',
            )
        ladder.append((int(m.group(1)), price))
    validate_ladder(ladder, base_price_fen)
    return ladder


def ladder_from_json(items: object, base_price_fen: int | None = None) -> list[tuple[int, int]]:
    """The JSON form `[{"min_qty": 2, "price_fen": 18900}, …]` (section 5) -> a validated ladder."""
    if not isinstance(items, list) or not all(_is_tier_json(item) for item in items):
        raise PriceRuleError(
            "阶梯价应是 {\"min_qty\": 整数, \"price_fen\": 整数} 的列表。",
            'Ladder tiers must be a list of {"min_qty": integer, "price_fen": integer}.',
        )
    ladder = [(item["min_qty"], item["price_fen"]) for item in items]
    validate_ladder(ladder, base_price_fen)
    return ladder


def _is_tier_json(item: object) -> bool:
    # bool is an int subclass; `true` is not a quantity.
    return isinstance(item, dict) and all(
        isinstance(item.get(key), int) and not isinstance(item.get(key), bool) for key in ("min_qty", "price_fen")
    )


def ladder_to_json(ladder: Ladder) -> list[dict[str, int]]:
    return [{"min_qty": min_qty, "price_fen": price} for min_qty, price in ladder]
