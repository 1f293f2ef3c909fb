"""Catalog import: a CSV or JSON file of products upserted by code, each row all or nothing, with a report."""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from catalog.products import ProductError, upsert_product, validate_product
from catalog.search import tidy_indexes
from pricing.groupbuy import PriceRuleError
from pricing.money import parse_yuan
from pricing.tiers import ladder_to_json, parse_ladder_text
from storage.db import Database
from storage.tables import product_tiers, product_variants, products

CSV_COLUMNS = ("code", "name", "description", "category", "price", "market_price", "stock", "active", "tiers")
# Only these must be in the header; a column left out is not given (a new product takes its default,
# an existing one keeps its value).
REQUIRED_COLUMNS = ("code", "name", "price", "stock")
OPTIONAL_COLUMNS = ("variants",)  # `39码:100;40码:200`; a file without the column is read as before
# Rows per transaction: a batch commits a few hundred at once (one transaction per row would crawl
# over 50,000 rows) while never holding SQLite's single write lock for long, so a running server
# only waits a moment. Rows are validated before the batch opens; a rejected row never reaches it.
BATCH_ROWS = 500
# Rows written by one import from which the search indexes are tidied afterwards (catalog.search.tidy_indexes,
# whose work grows with the whole index, not with the import, so small imports skip it).
TIDY_AFTER_ROWS = 1000

_TRUE = {"true", "1", "yes", ""}  # SPEC section 5: an empty `active` is true
_FALSE = {"false", "0", "no"}
_WHOLE = re.compile(r"^\d{1,9}$")
_NEGATIVE = re.compile(r"^-\s*\d+$")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
# What a CSV column is called when validate_product names the field it maps to.
_CSV_FIELD = {"price_fen": "price", "market_price_fen": "market_price"}

Progress = Callable[[int, int], None]


class ImportFailed(Exception):
    """The file as a whole cannot be used (missing, not UTF-8, not CSV or JSON, bad header): one sentence."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (file line, reason naming the field)


class _Rejected(Exception):
    """One row cannot be imported; the message is the reason shown next to its line."""


@dataclass
class _Row:
    line: int
    label: str  # "" for CSV; "item N: " for JSON, so the reason says which list item it was
    raw: Any
    to_product: Callable[[Any], dict[str, Any]]


def import_file(db: Database, path: str | Path, now: datetime, progress: Progress | None = None) -> ImportReport:
    """Upsert every product of a CSV or JSON file (SPEC section 5) by code.

    A row that fails validation is reported by its file line and writes nothing; the other rows land.
    A code that appears a second time in the same file is rejected (naming the line it first appeared
    on): the file most likely holds a mistake, and silently keeping either row would hide it.
    """
    rows = _read_rows(Path(path))
    total = len(rows)
    report = ImportReport()
    seen: dict[str, int] = {}
    if progress:
        progress(0, total)
    for start in range(0, total, BATCH_ROWS):
        batch = [item for row in rows[start:start + BATCH_ROWS] if (item := _prepare(row, seen, report))]
        if batch:
            with db.begin() as conn:
                _write_batch(conn, batch, now, report)
        if progress:
            progress(min(start + BATCH_ROWS, total), total)
    report.rejected.sort()
    if report.added + report.updated >= TIDY_AFTER_ROWS:
        tidy_indexes(db)
    return report


def _prepare(row: _Row, seen: dict[str, int], report: ImportReport) -> tuple[_Row, dict[str, Any]] | None:
    """The row's validated product, or None after recording why it is rejected (before any write)."""
    try:
        data = row.to_product(row.raw)
        first = seen.get(data["code"])
        if first is not None:
            raise _Rejected(f"code: {data['code']} already appears on line {first} of this file")
    except _Rejected as e:
        report.rejected.append((row.line, f"{row.label}{e}"))
        return None
    seen[data["code"]] = row.line
    return row, data


# ---- writing: set-based per batch, row by row where a row may still be refused ----------------

_NEW_DEFAULTS = {"description": "", "category": "", "market_price_fen": None, "stock": 0, "active": True}


