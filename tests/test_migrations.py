"""The migrations and storage/tables.py describe the same schema, on both databases; each migration
is safe on a database that already holds rows."""
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from helpers import T0, Chat, FakeClock, add_product
from storage.db import Database
from storage.migrate import upgrade
from storage.tables import groupbuys, made_outside_metadata, metadata


def differences(db: Database) -> list:
    """What alembic's autogenerate would write to bring the migrated database to storage/tables.py.

    Types and nullability are compared. Server defaults are not (compare_server_default stays off):
    the database hands back its own rendering of a default ('zh'::character varying on PostgreSQL,
    "'zh'" on SQLite), which alembic's own documentation calls unreliable to compare; the migrations
    that add them are tested for their effect on existing rows instead (below)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            # product search's text indexes (FTS5 tables, expression GIN indexes) live outside the metadata
            "include_name": lambda name, type_, parent: not made_outside_metadata(name),
        })
        return compare_metadata(context, metadata)


def test_the_migrated_database_is_exactly_the_tables_module(db):
    assert differences(db) == []


def test_a_group_buy_made_before_0003_speaks_chinese_afterwards_and_still_works(empty_db):
    db = empty_db
    upgrade(db, "0001")
    product = add_product(db, stock=10)
    with db.begin() as conn:  # a group buy as the first schema stored it, without a language
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


def test_a_message_queued_before_0006_reaches_the_web_page_afterwards(empty_db):
    from alembic.script import ScriptDirectory

    from bot.jobs import dispatch_outbox
    from catalog.groups import put_group
    from helpers import SHANGHAI
    from storage.migrate import alembic_config
    from storage.outbox import enqueue
    from storage.webchat import recent_messages

    db = empty_db
    before = ScriptDirectory.from_config(alembic_config(db.url)).get_revision("0006").down_revision
    upgrade(db, before)
    with db.begin() as conn:
        put_group(conn, "demo", {"push_target": {"kind": "web"}}, T0)
        enqueue(conn, "demo", "已经在队列里的推送", T0, source="test")
    upgrade(db)
    assert differences(db) == []
    dispatch_outbox(db, FakeClock(), secret=None, quiet=None, tz=SHANGHAI)
    with db.read() as conn:
        assert [m.text for m in recent_messages(conn, "demo")] == ["已经在队列里的推送"]
