"""PostgreSQL's connection pool under the dispatcher: a connection whose server went away while it sat in the
pool is replaced before a message gets it (pinged only after being idle, not at every checkout), and no
more messages run in worker threads at once than the pool holds connections."""
import threading

import anyio
import pytest
from sqlalchemy import text

import storage.db
from conftest import _fresh_db
from handlers.context import Ctx
from handlers.registry import BY_WORD, Command
from helpers import Chat, make_message
from storage.db import Database


@pytest.fixture
def pg_db(tmp_path, sqlite_template, pg_admin, pg_template):
    """PostgreSQL only: the tests kill server backends and count worker threads of the PostgreSQL path."""
    yield from _fresh_db("postgresql", tmp_path, sqlite_template, pg_admin, pg_template)


def _kill_the_pooled_connection(db: Database, pg_admin) -> int:
    """Puts one connection in the pool, idle, and terminates its backend from outside; returns its pid."""
    with db.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        conn.rollback()
    with pg_admin.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
    return pid


@pytest.mark.parametrize("idle_for_ping", [0.0, 3600.0])
def test_a_pooled_connection_whose_backend_died_while_idle_is_replaced_before_a_message_gets_it(
        pg_db, pg_admin, monkeypatch, idle_for_ping):
    monkeypatch.setattr(storage.db, "PING_AFTER_IDLE_SECONDS", idle_for_ping)
    dead = _kill_the_pooled_connection(pg_db, pg_admin)
    handled = Chat(pg_db).handle(make_message("商品"))
    if idle_for_ping == 0.0:  # idle long enough to be pinged: the dead connection never reaches the message
        assert (handled.outcome, handled.duplicate) == ("ok", False)
        with pg_db.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != dead
    else:  # not pinged (it was in use a moment ago, as far as the pool knows): the message meets the dead backend
        assert handled.outcome == "error"
        assert handled.reply.texts == ["抱歉，出了点问题，请稍后再试。"]
    # Either way the connection was invalidated, not kept: the next message is served.
    assert Chat(pg_db).handle(make_message("商品")).outcome == "ok"


def test_a_connection_in_use_moments_ago_is_not_pinged_again(pg_db, monkeypatch):
    pings = []
    real_ping = pg_db.engine.dialect.do_ping
    monkeypatch.setattr(pg_db.engine.dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))
    chat = Chat(pg_db)
    for _ in range(5):
        assert chat.handle(make_message("商品")).outcome == "ok"
    assert pings == []
    monkeypatch.setattr(storage.db, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert chat.handle(make_message("商品")).outcome == "ok"
    assert len(pings) == 1


@pytest.mark.anyio
async def test_postgresql_messages_run_at_most_pool_size_at_once(pg_db, monkeypatch):
    db = Database(pg_db.url, pool_size=2)
    inside, most, lock = [0], [0], threading.Condition()

    def crowd(ctx: Ctx, _args) -> None:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            lock.notify_all()
            # Wait a moment for a third: unbounded, every message would be in here together.
            lock.wait_for(lambda: inside[0] > 2, timeout=0.5)
            inside[0] -= 1
        ctx.say("done")

    monkeypatch.setitem(BY_WORD, "crowd", (Command("crowd", ("挤",), ("crowd",), crowd), "en"))
    dispatcher = Chat(db).dispatcher
    results = []
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(lambda: _collect(dispatcher, results))
    finally:
        db.dispose()
    assert [h.outcome for h in results] == ["ok"] * 6
    assert most[0] == 2


async def _collect(dispatcher, results) -> None:
    results.append(await dispatcher.handle_async(make_message("crowd")))
