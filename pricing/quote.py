"""The best-price rule for an order (SPEC section 7): the lowest of product price, ladder tier and deal; no stacking."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pricing.tiers import Ladder, ladder_unit_price

Source = Literal["price", "ladder", "deal"]


@dataclass(frozen=True)
class Quote:
    unit_price_fen: int
    total_fen: int  # unit_price_fen * qty, exactly
    source: Source  # which price won
    saving_fen: int  # (base price - unit price) * qty, never negative


def quote(base_price_fen: int, ladder: Ladder, qty: int, deal_price_fen: int | None = None) -> Quote:
    """Price `qty` pieces. Candidates are weighed in the order price, ladder, deal and a later one wins
    only when strictly lower, so a deal equal to the ladder price is reported as "ladder".
    Whether a deal applies (active, limit not used up) is the caller's decision: pass None when it does not."""
    if qty < 1:
        raise ValueError(f"qty must be at least 1, got {qty}")
    unit = base_price_fen
    source: Source = "price"
    candidates: list[tuple[int | None, Source]] = [
        (ladder_unit_price(base_price_fen, ladder, qty), "ladder"),
        (deal_price_fen, "deal"),
    ]
    for price, name in candidates:
        if price is not None and price < unit:
            unit, source = price, name
    return Quote(unit, unit * qty, source, (base_price_fen - unit) * qty)
