"""Settings from the environment (and .env), all prefixed TUANBOT_; a malformed one stops start-up."""
from __future__ import annotations

import re
from functools import cached_property
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_QUIET = re.compile(r"^\s*(\d{1,2})\s*-\s*(\d{1,2})\s*$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUANBOT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./tuanbot.db"
    bridge_secret: str | None = None
    admin_token: str | None = None
    wechat_token: str | None = None
    wechat_aes_key: str | None = None
    wechat_appid: str | None = None
    wecom_token: str | None = None
    wecom_aes_key: str | None = None
    wecom_corpid: str | None = None
    aibot_token: str | None = None
    aibot_aes_key: str | None = Field(default=None, validate_default=True)  # checked against the token even unset
    wechat_max_skew_seconds: int = 300
    owners: str = ""
    timezone: str = "Asia/Shanghai"
    quiet_hours: str = "22-8"
    scheduler_tick_seconds: float = 10
    log_format: Literal["console", "json"] = "console"
    public_url: str | None = None  # links sent into chats (导出) start with it
    web_chat: bool = False  # serve the web group chat at /chat (on in `serve --demo`)

    @field_validator(
        "bridge_secret", "admin_token", "wechat_token", "wechat_aes_key", "wechat_appid",
        "wecom_token", "wecom_aes_key", "wecom_corpid", "aibot_token", "aibot_aes_key", mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, v):
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, v):
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        u = urlsplit(str(v).strip())
        if u.scheme not in ("http", "https") or not u.hostname or u.query or u.fragment:
            raise ValueError("must be an absolute http(s) URL such as https://shop.example.com")
        return str(v).strip().rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _url(cls, v: str) -> str:
        try:
            u = make_url(v)
        except ArgumentError:
            raise ValueError("is not a database URL (e.g. sqlite:///./tuanbot.db or postgresql+psycopg://…)") from None
        if u.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("must be a sqlite:// or postgresql+psycopg:// URL")
        return v

    @field_validator("wechat_aes_key", "wecom_aes_key", "aibot_aes_key")
    @classmethod
    def _aes_key(cls, v: str | None) -> str | None:
        if v is not None and (len(v) != 43 or not re.fullmatch(r"[A-Za-z0-9]+", v)):
            raise ValueError(f"must be 43 letters and digits (got {len(v)} characters)")
        return v

    @field_validator("aibot_aes_key")
    @classmethod
    def _aibot_key_with_token(cls, v: str | None, info: ValidationInfo) -> str | None:
        # Every robot callback is encrypted: a token without its key could serve nothing.
        if v is None and info.data.get("aibot_token"):
            raise ValueError("must be set when TUANBOT_AIBOT_TOKEN is (the robot's EncodingAESKey, 43 characters)")
        return v

    @field_validator("wechat_max_skew_seconds")
    @classmethod
    def _skew(cls, v: int) -> int:
        if v < 0:
            raise ValueError("must be 0 (off) or a positive number of seconds")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"is not a known time zone: {v!r} (e.g. Asia/Shanghai)") from None
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        if v.strip() and not _parse_quiet(v):
            raise ValueError("must be START-END in whole local hours 0-23, e.g. 22-8, or empty")
        return v

    @field_validator("scheduler_tick_seconds")
    @classmethod
    def _tick(cls, v: float) -> float:
        if not 0.05 <= v <= 3600:
            raise ValueError("must be between 0.05 and 3600 seconds")
        return v

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def owner_ids(self) -> frozenset[str]:
        return frozenset(o.strip() for o in self.owners.split(",") if o.strip())

    @cached_property
    def quiet(self) -> tuple[int, int] | None:
        """(start hour, end hour) in local time, or None for no quiet hours."""
        return _parse_quiet(self.quiet_hours) if self.quiet_hours.strip() else None


def _parse_quiet(v: str) -> tuple[int, int] | None:
    m = _QUIET.match(v)
    if not m:
        return None
    start, end = int(m.group(1)), int(m.group(2))
    if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
        return None
    return start, end


class SettingsError(Exception):
    """One line naming the environment variable; the CLI prints it and exits 2."""


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as e:
        err = e.errors()[0]
        name = "TUANBOT_" + str(err["loc"][0]).upper() if err.get("loc") else "TUANBOT settings"
        msg = err.get("msg", "is not valid").removeprefix("Value error, ")
        raise SettingsError(f"{name}: {msg}") from None
