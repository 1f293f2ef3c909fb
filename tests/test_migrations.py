"""The migrations and storage/tables.py describe the same schema, on both databases; each migration
is safe on a database that already holds rows."""
import itertools
import os
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from conftest import PG_SKIP, PG_URL
from helpers import T0, Chat, FakeClock
from storage.db import Database
from storage.migrate import upgrade
from storage.tables import groupbuys, metadata

_names = itertools.count()


def differences(db: Database) -> list:
    """What alembic's autogenerate would write to bring the migrated database to storage/tables.py.

    Types and nullability are compared. Server defaults are not (compare_server_default stays off):
    the database hands back its own rendering of a default ('zh'::character varying on PostgreSQL,
    "'zh'" on SQLite), which alembic's own documentation calls unreliable to compare; the migrations
    that add them are tested for their effect on existing rows instead (below)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_the_migrated_database_is_exactly_the_tables_module(db):
    assert differences(db) == []


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path, pg_admin):
    """A database with no tables at all (not the migrated template)."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/empty.db")
        yield db
        db.dispose()
        return
    if pg_admin is None:
        pytest.skip(PG_SKIP)
    name = f"tuanbot_m_{os.getpid()}_{next(_names)}"
    with pg_admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield db
    db.dispose()
    with pg_admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_group_buy_made_before_0003_speaks_chinese_afterwards_and_still_works(empty_db):
    db = empty_db
    upgrade(db, "0001")
    with db.begin() as conn:  # a product and a group buy as the first schema stored them, without a language
        conn.execute(text(
            "INSERT INTO products (code, name, description, category, price_fen, stock, active, created_at, updated_at) "
            "VALUES ('A12', '潮流男鞋', '', '', 19900, 10, :yes, :now, :now)"
        ), {"yes": True, "now": T0.replace(tzinfo=None)})
        product = conn.execute(text("SELECT id FROM products")).one()
        conn.execute(text(
            "INSERT INTO groupbuys (group_id, product_id, basis, tiers, deadline, status, created_by, created_at) "
            "VALUES ('g1', :p, 'people', '[{\"threshold\": 1, \"price_fen\": 15000}]', :deadline, 'open', 'boss', :now)"
        ), {"p": product.id, "deadline": (T0 + timedelta(hours=2)).replace(tzinfo=None), "now": T0.replace(tzinfo=None)})
    upgrade(db)
    with db.read() as conn:
        assert conn.execute(select(groupbuys.c.lang)).scalar_one() == "zh"
    assert differences(db) == []
    chat = Chat(db, FakeClock())
    assert "参团成功" in chat.send("参团 1 2", user="amy")
    assert "成团啦" in chat.send("结束 1", user="boss", role="owner")
