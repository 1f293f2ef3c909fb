"""WHEN time expressions (SPEC section 6): delays, clock times, dates and daily times; typed local, returned UTC.

Forms, case-insensitive, full-width digits/colon read as half-width:
  delay     `30m` `30min` `30分钟` `30分`, `2h` `2小时` `2个小时`, `3d` `3天` — 1 minute to 30 days, in any unit;
  clock     `20:00` — today, or tomorrow once it is past (exactly now counts as past);
            `今天/today 20:00` (past: an error), `明天/tomorrow 20:00`, `后天 20:00`;
  date      `2026-12-01 20:00` (or `2026/12/01 20:00`) — an error once past;
  daily     `每天 09:00` / `每日 09:00` / `daily 09:00` — only through parse_daily;
  weekly    `每周一 09:00` … `每周日 09:00` (also `每星期三`, `每周天`) / `weekly mon 09:00` … `weekly sun 09:00`
            — only through parse_weekly, as a cron day name.
Standard library only.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from handlers.context import UserError

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
MAX_DELAY_MINUTES = 30 * 24 * 60
# The longest WHEN is two words (`明天 20:00`); three leaves room for `2 个小时`-style spacing.
_MAX_WHEN_TOKENS = 3

_CLOCK = r"(\d{1,2}):(\d{2})"
_DELAY = re.compile(r"^(\d{1,9})\s*(m|min|mins|minutes?|分钟|分|h|hrs?|hours?|个?小时|d|days?|天)$")
_RELATIVE = re.compile(rf"^(?:(今天|today|明天|tomorrow|后天)\s*)?{_CLOCK}$")
_DATE = re.compile(rf"^(\d{{4}})[-/](\d{{1,2}})[-/](\d{{1,2}})\s+{_CLOCK}$")
_DAILY = re.compile(rf"^(?:每天|每日|daily)\s*{_CLOCK}$")
_WEEKLY = re.compile(rf"^(?:(?:每周|每星期|每礼拜)([一二三四五六日天])|weekly\s+([a-z]+))\s*{_CLOCK}$")
# Cron day names (the same in crontab and APScheduler, unlike day numbers) for 周一 … 周日 and English.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ZH_WEEKDAY = {"一": "mon", "二": "tue", "三": "wed", "四": "thu", "五": "fri", "六": "sat", "日": "sun", "天": "sun"}
_EN_WEEKDAY = {**{d: d for d in WEEKDAYS}, "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
               "friday": "fri", "saturday": "sat", "sunday": "sun", "tues": "tue", "thur": "thu", "thurs": "thu"}
# Keyed by the unit's first character: `min`/`minutes` -> m, `个小时`/`小时` -> 个/小, `分钟`/`分` -> 分.
_UNIT_MINUTES = {"m": 1, "分": 1, "h": 60, "小": 60, "个": 60, "d": 1440, "天": 1440}
_DAY_OFFSET = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}


class WhenError(UserError):
    """A WHEN a user typed cannot be used: one sentence in each language, shown like any UserError."""


@dataclass(frozen=True)
class _Delay:
    minutes: int


@dataclass(frozen=True)
class _Clock:
    day_offset: int | None  # None: today, or tomorrow once past
    hour: int
    minute: int


@dataclass(frozen=True)
class _Date:
    year: int
    month: int
    day: int
    hour: int
    minute: int


def _normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _recognize(norm: str) -> _Delay | _Clock | _Date | None:
    """The shape of a one-off WHEN, without checking ranges, so that `25:00` or `99d` reach their own sentence."""
    if m := _DELAY.match(norm):
        return _Delay(int(m.group(1)) * _UNIT_MINUTES[m.group(2)[0]])
    if m := _RELATIVE.match(norm):
        offset = _DAY_OFFSET[m.group(1)] if m.group(1) else None
        return _Clock(offset, int(m.group(2)), int(m.group(3)))
    if m := _DATE.match(norm):
        year, month, day, hour, minute = (int(g) for g in m.groups())
        return _Date(year, month, day, hour, minute)
    return None


def _check_clock(hour: int, minute: int) -> None:
    if hour > 23 or minute > 59:
        raise WhenError(f"没有这个时刻：{hour}:{minute:02d}。", f"There is no such time of day: {hour}:{minute:02d}.")


def _at(day: date, hour: int, minute: int, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def fmt_local(moment: datetime, tz: tzinfo = DEFAULT_TZ) -> str:
    """An aware datetime as people type it: `2026-12-01 20:00` in tz."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def parse_when(text: str, now: datetime, tz: tzinfo = DEFAULT_TZ) -> datetime:
    """A one-off WHEN typed in tz -> an aware UTC datetime strictly after `now` (aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    spec = _recognize(_normalize(text))
    if spec is None:
        raise WhenError(
            f"看不懂时间“{text}”，可以写 30m、2h、3d、20:00、明天 20:00 或 2026-12-01 20:00。",
            f'Cannot read the time "{text}"; write 30m, 2h, 3d, 20:00, tomorrow 20:00 or 2026-12-01 20:00.',
        )
    if isinstance(spec, _Delay):
        if not 1 <= spec.minutes <= MAX_DELAY_MINUTES:
            raise WhenError("延时要在 1 分钟到 30 天之间。", "A delay must be between 1 minute and 30 days.")
        return (now + timedelta(minutes=spec.minutes)).astimezone(UTC)
    _check_clock(spec.hour, spec.minute)
    if isinstance(spec, _Clock):
        today = now.astimezone(tz).date()
        at = _at(today + timedelta(days=spec.day_offset or 0), spec.hour, spec.minute, tz)
        if spec.day_offset is None and at <= now:
            at = _at(today + timedelta(days=1), spec.hour, spec.minute, tz)
    else:
        try:
            day = date(spec.year, spec.month, spec.day)
        except ValueError:
            shown = f"{spec.year}-{spec.month:02d}-{spec.day:02d}"
            raise WhenError(f"没有这个日期：{shown}。", f"There is no such date: {shown}.") from None
        at = _at(day, spec.hour, spec.minute, tz)
    if at <= now:
        shown = fmt_local(at, tz)
        raise WhenError(
            f"这个时间已经过去：{shown}，请给一个将来的时间。", f"That time is already past: {shown}; give a future time."
        )
    return at.astimezone(UTC)


def parse_daily(text: str) -> tuple[int, int]:
    """`每天 09:00` / `daily 09:00` -> (9, 0), a local time of day."""
    m = _DAILY.match(_normalize(text))
    if m is None:
        raise WhenError(
            f"看不懂每天的时间“{text}”，请写成 每天 09:00。", f'Cannot read the daily time "{text}"; write daily 09:00.'
        )
    hour, minute = int(m.group(1)), int(m.group(2))
    _check_clock(hour, minute)
    return hour, minute


def quiet_until(moment: datetime, quiet: tuple[int, int] | None, tz: tzinfo = DEFAULT_TZ) -> datetime | None:
    """When quiet hours (local [START, END), wrapping midnight when START > END) hold something due at
    `moment`: the moment they end (UTC); None when `moment` is outside them."""
    if quiet is None:
        return None
    start, end = quiet
    local = moment.astimezone(tz)
    inside = start <= local.hour < end if start < end else local.hour >= start or local.hour < end
    if not inside:
        return None
    day = local.date() if local.hour < end else local.date() + timedelta(days=1)
    return _at(day, end, 0, tz).astimezone(UTC)


def parse_weekly(text: str) -> tuple[str, int, int]:
    """`每周一 09:00` / `weekly mon 09:00` -> ("mon", 9, 0): a cron day name and a local time of day."""
    m = _WEEKLY.match(_normalize(text))
    day = None if m is None else (_ZH_WEEKDAY.get(m.group(1) or "") or _EN_WEEKDAY.get(m.group(2) or ""))
    if m is None or day is None:
        raise WhenError(
            f"看不懂每周的时间“{text}”，请写成 每周一 09:00（周一到周日）。",
            f'Cannot read the weekly time "{text}"; write weekly mon 09:00 (mon to sun).',
        )
    hour, minute = int(m.group(3)), int(m.group(4))
    _check_clock(hour, minute)
    return day, hour, minute


def is_weekly(text: str) -> bool:
    return _WEEKLY.match(_normalize(text)) is not None


def is_daily(text: str) -> bool:
    """Whether text has the daily shape (so the caller picks parse_daily over parse_when)."""
    return _DAILY.match(_normalize(text)) is not None


def split_when(tokens: list[str]) -> tuple[str, list[str]]:
    """The longest leading run of tokens that reads as a WHEN (one-off or daily), and the rest:
    ["明天", "20:00", "大家好"] -> ("明天 20:00", ["大家好"]); no WHEN in front -> ("", tokens).
    Only the shape is checked, so `25:00` or a past date still split off and get their own sentence later."""
    for size in range(min(len(tokens), _MAX_WHEN_TOKENS), 0, -1):
        candidate = " ".join(tokens[:size])
        norm = _normalize(candidate)
        if _recognize(norm) is not None or _DAILY.match(norm) or _WEEKLY.match(norm):
            return candidate, list(tokens[size:])
    return "", list(tokens)
