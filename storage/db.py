"""Engines and the unit of work: one short transaction per message, on SQLite or PostgreSQL."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Connection, Engine, make_url


class Database:
    """One database: its engine, and `begin()`, the unit of work every data function runs inside.

    Data functions take the Connection and never commit; `begin()` commits when the block ends
    and rolls back whole when it raises.
    """

    def __init__(self, url: str, *, pool_size: int = 10):
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.engine = _make_engine(url, pool_size)
        # On a SQLite file reads get an engine (and pool) of their own whose transactions start deferred;
        # an in-memory database exists once per engine, so it reads through the one engine.
        database = make_url(url).database
        on_file = self.is_sqlite and database not in (None, "", ":memory:")
        self._reader = _make_engine(url, pool_size, read_only=True) if on_file else self.engine
        # SQLite takes one writer at a time. Waiting on a Python lock is fair and costs nothing,
        # where SQLite's busy handler sleeps and polls (bad for p99 under 32 connections);
        # other processes still queue on the file lock through busy_timeout.
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed at the end of the block, rolled back if it raises."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock:
            with self.engine.begin() as conn:
                yield conn

    def writer_busy(self) -> bool:
        """Whether a thread of this process holds the SQLite write lock now (always False on PostgreSQL)."""
        return self._write_lock is not None and self._write_lock.locked()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite it takes no write lock)."""
        with self._reader.begin() as conn:
            yield conn

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
        self._reader.dispose()


class _SQLiteWriter(SQLiteDialect_pysqlite):
    """pysqlite whose transactions take the write lock up front (BEGIN IMMEDIATE), so two writers
    never deadlock upgrading a read lock.

    A dialect rather than SQLAlchemy's "begin" event recipe: any Connection event listener makes
    every statement go through four event dispatches, 13 % of a message's CPU (bench/).
    """

    supports_statement_cache = True  # a subclass must say so, or SQLAlchemy compiles every statement anew
    begin_sql = "BEGIN IMMEDIATE"

    def do_begin(self, dbapi_connection) -> None:
        # isolation_level None (set on connect) keeps the driver from starting transactions itself.
        dbapi_connection.execute(self.begin_sql)


class _SQLiteReader(_SQLiteWriter):
    """Read-only transactions start deferred and never block writers (WAL)."""

    supports_statement_cache = True
    begin_sql = "BEGIN"


registry.register("sqlite.tuanbot_writer", __name__, "_SQLiteWriter")
registry.register("sqlite.tuanbot_reader", __name__, "_SQLiteReader")


def _make_engine(url: str, pool_size: int, *, read_only: bool = False) -> Engine:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
    driver = "sqlite+tuanbot_reader" if read_only else "sqlite+tuanbot_writer"
    engine = create_engine(u.set(drivername=driver), connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_on_connect(dbapi_conn, _record):
        # The dialect's do_begin decides how each transaction starts, not the driver.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if u.database and u.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def mask_url(url: str) -> str:
    """The URL with its password hidden, for logs."""
    return make_url(url).render_as_string(hide_password=True)
