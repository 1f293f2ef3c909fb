"""Quantities and prices as people type them: one parser (handlers/args.py), used by every command."""
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.router import route
from handlers.args import MAX_QTY, chinese_number, price, quantity
from handlers.context import UserError
from helpers import add_product
from storage.tables import deals, groupbuy_participants, groupbuys, orders

NUMERALS = "一二三四五六七八九十"
UNITS = ["", "件", "个", "份", "双"]
OWNER = {"user": "boss", "role": "owner"}


@given(st.integers(1, MAX_QTY), st.sampled_from(UNITS))
def test_a_number_with_or_without_a_measure_word_is_that_quantity(n, unit):
    assert quantity(f"{n}{unit}") == n


@given(st.integers(1, 10), st.sampled_from(UNITS))
def test_chinese_numerals_one_to_ten(n, unit):
    assert quantity(NUMERALS[n - 1] + unit) == n


def test_liang_is_two_and_compound_numerals_read_as_spoken():
    assert [quantity(t) for t in ("两", "两件", "两双", "二", "十二", "二十", "九十九")] == [2, 2, 2, 2, 12, 20, 99]
    assert chinese_number("十两") is None and chinese_number("一二") is None


@given(st.text(max_size=6))
def test_any_text_is_a_quantity_in_range_or_one_clear_refusal(text):
    try:
        n = quantity(text)
    except UserError as e:
        assert e.zh.startswith("数量要写") and e.en.startswith("The quantity must")
    else:
        assert 1 <= n <= MAX_QTY


@pytest.mark.parametrize("text", ["0", "0件", "10000", "2.5", "-1", "²", "②", "件", "abc", "2 件x"])
def test_not_a_quantity(text):
    with pytest.raises(UserError):
        quantity(text)


@given(st.integers(1, 999_999_999), st.integers(0, 99),
       st.sampled_from(["{y}", "{y}元", "{y}块", "¥{y}", "￥{y}", "{y}块钱", "¥{y}元"]))
def test_a_price_typed_any_way_is_exact_fen(yuan, cents, form):
    typed = f"{yuan}.{cents:02d}" if cents else str(yuan)
    assert price(form.format(y=typed)) == yuan * 100 + cents


@given(st.text(max_size=8))
def test_any_text_is_a_price_above_zero_or_one_clear_refusal(text):
    try:
        fen = price(text)
    except UserError as e:
        assert "大于 0 的金额" in e.zh and "above zero" in e.en
    else:
        assert fen > 0


@pytest.mark.parametrize("text", ["0", "0元", "-5", "1.234", "九十", "元", "¥", "150 元 5"])
def test_not_a_price(text):
    with pytest.raises(UserError):
        price(text)


@pytest.mark.parametrize("text, rest", [("+2件", "2件"), ("+两件", "两件"), ("＋三", "三"), ("+2 42码", "2 42码")])
def test_plus_takes_a_quantity_as_people_type_it(text, rest):
    r = route(text)
    assert (r.command.name, r.rest) == ("plus", rest)


@pytest.mark.parametrize("text", ["+", "+abc", "+1.5", "+ 好的", "+0", "+10000"])
def test_plus_without_a_quantity_is_talk(text):
    assert route(text) is None


# ---- every command that takes them, through the real router and database ------------------------

def _rows(db, table):
    with db.read() as c:
        return c.execute(select(table).order_by(table.c.id)).mappings().all()


def test_buy_join_plus_groupbuy_and_deal_read_natural_quantities_and_prices(chat, db):
    add_product(db, stock=100)
    assert "×2" in chat.send("下单 A12 两件", user="amy")
    assert "×3" in chat.send("下单 A12 3个", user="amy")
    opened = chat.send("开团 A12 2:150元 4:¥120", **OWNER)
    assert "满 2 人 ¥150.00" in opened and "满 4 人 ¥120.00" in opened
    assert "跟团号 1" in chat.send("参团 1 2件", user="bob")
    assert "×3" in chat.send("+三", user="cat")
    assert "×2" in chat.send("+2双", user="dan")
    assert "¥99.50" in chat.send("发布 A12 99.5元 限量 五件", **OWNER)
    assert [o["quantity"] for o in _rows(db, orders)] == [2, 3]
    assert [p["quantity"] for p in _rows(db, groupbuy_participants)] == [2, 3, 2]
    assert [t["price_fen"] for t in _rows(db, groupbuys)[0]["tiers"]] == [15000, 12000]
    assert [(d["price_fen"], d["limit_qty"]) for d in _rows(db, deals)] == [(9950, 5)]


def test_english_commands_read_the_same_forms(chat, db):
    add_product(db, stock=100)
    assert "×2" in chat.send("buy A12 2pcs", user="amy")
    assert "¥150.00" in chat.send("groupbuy A12 2:¥150", **OWNER)
    assert "The deal price must be an amount above zero" in chat.send("deal A12 free", **OWNER)
