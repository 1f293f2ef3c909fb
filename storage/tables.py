"""Every table of tuanbot, as SQLAlchemy Core tables; the migrations create exactly these."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from storage.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# ---- people ----------------------------------------------------------------------------------

# How a member is named in a group: the latest sender_name / member_name a channel carried.
members = Table(
    "members",
    metadata,
    Column("group_id", String(128), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# ---- catalog -------------------------------------------------------------------------------

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),  # stored upper-case
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("category", String(100), nullable=False, default=""),
    Column("price_fen", BigInteger, nullable=False),
    Column("market_price_fen", BigInteger, nullable=True),
    Column("stock", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("stock >= 0", name="stock_not_negative"),
    CheckConstraint("price_fen > 0", name="price_positive"),
)

# Product search's text indexes are made by migration 0007 outside this metadata (SQLite FTS5 tables
# with their triggers, PostgreSQL GIN expression indexes): schema comparisons skip these names.
SEARCH_INDEX_PREFIXES = ("product_trigrams", "product_chars", "search_positions", "ix_products_search_")


def made_outside_metadata(name: str | None) -> bool:
    return bool(name) and name.startswith(SEARCH_INDEX_PREFIXES)


# The product's quantity ladder: from min_qty pieces every piece costs price_fen.
product_tiers = Table(
    "product_tiers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", Integer, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("min_qty", Integer, nullable=False),
    Column("price_fen", BigInteger, nullable=False),
    UniqueConstraint("product_id", "min_qty", name="uq_product_tiers_product_qty"),
)

# A product's sizes or colours (规格). With any, the product's stock is the sum of theirs, kept so
# in the same unit of work as every move of a variant's stock (catalog.products.take_stock).
product_variants = Table(
    "product_variants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", Integer, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(32), nullable=False),  # as the owner wrote it; matched case-insensitively
    Column("position", Integer, nullable=False),  # the owner's order: 39码, 40码, …
    Column("stock", Integer, nullable=False),
    UniqueConstraint("product_id", "name", name="uq_product_variants_product_name"),
    CheckConstraint("stock >= 0", name="stock_not_negative"),
)

# ---- groups --------------------------------------------------------------------------------

groups = Table(
    "groups",
    metadata,
    Column("group_id", String(128), primary_key=True),
    Column("name", String(200), nullable=True),
    Column("owners", JSON, nullable=False, default=list),  # sender ids
    Column("push_target", JSON, nullable=True),  # {"kind": "bridge"|"wecom_robot", "url": …} or {"kind": "web"}
    Column("nudge_after_hours", Integer, nullable=True),  # None: never nudge
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_nudge_at", UTCDateTime, nullable=True),
)

# The group's own shelf: the products it sells. No row for a group: it sells the whole catalog.
group_shelf = Table(
    "group_shelf",
    metadata,
    Column("group_id", String(128), primary_key=True),
    Column("product_id", Integer, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("added_at", UTCDateTime, nullable=False),
)

# ---- inbound messages: dedupe record, reply cache and activity log in one row ----------------

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("msg_id", String(128), nullable=False),
    Column("group_id", String(128), nullable=False),
    Column("sender_id", String(128), nullable=False),  # for member_joined: the member who joined
    Column("kind", String(16), nullable=False),  # "text" | "event"
    Column("event", String(32), nullable=True),
    Column("inviter_id", String(128), nullable=True),
    Column("is_command", Boolean, nullable=False, default=False),
    Column("command", String(32), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("reply", JSON, nullable=True),  # the texts answered (then any group-buy view), returned to a duplicate
    UniqueConstraint("channel", "msg_id", name="uq_inbound_messages_channel_msg"),
)
# Every read of a group's messages goes through this index: group health reads a group's texts (or
# events) in a window, and it holds every column those queries need, so they read the window's slice of
# it and never the table or the rest of history. It is the only index beside the dedupe key: each one
# is written with every message.
Index(
    "ix_inbound_group_kind_time",
    inbound_messages.c.group_id,
    inbound_messages.c.kind,
    inbound_messages.c.received_at,
    inbound_messages.c.sender_id,
    inbound_messages.c.is_command,
)
# Group health over every group reads the window's joins as one range of this index instead of each
# group's slice of the one above. It holds member_joined events only, so a text never writes it, and
# every column the statement reads (`event` for its condition), so it never reads the table.
MEMBER_JOINED = "member_joined"
Index(
    "ix_inbound_joins_time",
    inbound_messages.c.received_at,
    inbound_messages.c.group_id,
    inbound_messages.c.sender_id,
    inbound_messages.c.inviter_id,
    inbound_messages.c.event,
    sqlite_where=text(f"event = '{MEMBER_JOINED}'"),
    postgresql_where=text(f"event = '{MEMBER_JOINED}'"),
)

# ---- everyone seen in a group, folded (catalog/member_totals.py) ---------------------------------

# Per group and member, their texts and member_joined events up to member_totals_mark.through: when first
# and last seen, and how many texts. Messages from `through` on are read from inbound_messages.
member_totals = Table(
    "member_totals",
    metadata,
    Column("group_id", String(128), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("texts", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# One row (id 1): the messages received before `through` are in member_totals (NULL: none yet).
member_totals_mark = Table(
    "member_totals_mark",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("through", UTCDateTime, nullable=True),
)

# ---- the per-day rollup of group talk (catalog/activity.py) --------------------------------------

# Each closed local day's texts per group (days in the stats time zone, rolled up once, never changed).
# A sender is a bit of the group's numbering (activity_senders); each bitmap is little-endian bytes.
activity_days = Table(
    "activity_days",
    metadata,
    Column("group_id", String(128), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("texts", Integer, nullable=False),  # texts that day, commands included
    Column("senders", LargeBinary, nullable=False),  # who sent any text
    Column("talk1", LargeBinary, nullable=False),  # who sent 1 or more non-command texts
    Column("talk2", LargeBinary, nullable=False),  # … 2 or more
    Column("talk3", LargeBinary, nullable=False),  # … 3 or more
    sqlite_with_rowid=False,  # on SQLite the rows live in the primary key's tree: one lookup, not two
)

# A group's senders numbered 0, 1, 2 … in the order the rollup first met them.
activity_senders = Table(
    "activity_senders",
    metadata,
    Column("group_id", String(128), primary_key=True),
    Column("sender_id", String(128), primary_key=True),
    Column("bit", Integer, nullable=False),
    UniqueConstraint("group_id", "bit", name="uq_activity_senders_group_bit"),
    sqlite_with_rowid=False,
)

# The days rolled up, each once for every group, in the time zone named (another zone's days are redone).
activity_rollups = Table(
    "activity_rollups",
    metadata,
    Column("day", Date, primary_key=True),
    Column("tz", String(64), nullable=False),
    Column("rolled_at", UTCDateTime, nullable=False),
)

# Parts of the days of the last two weeks (catalog.activity.PART_HORIZON_DAYS), in the same form: per group,
# the day's texts before an hour edge (head) and from it (tail), so a window's partial day is read from one
# row per group. An edge is a local midnight plus whole hours; `edge` is in seconds since 1970 (UTC): read
# for thousands of rows at once, an integer costs far less than a timestamp to turn into Python.
activity_day_parts = Table(
    "activity_day_parts",
    metadata,
    Column("edge", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(4), primary_key=True),  # "head": from midnight to the edge; "tail": from it to midnight
    Column("group_id", String(128), primary_key=True),
    Column("texts", Integer, nullable=False),
    Column("senders", LargeBinary, nullable=False),
    Column("talk1", LargeBinary, nullable=False),
    Column("talk2", LargeBinary, nullable=False),
    Column("talk3", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

# The parts written, each once for every group, in the time zone named.
activity_part_rollups = Table(
    "activity_part_rollups",
    metadata,
    Column("edge", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(4), primary_key=True),
    Column("tz", String(64), nullable=False),
    Column("rolled_at", UTCDateTime, nullable=False),
)

# Where a sender's last 商品/browse left off, so 更多/more works on any server process.
browse_cursors = Table(
    "browse_cursors",
    metadata,
    Column("chat_id", String(128), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("word", String(100), nullable=False, default=""),
    Column("next_offset", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
)

# ---- orders ----------------------------------------------------------------------------------

# An order's number is "D" + its id (catalog.orders.order_no): what a member types after 取消/cancel.
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", String(128), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_fen", BigInteger, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("price_source", String(16), nullable=False),  # price | ladder | deal | groupbuy
    Column("status", String(16), nullable=False),  # pending | confirmed | cancelled
    Column("deal_id", Integer, ForeignKey("deals.id"), nullable=True),
    Column("groupbuy_id", Integer, ForeignKey("groupbuys.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("cancelled_at", UTCDateTime, nullable=True),
    Column("variant", String(32), nullable=False, server_default=""),  # the variant's name; "" without one
    # Fulfilment (catalog.fulfilment): confirmed -> collected; collected keeps status "confirmed".
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("collected_at", UTCDateTime, nullable=True),
    Column("pickup_point", String(100), nullable=True),  # the member's choice when confirmed, as text
    Column("join_no", Integer, nullable=True),  # 跟团号 of a group-buy order
    CheckConstraint("quantity > 0", name="quantity_positive"),
)
Index("ix_orders_group_user", orders.c.group_id, orders.c.user_id)
Index("ix_orders_group_time", orders.c.group_id, orders.c.created_at)
Index("ix_orders_group_status", orders.c.group_id, orders.c.status)
# Group health over every group reads the window's orders as one range of this index instead of each
# group's slice of ix_orders_group_time; it holds every column the statement reads.
Index("ix_orders_time", orders.c.created_at, orders.c.group_id, orders.c.user_id, orders.c.status,
      orders.c.total_fen)

# ---- fulfilment: pickup points, members' choices, export links ---------------------------------

pickup_points = Table(
    "pickup_points",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", String(128), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("group_id", "name", name="uq_pickup_points_group_name"),
)

# A member's chosen pickup point in a group, by name (one of the group's pickup_points).
member_pickups = Table(
    "member_pickups",
    metadata,
    Column("group_id", String(128), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("pickup_point", String(100), nullable=False),
    Column("chosen_at", UTCDateTime, nullable=False),
)

# A spreadsheet link sent into a chat (导出): only the SHA-256 of its token is kept.
export_links = Table(
    "export_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("group_id", String(128), nullable=False),
    Column("groupbuy_id", Integer, nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# ---- flash deals -----------------------------------------------------------------------------

deals = Table(
    "deals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", String(128), nullable=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("price_fen", BigInteger, nullable=False),
    Column("limit_qty", Integer, nullable=True),  # pieces; None: no limit
    Column("sold_qty", Integer, nullable=False, default=0),
    Column("ends_at", UTCDateTime, nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    CheckConstraint("limit_qty IS NULL OR sold_qty <= limit_qty", name="limit_not_exceeded"),
)
Index("ix_deals_group_product", deals.c.group_id, deals.c.product_id)

# ---- group buys ------------------------------------------------------------------------------

groupbuys = Table(
    "groupbuys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", String(128), nullable=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("basis", String(16), nullable=False),  # people | quantity
    Column("tiers", JSON, nullable=False),  # [{"threshold": int, "price_fen": int}, …]
    Column("deadline", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # open | succeeded | failed
    Column("final_price_fen", BigInteger, nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("settled_at", UTCDateTime, nullable=True),
    Column("reminded_at", UTCDateTime, nullable=True),  # the one-hour-left reminder went out (set at opening when the deadline was already that close: none is due)
    Column("limit_qty", Integer, nullable=True),  # 限购: pieces one member may hold; None: no limit
    # The language it was opened in ("zh" | "en"): its announcement and reminder speak it.
    Column("lang", String(8), nullable=False, server_default="zh"),
    # Kept by catalog/groupbuys.py with every move of its participants and waitlist (migration 0012):
    # people (a member holding several variants counts once), pieces, waitlisted joins, and the last
    # 跟团号 handed out (numbers are never reused, so not the participants' highest).
    Column("people_count", Integer, nullable=False, server_default="0"),
    Column("piece_count", Integer, nullable=False, server_default="0"),
    Column("waiting_count", Integer, nullable=False, server_default="0"),
    Column("last_join_no", Integer, nullable=False, server_default="0"),
)
Index("ix_groupbuys_status_deadline", groupbuys.c.status, groupbuys.c.deadline)
Index("ix_groupbuys_group", groupbuys.c.group_id, groupbuys.c.status)

groupbuy_participants = Table(
    "groupbuy_participants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("groupbuy_id", Integer, ForeignKey("groupbuys.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("join_no", Integer, nullable=False),  # 跟团号: 1, 2, 3 … in join order
    Column("joined_at", UTCDateTime, nullable=False),
    Column("variant", String(32), nullable=False, server_default=""),  # a join per variant; "" without one
    UniqueConstraint("groupbuy_id", "user_id", "variant", name="uq_groupbuy_participants_user_variant"),
    UniqueConstraint("groupbuy_id", "join_no", name="uq_groupbuy_participants_join_no"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)

# 候补: joins that found too little stock, promoted first come first served (by id) when stock
# comes back. A member is never both here and in groupbuy_participants for one variant
# (every change to either happens under the product's lock, catalog.groupbuys._lock).
groupbuy_waitlist = Table(
    "groupbuy_waitlist",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("groupbuy_id", Integer, ForeignKey("groupbuys.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("variant", String(32), nullable=False, server_default=""),
    Column("quantity", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("groupbuy_id", "user_id", "variant", name="uq_groupbuy_waitlist_user_variant"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)
Index("ix_groupbuy_waitlist_gb", groupbuy_waitlist.c.groupbuy_id, groupbuy_waitlist.c.variant, groupbuy_waitlist.c.id)

groupbuy_events = Table(
    "groupbuy_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("groupbuy_id", Integer, ForeignKey("groupbuys.id", ondelete="CASCADE"), nullable=False),
    # opened | joined | changed | left | settled | failed | waitlisted | promoted | dropped
    Column("kind", String(16), nullable=False),
    Column("user_id", String(128), nullable=True),
    Column("quantity", Integer, nullable=True),
    Column("price_fen", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_groupbuy_events_gb", groupbuy_events.c.groupbuy_id, groupbuy_events.c.id)

# ---- scheduled content, nudges and the outbox --------------------------------------------------

pushes = Table(
    "pushes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # once | daily | cron
    Column("cron", String(64), nullable=True),  # daily: "M H * * *"; cron: as given
    Column("next_run_at", UTCDateTime, nullable=True),  # None: finished
    Column("active", Boolean, nullable=False, default=True),
    Column("created_by", String(128), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_run_at", UTCDateTime, nullable=True),
)
Index("ix_pushes_due", pushes.c.active, pushes.c.next_run_at)

# What a quiet group is sent next, in order.
content_items = Table(
    "content_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)
Index("ix_content_items_group", content_items.c.group_id, content_items.c.used_at, content_items.c.id)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("group_id", String(128), nullable=False),
    Column("delivery_id", String(64), nullable=False, unique=True),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),  # a dispatcher's lease on the row
    Column("last_error", Text, nullable=True),
    Column("source", String(32), nullable=True),  # push:<id> | nudge | reminder | groupbuy | deal | …
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at)
Index("ix_outbox_group_sent", outbox.c.group_id, outbox.c.sent_at)

# One row per push target URL: sliding send budget shared by every process (20 a minute).
target_rates = Table(
    "target_rates",
    metadata,
    Column("target", String(512), primary_key=True),
    Column("window_start", UTCDateTime, nullable=False),
    Column("sent_in_window", Integer, nullable=False, default=0),
    Column("blocked_until", UTCDateTime, nullable=True),  # rate-limited by the receiver
)

# ---- the web group chat (/chat) -------------------------------------------------------------------

# What the page shows: what was typed there, the bot's replies, and what the group was sent through the
# outbox (its push target kind "web"). `seq` counts per group and is given out under web_chat_seqs' row
# lock, so rows of a group become visible in seq order and a page that polls "seq > N" misses none.
web_chat_messages = Table(
    "web_chat_messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("group_id", String(128), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # said | reply | push
    Column("sender_id", String(128), nullable=True),  # said: who typed it
    Column("sender_name", String(200), nullable=True),
    Column("text", Text, nullable=False),
    Column("reply_to", BigInteger, nullable=True),  # reply: the seq of the message it answers
    Column("client_msg_id", String(64), nullable=True),  # said: the page's id of it (dedupe)
    Column("delivery_id", String(64), nullable=True, unique=True),  # push: the outbox row's
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("group_id", "seq", name="uq_web_chat_messages_group_seq"),
    UniqueConstraint("group_id", "client_msg_id", name="uq_web_chat_messages_group_client_msg"),
)

web_chat_seqs = Table(
    "web_chat_seqs",
    metadata,
    Column("group_id", String(128), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)
