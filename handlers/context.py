"""The one normalized message every channel produces, the reply it takes back, and what a handler sees."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

ROLES = ("member", "admin", "owner")
STAFF_ROLES = ("admin", "owner")


@dataclass(frozen=True)
class Message:
    """What a channel adapter makes of one request. Handlers never see XML, JSON or HTTP."""

    channel: str  # "bridge" | "wechat" | "wecom" | "wecom_aibot" | "console"
    chat_id: str  # the group id; in a private chat "<channel>:<sender id>"
    sender_id: str
    text: str = ""
    msg_id: str = ""
    sender_role: str = "member"  # the role the channel itself carries
    sent_at: datetime | None = None
    is_private: bool = False  # the WeChat channels: the sender's own chat with the shop
    mentions_bot: bool = False
    chat_name: str | None = None
    sender_name: str | None = None
    event: str | None = None  # "member_joined"; "media": a picture, file or video, nothing to read; None for a text
    member_id: str | None = None
    member_name: str | None = None
    inviter_id: str | None = None


@dataclass(frozen=True)
class GroupBuyView:
    """The group buy a reply is about, as figures rather than words, for channels that can draw it
    (the WeCom robot turns it into a card with join buttons)."""

    id: int
    product_name: str
    basis: str  # "people" | "quantity": what the tiers count
    participants: int
    quantity: int  # pieces so far
    price_fen: int | None  # the price if it settled now; None below the first tier
    status: str  # the line 团购 prints for it, in the command's language

    def to_json(self) -> dict[str, Any]:
        return {"groupbuy": {k: getattr(self, k) for k in self.__dataclass_fields__}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupBuyView | None:
        """The view stored by to_json; None for one this version cannot read (fields added or gone)."""
        fields = data.get("groupbuy")
        if not isinstance(fields, dict) or set(fields) != set(cls.__dataclass_fields__):
            return None
        return cls(**fields)


@dataclass
class Reply:
    """What goes back into the chat the message came from; empty: say nothing."""

    texts: list[str] = field(default_factory=list)
    # The group buy the reply concerns (opened, listed, joined, left), also after a refusal.
    groupbuy: GroupBuyView | None = None
    # The reply presents that group buy for joining (开团, 团购): a channel with buttons may offer them.
    invites_joining: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def to_json(self) -> list[dict[str, str]]:
        return [{"text": t} for t in self.texts]

    def stored(self) -> list[Any]:
        """The form kept with the dedupe record: the texts, then the view (an object) if any."""
        if self.groupbuy is None:
            return list(self.texts)
        return [*self.texts, {**self.groupbuy.to_json(), "invites_joining": self.invites_joining}]

    @classmethod
    def from_stored(cls, items: list[Any]) -> Reply:
        texts = [t for t in items if isinstance(t, str)]
        extra = next((d for d in items if isinstance(d, dict)), None)
        if extra is None:
            return cls(texts)
        view = GroupBuyView.from_json(extra)
        return cls(texts, view, view is not None and bool(extra.get("invites_joining")))


def _channel_role(role: str) -> str:
    return role if role in STAFF_ROLES else "member"


class UserError(ValueError):
    """One clear sentence for the sender; the unit of work rolls back, nothing changes."""

    def __init__(self, zh: str, en: str | None = None):
        super().__init__(zh)
        self.zh = zh
        self.en = en if en is not None else zh

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass
class Ctx:
    """One message being handled: its connection (the unit of work), who sent it, when, in which language."""

    conn: Any  # sqlalchemy Connection inside the message's transaction
    msg: Message
    lang: str  # "zh" or "en": the language of the command word used
    now: datetime  # aware UTC
    tz: ZoneInfo
    # Computes the effective role (channel role, TUANBOT_OWNERS and the group's owners combined); called
    # the first time `role` is asked, since it reads the group's row and most commands never ask.
    role_of: Callable[[], str] | None = field(default=None, repr=False)
    reply: Reply = field(default_factory=Reply)
    # Messages to groups other than the one this message came from (or caused with no chat to answer):
    # (group_id, text). The dispatcher writes them to the outbox in the same transaction.
    outgoing: list[tuple[str, str]] = field(default_factory=list)
    orders_placed: int = 0  # for the tuanbot_orders_total metric, counted once the transaction commits
    public_url: str | None = None  # TUANBOT_PUBLIC_URL: where links sent into the chat point
    quiet: tuple[int, int] | None = None  # TUANBOT_QUIET_HOURS (local start, end hour): when pushes wait
    _role: str | None = field(default=None, init=False, repr=False)

    @property
    def role(self) -> str:
        """The sender's effective role here: "member", "admin" or "owner"."""
        if self._role is None:
            self._role = self.role_of() if self.role_of is not None else _channel_role(self.msg.sender_role)
        return self._role

    @property
    def group_id(self) -> str:
        return self.msg.chat_id

    @property
    def user_id(self) -> str:
        return self.msg.sender_id

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def t(self, zh: str, en: str) -> str:
        return en if self.lang == "en" else zh

    def say(self, zh: str, en: str | None = None) -> None:
        self.reply.texts.append(self.t(zh, en if en is not None else zh))

    def tell_group(self, group_id: str, text: str) -> None:
        """Tell a group something: in the reply when the message came from that group, else through the outbox."""
        if not self.msg.is_private and group_id == self.msg.chat_id:
            self.reply.texts.append(text)
        else:
            self.outgoing.append((group_id, text))