def _write_batch(conn: Connection, batch: list[tuple[_Row, dict[str, Any]]], now: datetime, report: ImportReport) -> None:
    """Writes validated rows. Row-at-a-time upsert_product costs about ten round trips a row (minutes
    for 50,000 rows on PostgreSQL), so the batch goes in a few multi-row statements; rows the
    database might still refuse go through upsert_product one by one, each in its own savepoint."""
    try:
        with conn.begin_nested():
            added, updated, careful = _bulk_upsert(conn, batch, now)
    except IntegrityError:  # another writer added one of these codes meanwhile: sort it out row by row
        added, updated, careful = 0, 0, batch
    report.added += added
    report.updated += updated
    for row, data in careful:
        _upsert_one(conn, row, data, now, report)


def _bulk_upsert(conn: Connection, batch: list[tuple[_Row, dict[str, Any]]], now: datetime):
    by_code = {data["code"]: (row, data) for row, data in batch}
    ids = dict(conn.execute(select(products.c.code, products.c.id).where(products.c.code.in_(_inline(list(by_code))))).all())
    # A new price that keeps the stored ladder must stay above every tier of it; upsert_product
    # refuses such a row with the sentence naming the tier, so those rows go its way.
    keeps_ladder = [ids[c] for c, (_, d) in by_code.items() if c in ids and "tiers" not in d]
    top_tier = dict(
        conn.execute(
            select(product_tiers.c.product_id, func.max(product_tiers.c.price_fen))
            .where(product_tiers.c.product_id.in_(_inline(keeps_ladder)))
            .group_by(product_tiers.c.product_id)
        ).all()
    ) if keeps_ladder else {}
    careful = [(r, d) for c, (r, d) in by_code.items() if top_tier.get(ids.get(c), 0) >= d["price_fen"]]
    # Variants, and stock of a product that has them (its stock is their sum), go through
    # upsert_product, which keeps the two in step or refuses the row naming the field.
    with_variants = set(conn.execute(
        select(product_variants.c.product_id).distinct().where(product_variants.c.product_id.in_(_inline(list(ids.values()))))
    ).scalars()) if ids else set()
    skip = {d["code"] for _, d in careful}
    careful += [(r, d) for c, (r, d) in by_code.items()
                if c not in skip and ("variants" in d or ids.get(c) in with_variants)]
    skip = {d["code"] for _, d in careful}
    # In code order: the SQLite search indexes are keyed in code order (catalog/search.py), and FTS5
    # writes out what it holds whenever a key arrives out of order, a small segment each time.
    new = sorted((d for c, (_, d) in by_code.items() if c not in ids and c not in skip), key=lambda d: d["code"])
    old = sorted((d for c, (_, d) in by_code.items() if c in ids and c not in skip), key=lambda d: d["code"])
    if new:
        values = [{**_NEW_DEFAULTS, **_columns(d), "created_at": now, "updated_at": now} for d in new]
        ids.update(conn.execute(insert(products).returning(products.c.code, products.c.id), values).all())
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for d in old:
        cols = _columns(d)
        cols.pop("code")
        by_keys.setdefault(tuple(sorted(cols)), []).append({"_id": ids[d["code"]], **{f"_{k}": v for k, v in cols.items()}})
    for keys, params in by_keys.items():
        stmt = update(products).where(products.c.id == bindparam("_id"))
        conn.execute(stmt.values({**{k: bindparam(f"_{k}") for k in keys}, "updated_at": now}), params)
    relaid = [d for d in old + new if "tiers" in d]
    if relaid:
        conn.execute(delete(product_tiers).where(product_tiers.c.product_id.in_(_inline([ids[d["code"]] for d in old if "tiers" in d]))))
        tiers = [{"product_id": ids[d["code"]], "min_qty": q, "price_fen": p} for d in relaid for q, p in d["tiers"]]
        if tiers:
            conn.execute(insert(product_tiers), tiers)
    return len(new), len(old), careful


def _inline(values: list[Any]):
    """An IN list rendered as literals: PostgreSQL then hashes the constant list; as 500 bound
    parameters in a prepared statement it compared every row against each (0.8 s a batch)."""
    return bindparam("values", values, expanding=True, literal_execute=True)


