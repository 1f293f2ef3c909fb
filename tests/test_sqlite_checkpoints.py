"""SQLite servers checkpoint the WAL from a thread of their own, not inside a message's commit."""
import os
import time

from sqlalchemy import insert

from helpers import T0
from storage.db import BACKSTOP_CHECKPOINT_PAGES
from storage.tables import groups


def _write(db, n, start=0):
    for i in range(start, start + n):
        with db.begin() as conn:
            conn.execute(insert(groups).values(group_id=f"g{i}", owners=[], created_at=T0))


def _main_file_changed(db, before, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.stat(db._sqlite_file).st_mtime_ns != before:
            return True
        time.sleep(0.05)
    return False


def test_without_the_thread_a_few_commits_stay_in_the_wal(sqlite_db):
    _write(sqlite_db, 1)
    before = os.stat(sqlite_db._sqlite_file).st_mtime_ns
    _write(sqlite_db, 20, start=1)  # far below SQLite's own 1,000-page checkpoint
    assert not _main_file_changed(sqlite_db, before, timeout=1.5)


def test_the_background_thread_copies_the_wal_into_the_file(sqlite_db):
    sqlite_db.start_background_checkpoints()
    try:
        with sqlite_db.begin() as conn:  # commits themselves only checkpoint past the backstop
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == BACKSTOP_CHECKPOINT_PAGES
        _write(sqlite_db, 1)
        before = os.stat(sqlite_db._sqlite_file).st_mtime_ns
        _write(sqlite_db, 20, start=1)
        assert _main_file_changed(sqlite_db, before, timeout=5)
    finally:
        sqlite_db.dispose()
    assert sqlite_db._checkpointer is None
