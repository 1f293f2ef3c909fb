"""Engines and the unit of work: one short transaction per message, on SQLite or PostgreSQL."""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Connection, Engine, RootTransaction, make_url
from sqlalchemy.exc import OperationalError

from storage.prepared import run_plain

log = logging.getLogger("tuanbot.db")

# Small and often: a checkpoint's fsync makes the writer's next commits wait in the kernel, the longer
# the more it copies (p99 against the interval: bench/README.md).
CHECKPOINT_EVERY_SECONDS = 0.1
# With checkpoints in the background, a commit only checkpoints itself once the WAL holds this many
# pages (~80 MB): a backstop for when the background thread cannot keep up, not the normal path.
BACKSTOP_CHECKPOINT_PAGES = 20_000
# How long a writer that may wait (never the event loop's) waits for another process's write lock.
BUSY_TIMEOUT_MS = 30_000
# PostgreSQL: a pooled connection is pinged (a round trip) at checkout only when it sat unused this long,
# not at every checkout as pool_pre_ping would, once per message (bench/README.md).
PING_AFTER_IDLE_SECONDS = 1.0


class Database:
    """One database: its engine, and `begin()`, the unit of work every data function runs inside.

    Data functions take the Connection and never commit; `begin()` commits when the block ends
    and rolls back whole when it raises.
    """

    def __init__(self, url: str, *, pool_size: int = 10):
        self.url = url
        # PostgreSQL: how many messages may use the database at once (bot/dispatch.py), so none waits for
        # the pool, which keeps up to twice as many more for everything else (admin, scheduler).
        self.pool_size = pool_size
        self.dialect = make_url(url).get_backend_name()
        self._writer_pragmas: dict[str, int] = {}
        self.engine = _make_engine(url, pool_size, pragmas=self._writer_pragmas)
        # On a SQLite file reads get an engine (and pool) of their own whose transactions start deferred;
        # an in-memory database exists once per engine, so it reads through the one engine.
        database = make_url(url).database
        on_file = self.is_sqlite and database not in (None, "", ":memory:")
        self._sqlite_file = database if on_file else None
        self._checkpointer: _Checkpointer | None = None
        self._reader = _make_engine(url, pool_size, read_only=True) if on_file else self.engine
        # SQLite takes one writer at a time. Waiting on a Python lock is fair and costs nothing,
        # where SQLite's busy handler sleeps and polls (bad for p99 under 32 connections);
        # other processes still queue on the file lock through busy_timeout.
        self._write_lock = threading.Lock() if self.is_sqlite else None
        # ...and since writers take turns anyway, a SQLite file is written through one connection,
        # held for the process's life and used by whichever thread holds the lock: a pool checkout
        # and return costs more than a chat message's INSERT and UPDATE together (bench/README.md).
        self._writer: Connection | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def begin(self, *, wait: bool = True) -> Iterator[Connection]:
        """A write transaction: committed at the end of the block, rolled back if it raises.

        `wait=False` (SQLite; for the event loop thread): raise WriterBusy at once, having done nothing,
        unless the write lock is free right now, in this process and in the file. The default waits:
        for this process's other writers, then for other processes up to the busy timeout."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        if not self._write_lock.acquire(blocking=wait):
            raise WriterBusy()
        try:
            if self._sqlite_file is None:  # in memory: the database lives in the engine's per-thread pool
                with self.engine.begin() as conn:
                    yield conn
                return
            if self._writer is None:
                self._writer = self.engine.connect()
                # It waits for other processes only in _begin_writer(wait=True), around its BEGIN.
                self._writer.connection.driver_connection.execute("PRAGMA busy_timeout=0")
            conn = self._writer
            try:
                with _begin_writer(conn, wait):
                    yield conn
            except BaseException:
                if conn.invalidated or conn.closed:  # a broken connection is not kept for the next writer
                    conn.close()
                    self._writer = None
                raise
        finally:
            self._write_lock.release()

    def _close_writer(self) -> None:
        if self._write_lock is None:
            return
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

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

    def start_background_checkpoints(self) -> None:
        """SQLite file: copy the WAL back into the database from a thread of its own, not in commits.

        SQLite's automatic checkpoint runs inside whichever commit crosses 1,000 WAL pages, with an
        fsync, on the thread that commits: on the server that is the event loop (a little on every
        message on average, and a stall of milliseconds every couple of hundred messages). Servers
        call this; short-lived commands (migrate, import) keep SQLite's default. No-op elsewhere.
        """
        if self._sqlite_file is None or self._checkpointer is not None:
            return
        self._checkpointer = _Checkpointer(self._sqlite_file, CHECKPOINT_EVERY_SECONDS)
        self._checkpointer.start()
        self._writer_pragmas["wal_autocheckpoint"] = BACKSTOP_CHECKPOINT_PAGES
        self._close_writer()
        self.engine.dispose()  # connections reconnect with the backstop setting

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self._close_writer()
        self.engine.dispose()
        self._reader.dispose()


class WriterBusy(Exception):
    """The SQLite write lock is not free right now (Database.begin(wait=False)); nothing was done."""


def _begin_writer(conn: Connection, wait: bool) -> RootTransaction:
    """BEGIN IMMEDIATE on the held writer through SQLAlchemy. The held writer's busy timeout is 0, so
    without `wait` a write lock held by another process fails at once (SQLite's busy handler would sleep
    on the calling thread: the event loop's) and is raised as WriterBusy. With `wait` its BEGIN waits up
    to BUSY_TIMEOUT_MS. Either way, once BEGIN IMMEDIATE holds the lock nothing in the transaction waits
    for another writer (WAL: readers never block it), so the rest runs with the timeout at 0."""
    if not wait:
        try:
            return conn.begin()
        except OperationalError as e:
            if getattr(e.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
                raise WriterBusy() from e
            raise
    driver = conn.connection.driver_connection
    driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        return conn.begin()
    finally:
        driver.execute("PRAGMA busy_timeout=0")


class _Checkpointer(threading.Thread):
    """PASSIVE checkpoints every CHECKPOINT_EVERY_SECONDS on a connection of its own. PASSIVE never
    waits for readers or writers; sqlite3 releases the GIL while SQLite copies pages and syncs."""

    def __init__(self, path: str, every: float):
        super().__init__(name="sqlite-checkpoint", daemon=True)
        self.path = path
        self.every = every
        self._stopping = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopping.wait(self.every):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # e.g. the file is locked by a VACUUM: try again next time
                    log.warning("background checkpoint failed: %s", exc)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)


class _SQLiteWriter(SQLiteDialect_pysqlite):
    """pysqlite whose transactions take the write lock up front (BEGIN IMMEDIATE), so two writers
    never deadlock upgrading a read lock.

    A dialect rather than SQLAlchemy's "begin" event recipe: any Connection event listener makes
    every statement go through four event dispatches (their cost: bench/README.md).
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


def _make_engine(url: str, pool_size: int, *, read_only: bool = False, pragmas: dict | None = None) -> Engine:
    """`pragmas` (SQLite): more PRAGMAs for each new connection; the dict is read at connect time."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2)
        _ping_when_idle(engine)
        return engine
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
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        for name, value in (pragmas or {}).items():
            cur.execute(f"PRAGMA {name}={value}")
        cur.close()

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, but only for a connection idle PING_AFTER_IDLE_SECONDS or more: one that was in use a
    moment ago was alive then, and the server going away in between fails that message as it would have
    anyway (Prepared invalidates a lost connection). A dead one is replaced before anyone gets it: the
    pool retries the checkout on DisconnectionError. Pool events fire per checkout, not per statement."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as e:
            if dialect.is_disconnect(e, dbapi_conn, None):
                raise exc.DisconnectionError(str(e)) from e
            raise


@contextmanager
def savepoint(conn: Connection, *, undo_on: type[BaseException]) -> Iterator[None]:
    """A savepoint that `undo_on` rolls back to (and is raised on); any other error leaves it to the
    enclosing transaction, which rolls back whole. Plain SQL on the driver, like the per-message statements
    (storage/prepared.py): SQLAlchemy's begin_nested() compiles its SAVEPOINT and RELEASE anew every time.

    When the block succeeds the savepoint is left to the transaction's COMMIT (or ROLLBACK), which ends it
    on both databases: a RELEASE would be one more round trip per message on PostgreSQL (bench/README.md).
    So it is for one block per transaction (the dispatcher's one command), not for a loop: each
    unreleased savepoint is a subtransaction until the end."""
    run_plain(conn, "SAVEPOINT command")
    try:
        yield
    except undo_on:
        run_plain(conn, "ROLLBACK TO SAVEPOINT command")
        run_plain(conn, "RELEASE SAVEPOINT command")
        raise


def mask_url(url: str) -> str:
    """The URL with its password hidden, for logs."""
    return make_url(url).render_as_string(hide_password=True)
