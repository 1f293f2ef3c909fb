"""The admin API's bodies and answers as pydantic models: what /openapi.json shows is what is checked.

A request body model is as strict as the domain rules it can express (types without coercion,
bounds, patterns), so any body its schema allows is accepted unless it conflicts with stored data
or with itself in a way a schema cannot say (a ladder whose prices do not fall: 409).

Adding a field is one line in the model (`…Fields` for groups and products); answers allow extra
keys, so a field a catalog function adds to its JSON shows up before its line is written here.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr

from bot.httperrors import errors as http_errors
from catalog.products import MAX_STOCK, MAX_VARIANTS
from pricing.groupbuy import MAX_TIERS

MAX_PRICE_FEN = 10**12
MAX_OFFSET = 10**9
MAX_PAGE = 1000

# ---- shared pieces -----------------------------------------------------------------------------

# Every character Python's str.strip() removes, spelled out: `\s` means different sets in JSON Schema's
# (ECMA) regexes, in Python's and in pydantic's (Rust), so a pattern using it lets through what the
# code then strips to nothing, or refuses what the schema allows.
SPACE_CHARS = r"\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"[^{SPACE_CHARS}]"  # somewhere in the text: a character that is not a space

def _integral_float(value: Any) -> Any:
    """3.0 is the JSON integer 3 (JSON Schema counts both as integers); true, "3" and 3.5 stay refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def whole(ge: int, le: int) -> Any:
    """A JSON integer from ge to le. The bounds sit on the strict int itself so that the schema shows
    them (a Field(ge=…) added around it would not reach the JSON schema): do not wrap it in Field()."""
    return Annotated[int, Field(strict=True, ge=ge, le=le), BeforeValidator(_integral_float)]


Fen = whole(1, MAX_PRICE_FEN)
Text = Annotated[StrictStr, Field(max_length=200)]
Id = Annotated[StrictStr, Field(min_length=1, max_length=128)]
PickupName = Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=NOT_BLANK)]
# Letters and digits only, as stored; the API does not guess what a full-width or spaced code meant.
Code = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9]{1,32}$", examples=["A12"])]
# A hostname (or IPv4 address) with an optional port 1-65535 and a path of visible ASCII.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_PATTERN = rf"^https?://{_LABEL}(?:\.{_LABEL})*(?::{_PORT})?(?:/[!-~]*)?$"


class Body(BaseModel):
    """A request body: unknown keys are refused (a typo must not be silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """An answer: keys beyond the declared ones pass through (documented as allowed)."""

    model_config = ConfigDict(extra="allow")


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses (see bot.httperrors)."""
    return http_errors(*codes, e401="missing or wrong bearer token",
                       e404="no such resource (or TUANBOT_ADMIN_TOKEN is unset: the whole admin API answers 404)")


# ---- products ------------------------------------------------------------------------------------

class Tier(Body):
    """From `min_qty` pieces every piece costs `price_fen`."""

    min_qty: whole(2, MAX_STOCK)
    price_fen: Fen


class Variant(Body):
    name: StrictStr = Field(min_length=1, max_length=32, pattern=rf"^[^{SPACE_CHARS}:;]+$", examples=["42码"],
                            description="one word (no spaces, ':' or ';'); unique in the product, case-insensitively")
    stock: whole(0, MAX_STOCK) = 0


class ProductFields(Body):
    """Every product field but the code; all optional (PATCH). One line per field. A field declared
    `X = Field(None, …)` may be left out but not sent as null; `X | None` may be null (clears it)."""

    name: StrictStr = Field(None, min_length=1, max_length=200, pattern=NOT_BLANK)
    description: StrictStr | None = Field(None, max_length=2000)
    category: StrictStr | None = Field(None, max_length=100)
    price_fen: Fen = None
    market_price_fen: Fen | None = None
    stock: whole(0, MAX_STOCK) = None
    active: StrictBool = None
    tiers: list[Tier] | None = Field(
        None, max_length=MAX_TIERS,
        description="min_qty strictly rising, price_fen strictly falling and below price_fen (else 409)",
    )
    variants: list[Variant] | None = Field(
        None, max_length=MAX_VARIANTS,
        description="sizes or colours, each with its own stock; the product's stock is then their sum "
                    "(a `stock` that differs: 409). PATCH replaces the list (names kept keep their row); [] removes them",
    )


class ProductIn(ProductFields):
    """A new product: code, name and price_fen are required."""

    code: Code
    name: StrictStr = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    price_fen: Fen


class ProductPatch(ProductFields):
    """Only the fields given change; `code` may be given only as the product's own."""

    code: Code = None


