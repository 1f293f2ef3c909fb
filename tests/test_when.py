"""WHEN time expressions: every form against a fixed clock, past and malformed input, split_when."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.when import WhenError, fmt_local, is_daily, parse_daily, parse_when, split_when

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
# 2026-06-01 12:00 in Shanghai.
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1m", utc(2026, 6, 1, 4, 1)),
        ("30m", utc(2026, 6, 1, 4, 30)),
        ("90min", utc(2026, 6, 1, 5, 30)),
        ("30分钟", utc(2026, 6, 1, 4, 30)),
        ("30分", utc(2026, 6, 1, 4, 30)),
        ("2h", utc(2026, 6, 1, 6, 0)),
        ("2H", utc(2026, 6, 1, 6, 0)),
        ("2 hours", utc(2026, 6, 1, 6, 0)),
        ("2小时", utc(2026, 6, 1, 6, 0)),
        ("2个小时", utc(2026, 6, 1, 6, 0)),
        ("3d", utc(2026, 6, 4, 4, 0)),
        ("3天", utc(2026, 6, 4, 4, 0)),
        ("３ｄ", utc(2026, 6, 4, 4, 0)),
        ("30d", utc(2026, 7, 1, 4, 0)),
        ("20:00", utc(2026, 6, 1, 12, 0)),
        ("２０：００", utc(2026, 6, 1, 12, 0)),
        ("9:30", utc(2026, 6, 2, 1, 30)),  # 09:30 is past today: tomorrow
        ("11:59", utc(2026, 6, 2, 3, 59)),
        ("12:01", utc(2026, 6, 1, 4, 1)),
        ("今天 20:00", utc(2026, 6, 1, 12, 0)),
        ("today 20:00", utc(2026, 6, 1, 12, 0)),
        ("明天 20:00", utc(2026, 6, 2, 12, 0)),
        ("明天20:00", utc(2026, 6, 2, 12, 0)),
        ("tomorrow 20:00", utc(2026, 6, 2, 12, 0)),
        ("Tomorrow  08:00", utc(2026, 6, 2, 0, 0)),
        ("明天 ９：００", utc(2026, 6, 2, 1, 0)),
        ("后天 20:00", utc(2026, 6, 3, 12, 0)),
        ("2026-12-01 20:00", utc(2026, 12, 1, 12, 0)),
        ("2026/12/1 20:00", utc(2026, 12, 1, 12, 0)),
        ("２０２６－１２－０１　２０：００", utc(2026, 12, 1, 12, 0)),
        ("2027-01-01 00:00", utc(2026, 12, 31, 16, 0)),
    ],
)
def test_parse_when(text, expected):
    got = parse_when(text, NOW, SH)
    assert got == expected
    assert got.tzinfo == UTC


def test_default_timezone_is_shanghai():
    assert parse_when("20:00", NOW) == utc(2026, 6, 1, 12, 0)


def test_other_timezone():
    # 2026-06-01 00:00 in New York (EDT, UTC-4).
    assert parse_when("20:00", NOW, NY) == utc(2026, 6, 2, 0, 0)
    assert parse_when("明天 20:00", NOW, NY) == utc(2026, 6, 3, 0, 0)


def test_clock_time_exactly_now_means_tomorrow():
    assert parse_when("12:00", NOW, SH) == utc(2026, 6, 2, 4, 0)


def test_clock_time_a_second_after_now_means_tomorrow():
    assert parse_when("12:00", utc(2026, 6, 1, 4, 0, 1), SH) == utc(2026, 6, 2, 4, 0)


def test_clock_time_rolls_over_month_end():
    assert parse_when("08:00", utc(2026, 6, 30, 4, 0), SH) == utc(2026, 7, 1, 0, 0)


def test_now_in_another_offset_is_the_same_instant():
    assert parse_when("20:00", NOW.astimezone(SH), SH) == utc(2026, 6, 1, 12, 0)


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_when("20:00", datetime(2026, 6, 1, 12, 0), SH)


@pytest.mark.parametrize(
    "text, shown",
    [
        ("2026-01-01 20:00", "2026-01-01 20:00"),
        ("2026-06-01 12:00", "2026-06-01 12:00"),  # exactly now
        ("2026-06-01 11:59", "2026-06-01 11:59"),
        ("今天 09:00", "2026-06-01 09:00"),
        ("today 12:00", "2026-06-01 12:00"),
    ],
)
def test_past_is_rejected(text, shown):
    with pytest.raises(WhenError) as info:
        parse_when(text, NOW, SH)
    assert info.value.zh == f"这个时间已经过去：{shown}，请给一个将来的时间。"
    assert info.value.en == f"That time is already past: {shown}; give a future time."


MALFORMED_ZH = "看不懂时间“{}”，可以写 30m、2h、3d、20:00、明天 20:00 或 2026-12-01 20:00。"
MALFORMED_EN = 'Cannot read the time "{}"; write 30m, 2h, 3d, 20:00, tomorrow 20:00 or 2026-12-01 20:00.'


@pytest.mark.parametrize(
    "text",
    ["", "soon", "20", "20:0", "20.00", "2026-12-01", "12-01 20:00", "-5m", "1.5h", "3w", "明天", "每天 09:00", "20:00 明天"],
)
def test_malformed_is_rejected(text):
    with pytest.raises(WhenError) as info:
        parse_when(text, NOW, SH)
    assert (info.value.zh, info.value.en) == (MALFORMED_ZH.format(text), MALFORMED_EN.format(text))


@pytest.mark.parametrize(
    "text, zh, en",
    [
        ("0m", "延时要在 1 分钟到 30 天之间。", "A delay must be between 1 minute and 30 days."),
        ("31d", "延时要在 1 分钟到 30 天之间。", "A delay must be between 1 minute and 30 days."),
        ("721h", "延时要在 1 分钟到 30 天之间。", "A delay must be between 1 minute and 30 days."),
        ("25:00", "没有这个时刻：25:00。", "There is no such time of day: 25:00."),
        ("明天 20:60", "没有这个时刻：20:60。", "There is no such time of day: 20:60."),
        ("2026-02-30 20:00", "没有这个日期：2026-02-30。", "There is no such date: 2026-02-30."),
        ("2026-13-01 20:00", "没有这个日期：2026-13-01。", "There is no such date: 2026-13-01."),
    ],
)
def test_out_of_range_is_rejected(text, zh, en):
    with pytest.raises(WhenError) as info:
        parse_when(text, NOW, SH)
    assert (info.value.zh, info.value.en) == (zh, en)
    assert info.value.text("zh") == zh and info.value.text("en") == en
    assert isinstance(info.value, ValueError)


def test_upper_delay_bounds_are_accepted():
    assert parse_when("720h", NOW, SH) == utc(2026, 7, 1, 4, 0)
    assert parse_when("43200m", NOW, SH) == utc(2026, 7, 1, 4, 0)


def test_english_sentences_have_no_chinese_but_the_data():
    for text in ("soon", "0m", "25:00", "2026-02-30 20:00", "2026-01-01 20:00"):
        with pytest.raises(WhenError) as info:
            parse_when(text, NOW, SH)
        assert not CJK.search(info.value.en), info.value.en


@pytest.mark.parametrize(
    "text, expected",
    [("每天 09:00", (9, 0)), ("daily 09:00", (9, 0)), ("Daily 9:05", (9, 5)), ("每日 23:59", (23, 59)),
     ("每天０７：３０", (7, 30)), ("每天 00:00", (0, 0))],
)
def test_parse_daily(text, expected):
    assert parse_daily(text) == expected
    assert is_daily(text)


@pytest.mark.parametrize("text", ["09:00", "每天", "daily 9", "每周 09:00", "明天 09:00"])
def test_parse_daily_malformed(text):
    with pytest.raises(WhenError) as info:
        parse_daily(text)
    assert info.value.zh == f"看不懂每天的时间“{text}”，请写成 每天 09:00。"
    assert info.value.en == f'Cannot read the daily time "{text}"; write daily 09:00.'
    assert not is_daily(text)


def test_parse_daily_bad_clock():
    with pytest.raises(WhenError) as info:
        parse_daily("daily 24:00")
    assert info.value.en == "There is no such time of day: 24:00."


@pytest.mark.parametrize(
    "tokens, when, rest",
    [
        (["明天", "20:00", "大家好"], "明天 20:00", ["大家好"]),
        (["每天", "09:00", "早安"], "每天 09:00", ["早安"]),
        (["daily", "09:00", "good", "morning"], "daily 09:00", ["good", "morning"]),
        (["2026-12-01", "20:00", "hi"], "2026-12-01 20:00", ["hi"]),
        (["30m", "上新啦"], "30m", ["上新啦"]),
        (["2", "小时", "上新啦"], "2 小时", ["上新啦"]),
        (["20:00", "20:00", "见"], "20:00", ["20:00", "见"]),
        (["明天20:00"], "明天20:00", []),
        (["2026-01-01", "20:00", "past"], "2026-01-01 20:00", ["past"]),  # shape only: parse_when says "past"
        (["25:00", "x"], "25:00", ["x"]),
        (["大家好", "20:00"], "", ["大家好", "20:00"]),
        (["明天", "大家好"], "", ["明天", "大家好"]),
        ([], "", []),
    ],
)
def test_split_when(tokens, when, rest):
    assert split_when(tokens) == (when, rest)


def test_fmt_local():
    assert fmt_local(utc(2026, 12, 1, 12, 0)) == "2026-12-01 20:00"
    assert fmt_local(utc(2026, 12, 1, 12, 0), NY) == "2026-12-01 07:00"
