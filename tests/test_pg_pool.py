"""The pool of PostgreSQL test databases (pg_pool.py): a database handed out again holds what a fresh copy of
the template holds, whatever the test before did to its rows, sequences and connections; one whose schema
changed is dropped, not handed out."""
import threading

import pytest
from sqlalchemy import select, text

from conftest import PG_SKIP, PG_URL
from helpers import T0, add_product
from pg_pool import PgPool
from storage.db import Database
from storage.tables import member_totals_mark, products


@pytest.fixture
def pool(pg_admin, pg_template):
    if pg_admin is None:
        pytest.skip(PG_SKIP)
    pool = PgPool(pg_admin, PG_URL, pg_template)
    yield pool
    pool.close()


def state(db: Database) -> tuple:
    with db.read() as conn:
        return (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all(),
            [tuple(r) for r in conn.execute(select(member_totals_mark))],
            conn.execute(select(products.c.code)).scalars().all(),
        )


def test_a_database_given_back_is_handed_out_again_as_the_template_has_it(pool):
    name = pool.take()
    db = Database(pool.url(name))
    fresh = state(db)
    assert add_product(db).id == 1
    add_product(db, code="B1")
    with db.begin() as conn:
        conn.execute(member_totals_mark.update().values(through=T0))
    assert state(db) != fresh
    db.dispose()
    pool.give_back(name)

    assert pool.take() == name  # the same database, not a new copy
    db = Database(pool.url(name))
    assert state(db) == fresh
    assert add_product(db).id == 1  # the sequences start again
    db.dispose()
    pool.give_back(name)


def test_a_connection_the_test_left_in_a_transaction_is_ended_and_its_rows_do_not_stay(pool):
    name = pool.take()
    db = Database(pool.url(name))
    fresh = state(db)
    holding, release = threading.Event(), threading.Event()

    def hold():  # as a thread or a process a test started and did not stop would
        try:
            with db.engine.connect() as conn:
                conn.execute(text("LOCK TABLE products IN ACCESS EXCLUSIVE MODE"))
                holding.set()
                release.wait(30)
        except Exception:  # noqa: BLE001 - its connection is ended under it
            pass

    add_product(db)
    left = threading.Thread(target=hold)
    left.start()
    assert holding.wait(10)
    pool.give_back(name)  # not db.dispose(): the connection is still out
    release.set()
    left.join()
    db.dispose()

    assert pool.free == [name]
    db = Database(pool.url(name))
    assert state(db) == fresh
    db.dispose()


def test_a_database_whose_schema_changed_is_dropped_not_handed_out(pool, pg_admin):
    name = pool.take()
    db = Database(pool.url(name))
    with db.begin() as conn:
        conn.execute(text("ALTER TABLE products ADD COLUMN colour text"))
    db.dispose()
    pool.give_back(name)

    assert pool.free == []
    with pg_admin.connect() as c:
        assert c.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}).scalar_one() == 0
    other = pool.take()
    assert other != name
    pool.give_back(other)
