"""Migrated PostgreSQL databases handed to one test at a time, and handed out again once emptied.

CREATE DATABASE … TEMPLATE costs the server about a quarter of a second of CPU: a copy per test was about a
third of what the PostgreSQL tests took. A database a test gives back is put back as the template has it instead: every
other connection to it ended, every table's rows and every sequence as in the template. One whose schema is
no longer the template's (a test migrated it up or down), or that cannot be emptied, is dropped and replaced
by a new copy. Each test process keeps its own pool; the databases are dropped at the end of the session.
Emptying sets session_replication_role, which takes a superuser (as TUANBOT_TEST_POSTGRES_URL's postgres
is); as another user every database given back is dropped and a new copy made, as before the pool.
"""
from __future__ import annotations

import itertools
import os

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# Everything a test could leave changed in the schema: relations with their columns and types, extensions,
# triggers and functions. Equal fingerprints mean emptying the rows is enough.
FINGERPRINT = """
SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
  SELECT c.relkind::text || ':' || c.relname || ':' || coalesce(a.attname, '') || ':' || coalesce(a.atttypid::text, '') AS x
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  WHERE n.nspname = 'public'
  UNION ALL SELECT 'ext:' || extname || ':' || extversion FROM pg_extension
  UNION ALL SELECT 'trigger:' || tgname FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT 'function:' || p.proname || ':' || pg_get_function_identity_arguments(p.oid)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
) s
"""

_numbers = itertools.count(1)  # shared by every pool of the process (tests/test_pg_pool.py makes its own)


class Snapshot:
    """What a freshly copied database holds: its schema's fingerprint, the rows of its non-empty tables (the
    migrations' own, such as alembic_version) and where each sequence stands."""

    def __init__(self, conn):
        self.fingerprint = conn.execute(text(FINGERPRINT)).scalar_one()
        self.tables = list(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        self.rows = {}
        for table in self.tables:
            rows = [dict(r) for r in conn.execute(text(f'SELECT * FROM "{table}"')).mappings()]
            if rows:
                self.rows[table] = rows
        self.sequences = conn.execute(text(
            "SELECT sequencename, coalesce(last_value, start_value), last_value IS NOT NULL"
            " FROM pg_sequences WHERE schemaname = 'public'")).all()

    def restore(self, conn) -> None:
        """Within one transaction; foreign keys are not checked while the rows go (a superuser's session)."""
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in self.tables:
            conn.execute(text(f'DELETE FROM "{table}"'))
        for table, rows in self.rows.items():
            cols = list(rows[0])
            names = ", ".join(f'"{c}"' for c in cols)
            conn.execute(text(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(":" + c for c in cols)})'), rows)
        for name, value, called in self.sequences:
            conn.execute(text("SELECT setval(CAST(:s AS regclass), :v, :c)"), {"s": f'"{name}"', "v": value, "c": called})


class PgPool:
    def __init__(self, admin: Engine, base_url: str, template: str):
        self.admin, self.base_url, self.template = admin, base_url, template
        self.free: list[str] = []
        with self._engine(template).connect() as conn:
            self.snapshot = Snapshot(conn)

    def url(self, name: str) -> str:
        return make_url(self.base_url).set(database=name).render_as_string(hide_password=False)

    def _engine(self, name: str) -> Engine:
        return create_engine(self.url(name), poolclass=NullPool)

    def take(self) -> str:
        if self.free:
            return self.free.pop()
        name = f"tuanbot_pool_{os.getpid()}_{next(_numbers)}"
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def give_back(self, name: str) -> None:
        engine = self._engine(name)
        try:
            with engine.connect() as conn:
                # A connection a test left open (a thread, a process it started) must not write into the next test.
                conn.execute(text("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                                  " WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                conn.commit()
                if conn.execute(text(FINGERPRINT)).scalar_one() != self.snapshot.fingerprint:
                    raise LookupError("the schema changed")
                conn.execute(text("SET lock_timeout = '5s'"))
                self.snapshot.restore(conn)
                conn.commit()
            self.free.append(name)
        except Exception:  # noqa: BLE001 - whatever went wrong, a new copy takes its place
            self.drop(name)
        finally:
            engine.dispose()

    def drop(self, name: str) -> None:
        with self.admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        while self.free:
            self.drop(self.free.pop())
