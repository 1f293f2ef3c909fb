"""Fixtures: every storage test runs on SQLite and, when TUANBOT_TEST_POSTGRES_URL is set, on PostgreSQL.

Each test gets its own database: a copy of a migrated SQLite template file, or a PostgreSQL
database cloned from a migrated template (CREATE DATABASE … TEMPLATE) that no other test uses at the
same time; once the test is over, it is emptied back to the template's state and handed to a later test
(pg_pool.py), or dropped if the test changed its schema.
"""
from __future__ import annotations

import itertools
import os
import shutil

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.settings import load_settings
from helpers import ADMIN_TOKEN, Chat, FakeClock
from pg_pool import PgPool
from storage.db import Database
from storage.migrate import upgrade

PG_URL = os.environ.get("TUANBOT_TEST_POSTGRES_URL")
PG_SKIP = "TUANBOT_TEST_POSTGRES_URL is not set: the PostgreSQL half of this test is skipped"
_counter = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_admin():
    if not PG_URL:
        yield None
        return
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_admin):
    if pg_admin is None:
        yield None
        return
    name = f"tuanbot_tpl_{os.getpid()}"
    with pg_admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    upgrade(db)
    db.dispose()
    yield name
    with pg_admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_pool(pg_admin, pg_template):
    if pg_admin is None:
        yield None
        return
    pool = PgPool(pg_admin, PG_URL, pg_template)
    yield pool
    pool.close()


def _fresh_db(kind: str, tmp_path, sqlite_template, pg_admin, pg_template, *, migrated: bool = True,
              pool: PgPool | None = None):
    """A database of its own for one test: migrated (a copy of the template) or with no tables at all."""
    if kind == "sqlite":
        path = tmp_path / "test.db"
        if migrated:
            shutil.copy(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    if pg_admin is None:
        pytest.skip(PG_SKIP)
    if pool is not None:
        name = pool.take()
        db = Database(pool.url(name))
        yield db
        db.dispose()
        pool.give_back(name)
        return
    name = f"tuanbot_t_{os.getpid()}_{next(_counter)}"
    with pg_admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"' if migrated else f'CREATE DATABASE "{name}"'))
    db = Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield db
    db.dispose()
    with pg_admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path, sqlite_template, pg_admin, pg_template, pg_pool):
    """A migrated, empty database of each kind."""
    yield from _fresh_db(request.param, tmp_path, sqlite_template, pg_admin, pg_template, pool=pg_pool)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path, sqlite_template, pg_admin, pg_template):
    """A database of each kind with no tables at all: for migrating step by step."""
    yield from _fresh_db(request.param, tmp_path, sqlite_template, pg_admin, pg_template, migrated=False)


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template):
    """SQLite only: for tests of behaviour that does not depend on the database."""
    yield from _fresh_db("sqlite", tmp_path, sqlite_template, None, None)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def chat(db, clock):
    return Chat(db, clock)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def http(db, clock):
    """An HTTP client on the real app over this test's database; admin calls take helpers.ADMIN_AUTH."""
    app = create_app(load_settings(database_url=db.url, admin_token=ADMIN_TOKEN), db=db, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        yield client
