"""Pure price rules: ladders, group-buy tier tables, quotes, money formatting."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.groupbuy import (
    PriceRuleError,
    Tier,
    need_for_next,
    next_tier,
    parse_tiers,
    progress_text,
    settled_price,
    tiers_from_json,
    tiers_to_json,
)
from pricing.money import fmt
from pricing.quote import Quote, quote
from pricing.tiers import (
    ladder_from_json,
    ladder_to_json,
    ladder_unit_price,
    parse_ladder_text,
    validate_ladder,
)

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@st.composite
def ladders(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    """A base price and a valid ladder below it."""
    base = draw(st.integers(min_value=20, max_value=10_000_000))
    qtys = sorted(draw(st.sets(st.integers(min_value=2, max_value=1000), max_size=10)))
    n = len(qtys)
    prices = sorted(draw(st.sets(st.integers(min_value=1, max_value=base - 1), min_size=n, max_size=n)))
    return base, list(zip(qtys, reversed(prices)))


@st.composite
def tier_tables(draw: st.DrawFn) -> list[Tier]:
    thresholds = sorted(draw(st.sets(st.integers(min_value=1, max_value=500), min_size=1, max_size=10)))
    n = len(thresholds)
    prices = sorted(draw(st.sets(st.integers(min_value=1, max_value=1_000_000), min_size=n, max_size=n)))
    return [Tier(t, p) for t, p in zip(thresholds, reversed(prices))]


# ---- ladders -------------------------------------------------------------------------------------------

@given(ladders(), st.integers(min_value=1, max_value=2000), st.integers(min_value=1, max_value=2000))
def test_ladder_price_never_rises_with_quantity(base_ladder, a, b):
    base, ladder = base_ladder
    validate_ladder(ladder, base)
    lo, hi = sorted((a, b))
    assert ladder_unit_price(base, ladder, hi) <= ladder_unit_price(base, ladder, lo)


@given(ladders(), st.integers(min_value=1, max_value=2000))
def test_ladder_price_between_zero_and_base(base_ladder, qty):
    base, ladder = base_ladder
    assert 0 < ladder_unit_price(base, ladder, qty) <= base


@given(ladders())
def test_ladder_text_round_trip(base_ladder):
    base, ladder = base_ladder
    text = ";".join(f"{q}:{p // 100}.{p % 100:02d}" for q, p in ladder)
    assert parse_ladder_text(text, base) == ladder
    assert ladder_from_json(ladder_to_json(ladder), base) == ladder


def test_ladder_volume_rule():
    ladder = [(2, 18900), (5, 16900)]
    assert [ladder_unit_price(19900, ladder, q) for q in (1, 2, 4, 5, 100)] == [19900, 18900, 18900, 16900, 16900]


def test_ladder_never_above_base_even_if_unvalidated():
    assert ladder_unit_price(10000, [(2, 12000)], 3) == 10000


def test_parse_ladder_text():
    assert parse_ladder_text("2:189;5:169") == [(2, 18900), (5, 16900)]
    assert parse_ladder_text("2:189.50; 5:169.5;") == [(2, 18950), (5, 16950)]
    assert parse_ladder_text("２：１８９；５：１６９") == [(2, 18900), (5, 16900)]
    assert parse_ladder_text("") == []
    assert parse_ladder_text("  ") == []


@pytest.mark.parametrize(
    "text, base, zh, en",
    [
        ("2-189", None, "看不懂阶梯价“2-189”，请写成 数量:价格，如 2:189;5:169。",
         'Cannot read the ladder tier "2-189"; write quantity:price, like 2:189;5:169.'),
        ("2:18.999", None, "看不懂阶梯价“2:18.999”，请写成 数量:价格，如 2:189;5:169。",
         'Cannot read the ladder tier "2:18.999"; write quantity:price, like 2:189;5:169.'),
        ("1:189", None, "阶梯价的起购数量至少为 2：1。", "A ladder tier must start at 2 pieces or more: 1."),
        ("2:0", None, "阶梯价必须大于 0：¥0.00。", "A ladder price must be above zero: ¥0.00."),
        ("2:199", 19900, "阶梯价 ¥199.00 必须低于商品价 ¥199.00。",
         "The ladder price ¥199.00 must be below the product price ¥199.00."),
        ("5:189;2:169", None, "阶梯数量必须逐档升高：2 不高于 5。",
         "Ladder quantities must rise from tier to tier: 2 is not above 5."),
        ("2:169;5:169", None, "阶梯价必须逐档降低：¥169.00 不低于 ¥169.00。",
         "Ladder prices must fall from tier to tier: ¥169.00 is not below ¥169.00."),
        (";".join(f"{q}:{200 - q}" for q in range(2, 13)), None, "阶梯价最多 10 档，现在有 11 档。",
         "A ladder has at most 10 tiers; got 11."),
    ],
)
def test_ladder_errors(text, base, zh, en):
    with pytest.raises(PriceRuleError) as info:
        parse_ladder_text(text, base)
    assert (info.value.zh, info.value.en) == (zh, en)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "items",
    [{"min_qty": 2}, [{"min_qty": 2}], [{"min_qty": True, "price_fen": 100}], [{"min_qty": "2", "price_fen": 100}]],
)
def test_ladder_json_errors(items):
    with pytest.raises(PriceRuleError) as info:
        ladder_from_json(items)
    assert info.value.en == 'Ladder tiers must be a list of {"min_qty": integer, "price_fen": integer}.'


# ---- group-buy tier tables -----------------------------------------------------------------------------

def test_parse_people_tiers():
    assert parse_tiers(["10:89", "20:79"]) == ("people", [Tier(10, 8900), Tier(20, 7900)])
    assert parse_tiers(["10人:89.5", "20人:79.50"]) == ("people", [Tier(10, 8950), Tier(20, 7950)])


@pytest.mark.parametrize("token", ["100件:79", "100pcs:79", "100PCS:79", "１００件：７９", "１００ＰＣＳ：７９"])
def test_parse_quantity_tiers(token):
    assert parse_tiers([token]) == ("quantity", [Tier(100, 7900)])


def test_parse_full_width():
    assert parse_tiers(["１０：８９"]) == ("people", [Tier(10, 8900)])


@pytest.mark.parametrize(
    "tokens, zh, en",
    [
        ([], "请至少给出一档团购价，例如 10:89。", "Give at least one group-buy tier, e.g. 10:89."),
        (["10-89"], "看不懂价格档“10-89”，请写成 人数:价格（如 10:89）或 件数件:价格（如 100件:79）。",
         'Cannot read the tier "10-89"; write people:price (like 10:89) or pieces as 100pcs:79.'),
        (["10:89", "abc"], "看不懂价格档“abc”，请写成 人数:价格（如 10:89）或 件数件:价格（如 100件:79）。",
         'Cannot read the tier "abc"; write people:price (like 10:89) or pieces as 100pcs:79.'),
        (["10:89.555"], "看不懂价格档“10:89.555”，请写成 人数:价格（如 10:89）或 件数件:价格（如 100件:79）。",
         'Cannot read the tier "10:89.555"; write people:price (like 10:89) or pieces as 100pcs:79.'),
        (["10:89", "100件:79"], "价格档不能混用人数和件数，请全部按人数或全部按件数。",
         "Tiers cannot mix people and pieces; count all of them one way."),
        (["20:89", "10:79"], "门槛必须逐档升高：10 不高于 20。", "Thresholds must rise from tier to tier: 10 is not above 20."),
        (["10:89", "10:79"], "门槛必须逐档升高：10 不高于 10。", "Thresholds must rise from tier to tier: 10 is not above 10."),
        (["10:79", "20:89"], "团购价必须逐档降低：¥89.00 不低于 ¥79.00。",
         "Prices must fall from tier to tier: ¥89.00 is not below ¥79.00."),
        (["10:79", "20:79"], "团购价必须逐档降低：¥79.00 不低于 ¥79.00。",
         "Prices must fall from tier to tier: ¥79.00 is not below ¥79.00."),
        (["10:0"], "团购价必须大于 0：10:0。", "A tier price must be above zero: 10:0."),
        (["10:-5"], "团购价必须大于 0：10:-5。", "A tier price must be above zero: 10:-5."),
        (["0:89"], "门槛至少为 1：0:89。", "A tier threshold must be at least 1: 0:89."),
        (["-3:89"], "门槛至少为 1：-3:89。", "A tier threshold must be at least 1: -3:89."),
        ([f"{n}:{100 - n}" for n in range(1, 12)], "团购价最多 10 档，现在有 11 档。",
         "A group buy has at most 10 tiers; got 11."),
    ],
)
def test_tier_errors(tokens, zh, en):
    with pytest.raises(PriceRuleError) as info:
        parse_tiers(tokens)
    assert (info.value.zh, info.value.en) == (zh, en)
    assert info.value.text("zh") == zh and info.value.text("en") == en


def test_english_error_sentences_have_no_chinese():
    for tokens in ([], ["10:89", "100pcs:79"], ["20:89", "10:79"], ["10:79", "20:89"], ["10:0"], ["0:89"]):
        with pytest.raises(PriceRuleError) as info:
            parse_tiers(tokens)
        assert not CJK.search(info.value.en), info.value.en


@given(tier_tables(), st.integers(min_value=0, max_value=600), st.integers(min_value=0, max_value=600))
def test_settled_price_never_rises_with_participation(tiers, a, b):
    lo, hi = sorted((a, b))
    before, after = settled_price(tiers, lo), settled_price(tiers, hi)
    if before is not None:
        assert after is not None and after <= before


@given(tier_tables(), st.integers(min_value=0, max_value=600))
def test_settled_and_next_agree(tiers, reached):
    nxt = next_tier(tiers, reached)
    price = settled_price(tiers, reached)
    assert (price is None) == (reached < tiers[0].threshold)
    if nxt is None:
        assert price == tiers[-1].price_fen and need_for_next(tiers, reached) == 0
    else:
        assert need_for_next(tiers, reached) == nxt.threshold - reached > 0
        assert settled_price(tiers, nxt.threshold) == nxt.price_fen


@given(tier_tables())
def test_tiers_round_trip(tiers):
    tokens = [f"{t.threshold}:{t.price_fen // 100}.{t.price_fen % 100:02d}" for t in tiers]
    assert parse_tiers(tokens) == ("people", tiers)
    assert tiers_from_json(tiers_to_json(tiers)) == tiers


def test_settled_price_examples():
    tiers = [Tier(10, 8900), Tier(20, 7900), Tier(30, 6900)]
    assert [settled_price(tiers, n) for n in (0, 9, 10, 19, 20, 30, 99)] == [None, None, 8900, 8900, 7900, 6900, 6900]
    assert next_tier(tiers, 10) == Tier(20, 7900)
    assert next_tier(tiers, 30) is None
    assert [need_for_next(tiers, n) for n in (0, 17, 29, 30)] == [10, 3, 1, 0]
    assert tiers_to_json(tiers[:1]) == [{"threshold": 10, "price_fen": 8900}]


def test_progress_text():
    people = [Tier(10, 8900), Tier(20, 7900), Tier(30, 6900)]
    pieces = [Tier(50, 8900), Tier(100, 7900)]
    assert progress_text("people", people, 17, "zh") == "再 3 人降到 ¥79.00"
    assert progress_text("people", people, 17, "en") == "3 more people to ¥79.00"
    assert progress_text("people", people, 29, "en") == "1 more person to ¥69.00"
    assert progress_text("people", people, 0, "zh") == "再 10 人降到 ¥89.00"
    assert progress_text("quantity", pieces, 80, "zh") == "再 20 件降到 ¥79.00"
    assert progress_text("quantity", pieces, 80, "en") == "20 more pieces to ¥79.00"
    assert progress_text("quantity", pieces, 99, "en") == "1 more piece to ¥79.00"
    assert progress_text("people", people, 30, "zh") == "已到最低价 ¥69.00"
    assert progress_text("people", people, 45, "en") == "lowest price reached: ¥69.00"


# ---- quotes --------------------------------------------------------------------------------------------

@given(ladders(), st.integers(min_value=1, max_value=2000), st.none() | st.integers(min_value=1, max_value=20_000_000))
def test_quote_is_the_minimum_and_exact(base_ladder, qty, deal):
    base, ladder = base_ladder
    q = quote(base, ladder, qty, deal)
    candidates = [base, ladder_unit_price(base, ladder, qty)] + ([deal] if deal is not None else [])
    assert q.unit_price_fen == min(candidates)  # the minimum, never a combination of two discounts
    assert q.total_fen == q.unit_price_fen * qty
    assert q.saving_fen == (base - q.unit_price_fen) * qty >= 0
    assert {"price": base, "ladder": ladder_unit_price(base, ladder, qty), "deal": deal}[q.source] == q.unit_price_fen


def test_quote_examples():
    ladder = [(2, 18900), (5, 16900)]
    assert quote(19900, ladder, 1) == Quote(19900, 19900, "price", 0)
    assert quote(19900, ladder, 3) == Quote(18900, 56700, "ladder", 3000)
    assert quote(19900, ladder, 5, 17900) == Quote(16900, 84500, "ladder", 15000)
    assert quote(19900, ladder, 5, 15900) == Quote(15900, 79500, "deal", 20000)
    assert quote(19900, [], 2, 29900) == Quote(19900, 39800, "price", 0)


def test_quote_ties_keep_the_earlier_source():
    assert quote(19900, [(2, 18900)], 2, 18900).source == "ladder"
    assert quote(19900, [], 2, 19900).source == "price"


def test_quote_rejects_non_positive_quantity():
    with pytest.raises(ValueError):
        quote(19900, [], 0)


def test_fmt():
    assert [fmt(8900), fmt(8950), fmt(5), fmt(0), fmt(123456), fmt(-300)] == [
        "¥89.00", "¥89.50", "¥0.05", "¥0.00", "¥1234.56", "-¥3.00"
    ]
