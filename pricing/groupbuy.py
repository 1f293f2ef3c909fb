"""Group-buy tier tables (`开团 CODE 10:89 20:79`): parsing, validation, the settled price and progress text."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from pricing.money import fmt, parse_yuan

Basis = Literal["people", "quantity"]
PEOPLE: Basis = "people"
QUANTITY: Basis = "quantity"
MAX_TIERS = 10

# After NFKC: `10:89`, `10人:89`, `100件:79`, `100pcs:79`. Signs are captured so that `0:89` and `10:-5`
# get their own sentence instead of the generic "cannot read" one.
_TOKEN = re.compile(r"^(-?\d{1,9})\s*(件|pcs|人)?\s*:\s*(-?)\s*(\S.*)$", re.IGNORECASE)


class PriceRuleError(ValueError):
    """A price rule a user typed or imported is wrong; `.zh` and `.en` are the one sentence to show."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Tier:
    threshold: int  # people or pieces, by the table's basis
    price_fen: int


def parse_tiers(tokens: list[str]) -> tuple[Basis, list[Tier]]:
    """`["10:89", "20:79"]` -> ("people", tiers); `["100件:79"]` / `["100pcs:79"]` -> ("quantity", tiers)."""
    if not tokens:
        raise PriceRuleError("请至少给出一档团购价，例如 10:89。", "Give at least one group-buy tier, e.g. 10:89.")
    if len(tokens) > MAX_TIERS:
        raise PriceRuleError(
            f"团购价最多 {MAX_TIERS} 档，现在有 {len(tokens)} 档。",
            f"A group buy has at most {MAX_TIERS} tiers; got {len(tokens)}.",
        )
    bases: set[Basis] = set()
    tiers: list[Tier] = []
    for token in tokens:
        basis, tier = _parse_token(token)
        bases.add(basis)
        tiers.append(tier)
    if len(bases) > 1:
        raise PriceRuleError(
            "价格档不能混用人数和件数，请全部按人数或全部按件数。",
            "Tiers cannot mix people and pieces; count all of them one way.",
        )
    _check_order(tiers)
    return bases.pop(), tiers


def _parse_token(token: str) -> tuple[Basis, Tier]:
    m = _TOKEN.match(unicodedata.normalize("NFKC", token).strip())
    price = parse_yuan(m.group(4)) if m else None
    if m is None or price is None:
        raise PriceRuleError(
            f"看不懂价格档“{token}”，请写成 人数:价格（如 10:89）或 件数件:价格（如 100件:79）。",
            f'Cannot read the tier "{token}"; write people:price (like 10:89) or pieces as 100pcs:79.',
        )
    threshold = int(m.group(1))
    if threshold < 1:
        raise PriceRuleError(f"门槛至少为 1：{token}。", f"A tier threshold must be at least 1: {token}.")
    if m.group(3) == "-" or price == 0:
        raise PriceRuleError(f"团购价必须大于 0：{token}。", f"A tier price must be above zero: {token}.")
    basis: Basis = QUANTITY if (m.group(2) or "").lower() in ("件", "pcs") else PEOPLE
    return basis, Tier(threshold, price)


def _check_order(tiers: list[Tier]) -> None:
    for lower, upper in zip(tiers, tiers[1:]):
        if upper.threshold <= lower.threshold:
            raise PriceRuleError(
                f"门槛必须逐档升高：{upper.threshold} 不高于 {lower.threshold}。",
                f"Thresholds must rise from tier to tier: {upper.threshold} is not above {lower.threshold}.",
            )
        if upper.price_fen >= lower.price_fen:
            raise PriceRuleError(
                f"团购价必须逐档降低：{fmt(upper.price_fen)} 不低于 {fmt(lower.price_fen)}。",
                f"Prices must fall from tier to tier: {fmt(upper.price_fen)} is not below {fmt(lower.price_fen)}.",
            )


def settled_price(tiers: list[Tier], reached: int) -> int | None:
    """The price of the highest tier reached; None below the first tier (the group buy would fail)."""
    price = None
    for tier in sorted(tiers, key=lambda t: t.threshold):
        if tier.threshold <= reached:
            price = tier.price_fen
    return price


def next_tier(tiers: list[Tier], reached: int) -> Tier | None:
    """The first tier not yet reached; None at the top."""
    return next((t for t in sorted(tiers, key=lambda t: t.threshold) if t.threshold > reached), None)


def need_for_next(tiers: list[Tier], reached: int) -> int:
    """How many more people (or pieces) the next tier needs; 0 at the top."""
    nxt = next_tier(tiers, reached)
    return 0 if nxt is None else nxt.threshold - reached


def progress_text(basis: Basis, tiers: list[Tier], reached: int, lang: str) -> str:
    """zh `再 3 人降到 ¥79.00` / `已到最低价 ¥69.00`; en `3 more people to ¥79.00` / `lowest price reached: ¥69.00`."""
    nxt = next_tier(tiers, reached)
    if nxt is None:
        lowest = min(t.price_fen for t in tiers)
        return f"lowest price reached: {fmt(lowest)}" if lang == "en" else f"已到最低价 {fmt(lowest)}"
    need = nxt.threshold - reached
    if lang == "en":
        noun = ("person" if need == 1 else "people") if basis == PEOPLE else ("piece" if need == 1 else "pieces")
        return f"{need} more {noun} to {fmt(nxt.price_fen)}"
    return f"再 {need} {'人' if basis == PEOPLE else '件'}降到 {fmt(nxt.price_fen)}"


def tiers_to_json(tiers: list[Tier]) -> list[dict[str, int]]:
    return [{"threshold": t.threshold, "price_fen": t.price_fen} for t in tiers]


def tiers_from_json(items: list[dict[str, int]]) -> list[Tier]:
    """The inverse of tiers_to_json, for tables already validated when they were stored."""
    return [Tier(int(d["threshold"]), int(d["price_fen"])) for d in items]
