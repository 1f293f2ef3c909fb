"""Products and their quantity ladders: validation, upsert, reading and atomic stock moves (search: catalog/search.py)."""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from pricing.groupbuy import PriceRuleError
from pricing.tiers import ladder_from_json, ladder_unit_price, validate_ladder
from storage.prepared import Prepared
from storage.tables import product_tiers, product_variants, products

CODE_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
MAX_STOCK = 10_000_000
MAX_VARIANTS = 100
VARIANT_NAME_RE = re.compile(r"^[^\s:;]{1,32}$")  # one word: it is typed between a code and a quantity


class ProductError(ValueError):
    """A product field that cannot be accepted; `field` names it for a 422 or an import line."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class DuplicateCode(ValueError):
    pass


@dataclass
class Variant:
    name: str
    stock: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "stock": self.stock}


def variant_key(name: str) -> str:
    """How variant names are compared: case-insensitively, full-width read as half-width (`４２码` is `42码`)."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


@dataclass
class Product:
    id: int
    code: str
    name: str
    description: str
    category: str
    price_fen: int
    market_price_fen: int | None
    stock: int
    active: bool
    ladder: list[tuple[int, int]] = field(default_factory=list)  # (min_qty, price_fen), rising
    variants: list[Variant] = field(default_factory=list)  # in the owner's order; stock is their sum

    def variant(self, name: str) -> Variant | None:
        key = variant_key(name)
        return next((v for v in self.variants if variant_key(v.name) == key), None)

    def unit_price(self, qty: int) -> int:
        return ladder_unit_price(self.price_fen, self.ladder, qty)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "price_fen": self.price_fen,
            "market_price_fen": self.market_price_fen,
            "stock": self.stock,
            "active": self.active,
            "tiers": [{"min_qty": q, "price_fen": p} for q, p in self.ladder],
            "variants": [v.to_json() for v in self.variants],
        }


def normalize_code(code: str) -> str:
    """Codes are matched case-insensitively, full-width letters included: `ａ１２` is `A12`."""
    return unicodedata.normalize("NFKC", code).strip().upper()


# ---- validation: one place for the admin API, the importer and the demo catalog ----------------

FIELDS = (
    "code", "name", "description", "category", "price_fen", "market_price_fen", "stock", "active", "tiers", "variants",
)