def _columns(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("tiers", "variants")}


def _upsert_one(conn: Connection, row: _Row, data: dict[str, Any], now: datetime, report: ImportReport) -> None:
    try:
        with conn.begin_nested():
            outcome = upsert_product(conn, data, now)
    except ProductError as e:  # e.g. a new price not above the product's stored ladder
        report.rejected.append((row.line, f"{row.label}{_field_reason(e, row)}"))
        return
    except IntegrityError:  # another process added the same code between the check and the insert
        report.rejected.append(
            (row.line, f"{row.label}code: {data['code']} was written by someone else at the same time; import again")
        )
        return
    if outcome == "added":
        report.added += 1
    else:
        report.updated += 1


def _field_reason(e: ProductError, row: _Row) -> str:
    name = _CSV_FIELD.get(e.field, e.field) if not row.label else e.field
    return f"{name}: {e.message}"


# ---- reading the file ------------------------------------------------------------------------

def _read_rows(path: Path) -> list[_Row]:
    if not path.exists():
        raise ImportFailed(f"{path}: no such file")
    if not path.is_file():
        raise ImportFailed(f"{path}: is not a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls", ".numbers", ".ods"):
        raise ImportFailed(f"{path}: spreadsheet files are not read; save it as CSV (UTF-8) first")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImportFailed(f"{path}: cannot be read: {e.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:  # typically GBK from a Chinese Excel "CSV" export
        line = data[: e.start].count(b"\n") + 1
        raise ImportFailed(f"{path}: is not UTF-8 text (line {line}); save it as CSV UTF-8 or JSON") from None
    if not text.strip():
        raise ImportFailed(f"{path}: is empty")
    if suffix == ".json" or (suffix != ".csv" and text.lstrip()[0] in "[{"):
        return _json_rows(path, text)
    return _csv_rows(path, text)


def _csv_rows(path: Path, text: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as e:
        raise ImportFailed(f"{path}: the header (line 1) is not CSV: {e}") from None
    names = [h.strip().lower() for h in header]
    index = _csv_header(path, names)
    rows: list[_Row] = []
    line = reader.line_num + 1  # where the next record starts (a quoted cell may span lines)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:  # a broken quote: this record is rejected, the reader goes on
            rows.append(_Row(line, "", str(e), _csv_unreadable))
        else:
            if any(c.strip() for c in cells):
                rows.append(_Row(line, "", (cells, len(names), index), _csv_product))
        line = reader.line_num + 1
    return rows


def _csv_header(path: Path, names: list[str]) -> dict[str, int]:
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ImportFailed(
            f"{path}: the header (line 1) lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"it needs {','.join(REQUIRED_COLUMNS)} (and may have {','.join(c for c in CSV_COLUMNS if c not in REQUIRED_COLUMNS)})"
        )
    known = CSV_COLUMNS + OPTIONAL_COLUMNS
    unknown = [n for n in names if n and n not in known]
    if unknown:
        raise ImportFailed(f"{path}: the header (line 1) has the unknown column {unknown[0]!r}; the columns are {','.join(known)}")
    twice = [c for c in known if names.count(c) > 1]
    if twice:
        raise ImportFailed(f"{path}: the header (line 1) has the column {twice[0]} twice")
    return {c: names.index(c) for c in known if c in names}


def _csv_product(raw: tuple[list[str], int, dict[str, int]]) -> dict[str, Any]:
    cells, width, index = raw
    # Spreadsheets pad rows with empty cells; only real extra values are an error.
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        raise _Rejected(f"has {len(cells)} cells but the header has {width}")
    cell = {c: (cells[i].strip() if i < len(cells) else "") for c, i in index.items()}
    product: dict[str, Any] = {
        "code": cell["code"],
        "name": cell["name"],
        "price_fen": _yuan(cell["price"], "price", required=True),
    }
    # A column left out of the header is not given: a new product takes its default, an existing one keeps it.
    for column in ("description", "category"):
        if column in cell:
            product[column] = cell[column]
    if "market_price" in cell:
        product["market_price_fen"] = _yuan(cell["market_price"], "market_price", required=False)
    if "active" in cell:
        product["active"] = _active(cell["active"])
    # An empty stock leaves an existing product's stock alone (a price list without stock
    # numbers must not wipe the inventory); a new product starts with 0.
    if cell["stock"]:
        if _NEGATIVE.match(cell["stock"]):
            raise _Rejected("stock must be 0 or more")
        if not _WHOLE.match(cell["stock"]):
            raise _Rejected(f"stock: {cell['stock']!r} is not a whole number of pieces")
        product["stock"] = int(cell["stock"])
    if "tiers" in cell:
        try:
            product["tiers"] = ladder_to_json(parse_ladder_text(cell["tiers"], product["price_fen"]))
        except PriceRuleError as e:
            raise _Rejected(f"tiers: {e.en}") from None
    if cell.get("variants"):  # empty: an existing product's variants stay as they are
        product["variants"] = _variants_text(cell["variants"])
    try:
        return validate_product(product)
    except ProductError as e:
        raise _Rejected(f"{_CSV_FIELD.get(e.field, e.field)}: {e.message}") from None


def _variants_text(text: str) -> list[dict[str, Any]]:
    """`39码:100;40码:200` (full-width `：` and `；` too) -> [{"name": "39码", "stock": 100}, …]."""
    out = []
    for part in text.replace("；", ";").replace("：", ":").split(";"):
        if not part.strip():
            continue
        name, colon, stock = part.rpartition(":")
        if not colon or not _WHOLE.match(stock.strip()):
            raise _Rejected(f"variants: {part.strip()!r} is not NAME:STOCK (write 39码:100;40码:200)")
        out.append({"name": name.strip(), "stock": int(stock.strip())})
    return out


def _csv_unreadable(error: str) -> dict[str, Any]:
    raise _Rejected(f"is not valid CSV ({error}); check its quotes")


def _yuan(text: str, column: str, *, required: bool) -> int | None:
    if not text:
        if required:
            raise _Rejected(f"{column}: is required")
        return None
    fen = parse_yuan(text)
    if fen is None:
        raise _Rejected(f"{column}: {text!r} is not an amount in yuan (write 199 or 199.00)")
    if fen <= 0:
        raise _Rejected(f"{column}: must be above zero")
    return fen


def _active(text: str) -> bool:
    word = text.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _Rejected(f"active: {text!r} is not true/false, 1/0 or yes/no")


def _json_rows(path: Path, text: str) -> list[_Row]:
    """A JSON list of products; each item keeps the file line it starts on for the report."""
    if not text.lstrip().startswith("["):
        raise ImportFailed(f'{path}: a JSON catalog must be a list of products: [{{"code": "A12", …}}, …]')
    rows: list[_Row] = []
    try:
        for n, (line, item) in enumerate(_json_list_items(text), start=1):
            rows.append(_Row(line, f"item {n}: ", item, _json_product))
    except json.JSONDecodeError as e:
        raise ImportFailed(f"{path}: is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    return rows


def _json_list_items(text: str) -> Iterator[tuple[int, Any]]:
    """Decode a top-level list one item at a time (json's own decoder), yielding (line, item)."""
    decoder = json.JSONDecoder()
    ws = _JSON_SPACE
    pos = ws.match(text, ws.match(text).end() + 1).end()  # past the opening "["
    line, counted = 1, 0
    if text.startswith("]", pos):
        end = pos + 1
    else:
        while True:
            line += text.count("\n", counted, pos)
            counted = pos
            item, pos = decoder.raw_decode(text, pos)
            yield line, item
            pos = ws.match(text, pos).end()
            if text.startswith(",", pos):
                pos = ws.match(text, pos + 1).end()
                continue
            if text.startswith("]", pos):
                end = pos + 1
                break
            raise json.JSONDecodeError("expected ',' or ']'", text, pos)
    if text[end:].strip():
        raise json.JSONDecodeError("extra data after the list", text, ws.match(text, end).end())


def _json_product(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _Rejected('must be an object like {"code": "A12", "name": …, "price_fen": 19900}')
    try:
        return validate_product(item)
    except ProductError as e:
        raise _Rejected(f"{e.field}: {e.message}") from None