class ProductOut(Answer):
    code: str
    name: str
    description: str
    category: str
    price_fen: int
    market_price_fen: int | None
    stock: int
    active: bool
    tiers: list[dict[str, int]]
    variants: list[dict[str, Any]]


# ---- groups --------------------------------------------------------------------------------------

class UrlPushTarget(Body):
    kind: Literal["bridge", "wecom_robot"]
    url: StrictStr = Field(max_length=2000, pattern=URL_PATTERN, examples=["https://bridge.example.com/push"])


class WebPushTarget(Body):
    """The group's web chat page (/chat): a message is delivered when it is recorded for the page."""

    kind: Literal["web"]


# A plain union, not a discriminated one: its oneOf-with-mapping schema made schemathesis call valid bodies invalid.
PushTarget = UrlPushTarget | WebPushTarget


class GroupFields(Body):
    """A group's settings. PUT replaces them all (a field left out takes the default shown here);
    PATCH changes only the fields given. One line per field."""

    name: Text | None = None
    owners: list[Id] = Field(default_factory=list, max_length=100, description="sender ids that are owners here")
    push_target: PushTarget | None = None
    nudge_after_hours: whole(1, 24 * 30) | None = None
    shelf: list[Code] | None = Field(
        default=None, max_length=1000,
        description="product codes this group sells ([]: the whole catalog); left out, even by PUT: unchanged",
    )
    pickup_points: list[PickupName] | None = Field(
        default=None, max_length=50,
        description="the group's pickup points (自提点) in order; left out, also by PUT: kept as they are",
    )


class GroupOut(Answer):
    group_id: str
    name: str | None
    owners: list[str]
    push_target: dict[str, Any] | None
    nudge_after_hours: int | None
    shelf: list[str]
    pickup_points: list[str]
    counts: dict[str, int]


# ---- pushes and content --------------------------------------------------------------------------

class PushOut(Answer):
    id: int
    group_id: str
    text: str
    kind: str
    cron: str | None
    next_run_at: str | None
    last_run_at: str | None
    created_by: str | None
    created_at: str


class ContentOut(Answer):
    id: int
    group_id: str
    text: str
    created_at: str
    used_at: str | None


# ---- orders, group buys, outbox, stats -----------------------------------------------------------

class OrderOut(Answer):
    order_no: str
    group_id: str
    user_id: str
    product_code: str
    variant: str = Field(description="the variant's name; empty for a product without variants")
    quantity: int
    unit_price_fen: int
    total_fen: int
    status: str
    created_at: str
    join_no: int | None = Field(description="跟团号 of a group-buy order, else null")
    pickup_point: str | None = Field(description="the member's pickup point when the order was confirmed")
    collected_at: str | None = Field(description="when it was marked collected (核销), else null")
    user_name: str


class GroupBuyOut(Answer):
    id: int
    group_id: str
    product_code: str
    basis: str
    tiers: list[dict[str, Any]]
    deadline: str
    status: str
    participants: int = Field(description="people; a member holding several variants counts once")
    quantity: int
    current_price_fen: int | None = Field(description="the price if it settled now; null below the first tier")
    limit: int | None = Field(description="限购: pieces one member may hold; null: no limit")
    waitlist: int = Field(description="joins waiting for stock (候补)")


class GroupBuyDetail(GroupBuyOut):
    product_name: str
    final_price_fen: int | None
    created_by: str | None
    created_at: str
    settled_at: str | None
    members: list[dict[str, Any]]


class EventOut(Answer):
    id: int
    kind: str
    user_id: str | None
    quantity: int | None
    price_fen: int | None
    created_at: str


class OutboxOut(Answer):
    id: int
    group_id: str
    delivery_id: str
    text: str
    status: str
    attempts: int
    last_error: str | None  # "no push target": held until the group has one
    held_until: str | None = None  # pending and due inside quiet hours: when they end (ISO 8601)


class StatsOut(Answer):
    days: int
    messages: int
    active_members: int
    new_members: int
    top_inviters: list[dict[str, Any]]
    orders: int
    buyers: int
    repeat_buyers: int
    repurchase_rate: float
    gmv_fen: int
    groupbuys_succeeded: int
    pushes_sent: int
    contributors: list[Any]
    contributors_count: int


class GroupStatsOut(StatsOut):
    group_id: str


class EveryGroupStatsOut(GroupStatsOut):
    name: str | None


class MemberOut(Answer):
    user_id: str
    first_seen: str
    last_seen: str
    messages: int
    invited_by: str | None
    invited: int