def validate_product(raw: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Checks a product dict (SPEC section 5 shape); returns clean fields. `partial` for PATCH."""
    unknown = set(raw) - set(FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ProductError(name, "is not a product field")
    out: dict[str, Any] = {}
    required = () if partial else ("code", "name", "price_fen")
    for name in required:
        if raw.get(name) in (None, ""):
            raise ProductError(name, "is required")
    if "code" in raw:
        code = raw["code"]
        if not isinstance(code, str) or not CODE_RE.match(normalize_code(code)):
            raise ProductError("code", "must be 1 to 32 letters and digits")
        out["code"] = normalize_code(code)
    if "name" in raw:
        name = raw["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise ProductError("name", "must be a text of 1 to 200 characters")
        out["name"] = name.strip()
    for name in ("description", "category"):
        if name in raw:
            value = raw[name] if raw[name] is not None else ""
            if not isinstance(value, str) or len(value) > (2000 if name == "description" else 100):
                raise ProductError(name, "must be a text")
            out[name] = value.strip()
    if "price_fen" in raw:
        out["price_fen"] = _whole(raw["price_fen"], "price_fen", minimum=1)
    if "market_price_fen" in raw:
        mp = raw["market_price_fen"]
        out["market_price_fen"] = None if mp is None else _whole(mp, "market_price_fen", minimum=1)
    if "stock" in raw:
        out["stock"] = _whole(raw["stock"], "stock", minimum=0, maximum=MAX_STOCK)
    if "active" in raw:
        if not isinstance(raw["active"], bool):
            raise ProductError("active", "must be true or false")
        out["active"] = raw["active"]
    if "tiers" in raw:
        try:
            out["tiers"] = ladder_from_json(raw["tiers"] or [], base_price_fen=out.get("price_fen"))
        except PriceRuleError as e:
            raise ProductError("tiers", e.en) from None
    if "variants" in raw:
        out["variants"] = _variants(raw["variants"])
        total = sum(stock for _, stock in out["variants"])
        if out["variants"] and "stock" in out and out["stock"] != total:
            raise ProductError("stock", f"is the sum of the variants' stock ({total}); leave it out or make it match")
        if out["variants"]:
            out["stock"] = total
    return out


def _variants(raw: Any) -> list[tuple[str, int]]:
    """[{"name": "42码", "stock": 500}, …] -> [("42码", 500), …]; names unique case-insensitively."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_VARIANTS:
        raise ProductError("variants", f"must be a list of at most {MAX_VARIANTS} {{\"name\", \"stock\"}} items")
    out, seen = [], set()
    for item in raw:
        if not isinstance(item, dict) or set(item) - {"name", "stock"} or "name" not in item:
            raise ProductError("variants", 'each item must be {"name": TEXT, "stock": N}')
        name = item["name"].strip() if isinstance(item["name"], str) else None
        if not name or not VARIANT_NAME_RE.match(name):
            raise ProductError("variants", "a name must be 1 to 32 characters without spaces, ':' or ';'")
        if variant_key(name) in seen:
            raise ProductError("variants", f"{name} appears twice")
        seen.add(variant_key(name))
        try:
            stock = _whole(item.get("stock", 0), "stock", minimum=0, maximum=MAX_STOCK)
        except ProductError as e:
            raise ProductError("variants", f"{name}: stock {e.message}") from None
        out.append((name, stock))
    if sum(stock for _, stock in out) > MAX_STOCK:
        raise ProductError("variants", f"the stocks add up to more than {MAX_STOCK}")
    return out


def _whole(value: Any, name: str, *, minimum: int, maximum: int = 10**12) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProductError(name, "must be a whole number")
    if value < minimum:
        raise ProductError(name, f"must be {minimum} or more")
    if value > maximum:
        raise ProductError(name, f"must be at most {maximum}")
    return value


# ---- reading ---------------------------------------------------------------------------------

_COLUMNS = (
    products.c.id,
    products.c.code,
    products.c.name,
    products.c.description,
    products.c.category,
    products.c.price_fen,
    products.c.market_price_fen,
    products.c.stock,
    products.c.active,
)


def _product(row, ladder=()) -> Product:
    return Product(*row[:9], ladder=list(ladder))


# Statements on the per-message path are prepared once (storage/prepared.py): through
# Connection.execute each would cost more CPU than SQLite takes to run it (bench/).
# A product and its ladder in one statement: one row per tier (tier columns NULL when it has none), each
# saying whether the product has variants, so a product without (most of them) needs no second statement.
WITH_LADDER = (
    select(
        *_COLUMNS, product_tiers.c.min_qty, product_tiers.c.price_fen,
        exists().where(product_variants.c.product_id == products.c.id).label("has_variants"),
    )
    .select_from(products.outerjoin(product_tiers, product_tiers.c.product_id == products.c.id))
    .order_by(product_tiers.c.min_qty)
)
_BY_CODE = Prepared(WITH_LADDER.where(products.c.code == bindparam("code")))
_BY_ID = Prepared(WITH_LADDER.where(products.c.id == bindparam("product_id")))


_VARIANTS = Prepared(
    select(product_variants.c.name, product_variants.c.stock)
    .where(product_variants.c.product_id == bindparam("product_id"))
    .order_by(product_variants.c.position, product_variants.c.id)
)


def product_of(conn: Connection, rows: list[tuple]) -> Product | None:
    """The product in the rows of a WITH_LADDER statement (columns after its own are ignored), with its variants."""
    if not rows:
        return None
    p = _product(rows[0], [(r[9], r[10]) for r in rows if r[9] is not None])
    if rows[0][11]:
        p.variants = [Variant(*r) for r in _VARIANTS.all(conn, {"product_id": p.id})]
    return p


def get_product(conn: Connection, code: str) -> Product | None:
    return product_of(conn, _BY_CODE.all(conn, {"code": normalize_code(code)}))


def get_product_by_id(conn: Connection, product_id: int) -> Product | None:
    return product_of(conn, _BY_ID.all(conn, {"product_id": product_id}))


def list_products(conn: Connection, word: str = "", *, active: bool | None = None, limit: int = 100,
                  offset: int = 0) -> list[Product]:
    """Products by code, with their ladders, for the admin list: `word` as in search (code, name,
    category or description holds it, case-insensitively), `active` None for both kinds."""
    q = select(*_COLUMNS)
    word = word.strip()
    if word:
        like = f"%{_escape_like(word.lower())}%"
        q = q.where(or_(*(func.lower(c).like(like, escape="\\") for c in
                          (products.c.code, products.c.name, products.c.category, products.c.description))))
    if active is not None:
        q = q.where(products.c.active.is_(active))
    rows = conn.execute(q.order_by(products.c.code).offset(offset).limit(limit)).all()
    ladders: dict[int, list[tuple[int, int]]] = {r[0]: [] for r in rows}
    if ladders:
        tiers = conn.execute(
            select(product_tiers.c.product_id, product_tiers.c.min_qty, product_tiers.c.price_fen)
            .where(product_tiers.c.product_id.in_(list(ladders))).order_by(product_tiers.c.min_qty)
        )
        for pid, min_qty, price in tiers:
            ladders[pid].append((min_qty, price))
    out = [_product(r, ladders[r[0]]) for r in rows]
    if out:
        by_id = {p.id: p for p in out}
        for pid, name, stock in conn.execute(
            select(product_variants.c.product_id, product_variants.c.name, product_variants.c.stock)
            .where(product_variants.c.product_id.in_(list(by_id)))
            .order_by(product_variants.c.product_id, product_variants.c.position, product_variants.c.id)
        ):
            by_id[pid].variants.append(Variant(name, stock))
    return out


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---- writing ---------------------------------------------------------------------------------

def create_product(conn: Connection, data: dict[str, Any], now: datetime) -> Product:
    if conn.execute(select(products.c.id).where(products.c.code == data["code"])).first():
        raise DuplicateCode(data["code"])
    values = {k: v for k, v in data.items() if k not in ("tiers", "variants")}
    values.setdefault("description", "")
    values.setdefault("category", "")
    values.setdefault("stock", 0)
    values.setdefault("active", True)
    pid = conn.execute(insert(products).values(**values, created_at=now, updated_at=now)).inserted_primary_key[0]
    _replace_ladder(conn, pid, data.get("tiers") or [])
    if data.get("variants"):
        _replace_variants(conn, pid, data["variants"])
    return get_product_by_id(conn, pid)


def update_product(conn: Connection, code: str, data: dict[str, Any], now: datetime) -> Product | None:
    """PATCH semantics: only the given fields change. None when there is no such product."""
    current = get_product(conn, code)
    if current is None:
        return None
    data = {k: v for k, v in data.items() if k != "code"}
    price = data.get("price_fen", current.price_fen)
    ladder = data.get("tiers", current.ladder)
    try:
        validate_ladder(ladder, price)
    except PriceRuleError as e:
        raise ProductError("tiers", e.en) from None
    if current.variants and "stock" in data and "variants" not in data:
        raise ProductError("stock", "is the sum of the variants' stock: change \"variants\" instead")
    values = {k: v for k, v in data.items() if k not in ("tiers", "variants")}
    # The product's row first: every stock move locks it before a variant's (take_stock), so an
    # update here waits for moves in flight and they wait for it.
    conn.execute(update(products).where(products.c.id == current.id).values(**values, updated_at=now))
    if "tiers" in data:
        _replace_ladder(conn, current.id, data["tiers"])
    if "variants" in data:
        _replace_variants(conn, current.id, data["variants"])
    return get_product_by_id(conn, current.id)


def upsert_product(conn: Connection, data: dict[str, Any], now: datetime) -> str:
    """Insert or update by code; returns "added" or "updated"."""
    if conn.execute(select(products.c.id).where(products.c.code == data["code"])).first() is None:
        create_product(conn, data, now)
        return "added"
    update_product(conn, data["code"], data, now)
    return "updated"


def _replace_ladder(conn: Connection, product_id: int, ladder: list[tuple[int, int]]) -> None:
    conn.execute(delete(product_tiers).where(product_tiers.c.product_id == product_id))
    if ladder:
        conn.execute(
            insert(product_tiers),
            [{"product_id": product_id, "min_qty": q, "price_fen": p} for q, p in ladder],
        )


def _replace_variants(conn: Connection, product_id: int, variants: list[tuple[str, int]]) -> None:
    """The variants become exactly these (matched by name, case-insensitively: a kept name keeps its
    row, with the new stock); the product's stock becomes their sum. An empty list removes them all
    and leaves the product's stock as it stands."""
    have = {variant_key(name): vid for vid, name in conn.execute(
        select(product_variants.c.id, product_variants.c.name).where(product_variants.c.product_id == product_id)
    )}
    keep = set()
    for position, (name, stock) in enumerate(variants):
        vid = have.get(variant_key(name))
        if vid is None:
            conn.execute(insert(product_variants).values(product_id=product_id, name=name, position=position, stock=stock))
        else:
            keep.add(vid)
            conn.execute(update(product_variants).where(product_variants.c.id == vid)
                         .values(name=name, position=position, stock=stock))
    gone = [vid for vid in have.values() if vid not in keep]
    if gone:
        conn.execute(delete(product_variants).where(product_variants.c.id.in_(gone)))
    if variants:
        conn.execute(update(products).where(products.c.id == product_id).values(stock=sum(s for _, s in variants)))


def take_stock(conn: Connection, product_id: int, qty: int, variant: str = "") -> bool:
    """Atomically take qty pieces (of one variant, when named); False (and nothing taken) when fewer are left.

    Conditional UPDATEs checked by their rowcount: the database decides, so two processes can
    never both take the last piece (no read-modify-write). With a variant the product's row goes
    first (its stock is the sum, and locking it first orders every stock move of one product the
    same way), then the variant's; if the variant has too few, the product's pieces go back.
    """
    if not variant:
        return _TAKE_PLAIN.rowcount(conn, {"product_id": product_id, "qty": qty}) == 1
    if not _TAKE_STOCK.rowcount(conn, {"product_id": product_id, "qty": qty}) == 1:
        return False
    if _TAKE_VARIANT.rowcount(conn, {"product_id": product_id, "name": variant, "qty": qty}) == 1:
        return True
    _RETURN_STOCK.rowcount(conn, {"product_id": product_id, "qty": qty})
    return False


_TAKE_STOCK = Prepared(
    update(products)
    .where(and_(products.c.id == bindparam("product_id"), products.c.stock >= bindparam("qty")))
    .values(stock=products.c.stock - bindparam("qty"))
)


# Without a variant only from a product that has none: its stock is theirs to hand out.
_NO_VARIANTS = ~exists().where(product_variants.c.product_id == products.c.id)
_TAKE_PLAIN = Prepared(
    update(products)
    .where(and_(products.c.id == bindparam("product_id"), products.c.stock >= bindparam("qty"), _NO_VARIANTS))
    .values(stock=products.c.stock - bindparam("qty"))
)
_RETURN_PLAIN = Prepared(
    update(products)
    .where(and_(products.c.id == bindparam("product_id"), _NO_VARIANTS))
    .values(stock=products.c.stock + bindparam("qty"))
)
_TAKE_VARIANT = Prepared(
    update(product_variants)
    .where(and_(
        product_variants.c.product_id == bindparam("product_id"),
        product_variants.c.name == bindparam("name"),
        product_variants.c.stock >= bindparam("qty"),
    ))
    .values(stock=product_variants.c.stock - bindparam("qty"))
)
_RETURN_STOCK = Prepared(
    update(products).where(products.c.id == bindparam("product_id")).values(stock=products.c.stock + bindparam("qty"))
)
_RETURN_VARIANT = Prepared(
    update(product_variants)
    .where(product_variants.c.product_id == bindparam("product_id"), product_variants.c.name == bindparam("name"))
    .values(stock=product_variants.c.stock + bindparam("qty"))
)


def return_stock(conn: Connection, product_id: int, qty: int, variant: str = "") -> None:
    """Give qty pieces back (to the variant, when named; product row first, as in take_stock).
    A variant the owner has since removed takes nothing back, and neither does the product; nor
    does a product that got variants after these pieces were taken without one (no size to go to)."""
    if not variant:
        _RETURN_PLAIN.rowcount(conn, {"product_id": product_id, "qty": qty})
        return
    _RETURN_STOCK.rowcount(conn, {"product_id": product_id, "qty": qty})
    if _RETURN_VARIANT.rowcount(conn, {"product_id": product_id, "name": variant, "qty": qty}) != 1:
        _RETURN_STOCK.rowcount(conn, {"product_id": product_id, "qty": -qty})


def stock_left(conn: Connection, product_id: int, variant: str = "") -> int:
    if variant:
        left = conn.execute(select(product_variants.c.stock).where(
            product_variants.c.product_id == product_id, product_variants.c.name == variant)).scalar()
        return left or 0
    return conn.execute(select(products.c.stock).where(products.c.id == product_id)).scalar_one()


def lock_product(conn: Connection, product_id: int) -> None:
    """Hold the product's row until the transaction ends (PostgreSQL; a SQLite write transaction is
    already exclusive). Group-buy joins, leaves, settlements and waitlist promotions take it first,
    before the group buy's own row, in the same order as every stock move (take_stock)."""
    if conn.dialect.name == "postgresql":
        _LOCK_PRODUCT.all(conn, {"product_id": product_id})


_LOCK_PRODUCT = Prepared(select(products.c.id).where(products.c.id == bindparam("product_id")).with_for_update())


def find_variant(product: Product, text: str) -> tuple[Variant | None, list[str]]:
    """The variant a member typed (exactly, or the one name it begins: `42` for `42码`), else
    (None, the nearest names for a typo)."""
    exact = product.variant(text)
    if exact is not None:
        return exact, []
    key = variant_key(text)
    starting = [v for v in product.variants if variant_key(v.name).startswith(key)]
    if len(starting) == 1:
        return starting[0], []
    by_key = {variant_key(v.name): v.name for v in product.variants}
    return None, [by_key[k] for k in difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.5)]
