"""The dispatcher's unit of work: every command runs inside a savepoint, so a refusal changes nothing,
whatever the command wrote before it refused; Ctx.role is the effective role for every command; only the
dedupe record's own constraint makes a duplicate; a lost database connection is one apology."""
import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.app import create_app
from bot.settings import load_settings
from catalog.groups import put_group
from catalog.products import create_product, get_product, validate_product
from conftest import _fresh_db
from handlers.context import Ctx, UserError
from handlers.registry import BY_WORD, Command
from helpers import SNEAKERS, T0, add_product, make_message, signed_bridge_post
from storage.tables import inbound_messages, outbox, products


def _register(monkeypatch, cmd: Command) -> None:
    for word in cmd.en:
        monkeypatch.setitem(BY_WORD, word, (cmd, "en"))


def _write_then_refuse(ctx: Ctx, _args) -> None:
    create_product(ctx.conn, validate_product(SNEAKERS), ctx.now)
    ctx.tell_group("elsewhere", "queued for another group")
    ctx.say("half done")
    raise UserError("不行。", "No.")


def count(db, table) -> int:
    with db.read() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_command_that_writes_and_then_refuses_leaves_no_trace(db, chat, monkeypatch):
    _register(monkeypatch, Command("scribble", ("涂写",), ("scribble",), _write_then_refuse))
    handled = chat.handle(make_message("scribble"))
    assert (handled.reply.texts, handled.outcome) == (["No."], "rejected")
    assert count(db, products) == 0  # the product the command inserted is rolled back
    assert count(db, outbox) == 0
    assert count(db, inbound_messages) == 1  # the message itself is recorded: a repeat is a duplicate
    assert chat.handle(make_message("scribble")).outcome == "rejected"  # the connection is fine afterwards
    assert count(db, products) == 0


def test_a_command_that_writes_and_succeeds_keeps_its_writes(db, chat, monkeypatch):
    def write(ctx: Ctx, _args) -> None:
        create_product(ctx.conn, validate_product(SNEAKERS), ctx.now)
        ctx.say("done")

    _register(monkeypatch, Command("scribble", ("涂写",), ("scribble",), write))
    assert chat.handle(make_message("scribble")).outcome == "ok"
    assert count(db, products) == 1


@pytest.mark.parametrize("sender, channel_role, expected", [
    ("boss", "member", "owner"),  # in the group's owners list
    ("amy", "admin", "admin"),  # the channel says admin
    ("amy", "member", "member"),
    ("amy", "something odd", "member"),
])
def test_ctx_role_is_the_effective_role_for_every_command(db, chat, monkeypatch, sender, channel_role, expected):
    with db.begin() as c:
        put_group(c, "g1", {"owners": ["boss"]}, T0)
    _register(monkeypatch, Command("whoami", ("我是谁",), ("whoami",), lambda ctx, _a: ctx.say(ctx.role)))
    assert chat.send("whoami", user=sender, role=channel_role) == expected


def test_a_unique_violation_that_is_not_the_dedupe_record_is_an_error_not_a_duplicate(db, chat):
    with db.begin() as c:  # a second unique constraint on the record, that the test can trip at will
        c.execute(text("CREATE UNIQUE INDEX test_one_text_per_sender ON inbound_messages (sender_id)"))
    assert chat.handle(make_message("商品", user="amy")).outcome == "ok"
    second = chat.handle(make_message("商品", user="amy"))
    assert (second.outcome, second.duplicate) == ("error", False)
    assert second.reply.texts == ["抱歉，出了点问题，请稍后再试。"]
    with db.begin() as c:
        c.execute(text("DROP INDEX test_one_text_per_sender"))
    repeat = make_message("商品", user="bob", msg_id="same")
    assert chat.handle(repeat).outcome == "ok"
    assert chat.handle(repeat).outcome == "duplicate"  # the dedupe record's own constraint still is one


@pytest.fixture
def pg_db(tmp_path, sqlite_template, pg_admin, pg_template):
    """PostgreSQL only: the test kills its server backend."""
    yield from _fresh_db("postgresql", tmp_path, sqlite_template, pg_admin, pg_template)


@pytest.mark.anyio
async def test_a_postgresql_backend_killed_mid_message_is_one_apology_and_the_next_message_is_served(
        pg_db, clock, monkeypatch):
    db = pg_db
    add_product(db)
    seen = {}

    def killed_midway(ctx: Ctx, _args) -> None:
        pid = ctx.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        try:
            get_product(ctx.conn, "A12")  # a prepared statement on the driver meets the dead backend
        except DBAPIError as e:
            seen.update(error=e, invalidated=ctx.conn.invalidated)
            raise

    _register(monkeypatch, Command("die", ("死",), ("die",), killed_midway))
    app = create_app(load_settings(database_url=db.url, bridge_secret="s"), db=db, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        async def say(text_: str, msg_id: str):
            payload = {"msg_id": msg_id, "group_id": "g1", "sender_id": "amy", "text": text_}
            body, headers = signed_bridge_post("s", payload)
            return await client.post("/bridge/messages", content=body, headers=headers)

        r = await say("die", "m-die")
        assert r.status_code == 200
        assert [x["text"] for x in r.json()["replies"]] == ["Sorry, something went wrong. Please try again in a moment."]
        assert isinstance(seen["error"], OperationalError) and seen["error"].connection_invalidated
        assert seen["invalidated"] is True
        r = await say("详情 A12", "m-next")
        assert r.status_code == 200 and "A12 潮流男鞋" in r.json()["replies"][0]["text"]
