"""The dispatcher's unit of work: every command runs inside a savepoint, so a refusal changes nothing,
whatever the command wrote before it refused; and Ctx.role is the effective role for every command."""
import pytest
from sqlalchemy import func, select

from catalog.groups import put_group
from catalog.products import create_product, validate_product
from handlers.context import Ctx, UserError
from handlers.registry import BY_WORD, Command
from helpers import SNEAKERS, T0, make_message
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
