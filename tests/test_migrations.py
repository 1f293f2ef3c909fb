"""The migrations and storage/tables.py describe the same schema, on both databases; each migration
is safe on a database that already holds rows."""
from datetime import timedelta

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


def test_0004_on_a_filled_database_keeps_orders_and_joins_and_then_sells_in_sizes(empty_db):
    db = empty_db
    upgrade(db, "0003")
    now = T0.replace(tzinfo=None)
    with db.begin() as conn:  # a product, an order and a group buy with two members, as 0003 stored them
        conn.execute(text(
            "INSERT INTO products (code, name, description, category, price_fen, stock, active, created_at, updated_at) "
            "VALUES ('A12', '潮流男鞋', '', '', 19900, 10, :yes, :now, :now)"), {"yes": True, "now": now})
        pid = conn.execute(text("SELECT id FROM products")).scalar_one()
        conn.execute(text(
            "INSERT INTO orders (group_id, user_id, product_id, quantity, unit_price_fen, total_fen, price_source, "
            "status, created_at) VALUES ('g1', 'amy', :p, 1, 19900, 19900, 'price', 'pending', :now)"),
            {"p": pid, "now": now})
        conn.execute(text(
            "INSERT INTO groupbuys (group_id, product_id, basis, tiers, deadline, status, created_by, created_at, lang) "
            "VALUES ('g1', :p, 'people', '[{\"threshold\": 2, \"price_fen\": 15000}]', :deadline, 'open', 'boss', "
            ":now, 'zh')"), {"p": pid, "deadline": (T0 + timedelta(hours=2)).replace(tzinfo=None), "now": now})
        for no, user in enumerate(("amy", "bob"), start=1):
            conn.execute(text(
                "INSERT INTO groupbuy_participants (groupbuy_id, user_id, quantity, join_no, joined_at) "
                "VALUES (1, :u, 2, :no, :now)"), {"u": user, "no": no, "now": now})
            conn.execute(text(
                "INSERT INTO groupbuy_events (groupbuy_id, kind, user_id, quantity, created_at) "
                "VALUES (1, 'joined', :u, 2, :now)"), {"u": user, "now": now})
        conn.execute(text("UPDATE products SET stock = 5"))
    upgrade(db)
    assert differences(db) == []
    chat = Chat(db, FakeClock())
    assert "D1 潮流男鞋 ×1" in chat.send("我的订单", user="amy")  # the old order: no variant
    assert "已把团购 #1 潮流男鞋 的数量从 2 改为 3" in chat.send("参团 1 3", user="amy")
    with db.begin() as conn:  # the owner now sells it in sizes (what PATCH /admin/products does)
        from catalog.products import update_product, validate_product
        update_product(conn, "A12", validate_product({"variants": [{"name": "42码", "stock": 4}]}, partial=True), T0)
    assert "跟团号 3" in chat.send("参团 1 42码 1", user="cat")
    assert "已取消订单 D1" in chat.send("取消 D1", user="amy")  # a piece with no size: it has nowhere to go back
    with db.read() as conn:
        assert conn.execute(text("SELECT stock FROM products")).scalar_one() == 3  # still the sum of the sizes
    assert "成团啦" in chat.send("结束 1", user="boss", role="owner")


def test_0011_drops_the_group_time_index_and_keeps_the_messages_counted(empty_db):
    """The index 0011 drops served nothing the covering one does not: the group's figures read the same rows."""
    from alembic import command
    from sqlalchemy import inspect

    from catalog.stats import Window, group_stats
    from helpers import SHANGHAI
    from storage.migrate import alembic_config

    def indexes() -> set[str]:
        with db.engine.connect() as conn:
            return {ix["name"] for ix in inspect(conn).get_indexes("inbound_messages")}

    db = empty_db
    upgrade(db, "0010")
    with db.begin() as conn:
        for i, sender in enumerate(["amy", "bob", "amy"]):
            conn.execute(text(
                "INSERT INTO inbound_messages (channel, msg_id, group_id, sender_id, kind, is_command, received_at) "
                "VALUES ('bridge', :m, 'g1', :s, 'text', :no, :at)"
            ), {"m": f"m{i}", "s": sender, "no": False, "at": (T0 - timedelta(hours=i + 1)).replace(tzinfo=None)})
    assert "ix_inbound_group_time" in indexes()
    upgrade(db)
    assert "ix_inbound_group_time" not in indexes() and "ix_inbound_group_kind_time" in indexes()
    assert differences(db) == []
    with db.read() as conn:
        figures = group_stats(conn, "g1", Window.last(T0, 7), SHANGHAI)
    assert (figures.messages, figures.active_members) == (3, 2)
    with db.engine.connect() as conn:  # and back
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
        conn.commit()
    assert "ix_inbound_group_time" in indexes()


def test_downgrading_to_the_first_revision_keeps_group_buys_joins_and_events(db):
    """Dropping groupbuys' columns on the way down (0012, 0004, 0003) must not copy the table on SQLite:
    dropping the old copy would delete every join and event through ON DELETE CASCADE."""
    from alembic import command

    from storage.migrate import alembic_config

    chat = Chat(db, FakeClock())
    add_product(db, stock=10)
    chat.send("开团 A12 2:150 截止 2h", user="boss", role="owner")
    chat.send("参团 1 1", user="amy")
    chat.send("参团 1 1", user="bob")

    def rows() -> tuple[int, int, int]:
        with db.read() as conn:
            return tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                         for t in ("groupbuys", "groupbuy_participants", "groupbuy_events"))

    before = rows()
    assert before == (1, 2, 3)
    with db.engine.connect() as conn:
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        conn.commit()
    assert rows() == before
