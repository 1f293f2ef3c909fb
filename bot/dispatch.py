"""Handling one Message: dedupe, route, act and reply inside one unit of work; log and count it."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from anyio import CapacityLimiter, to_thread
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from bot.router import Routed, nearest_command, route
from catalog.groups import effective_role, ensure_group, get_group
from catalog.members import name_of, remember_name
from handlers.context import Ctx, Message, Reply, UserError
from handlers.help import text_only
from storage.db import Database, WriterBusy, savepoint
from storage.inbound import DuplicateMessage, record_inbound, save_reply, stored_reply
from storage.outbox import enqueue

log = logging.getLogger("tuanbot.messages")

NAME_CACHE_SECONDS = 600.0
APOLOGY = ("抱歉，出了点问题，请稍后再试。", "Sorry, something went wrong. Please try again in a moment.")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Handled:
    reply: Reply
    duplicate: bool
    outcome: str


class Dispatcher:
    """Turns a Message into a Reply. Everything a message changes commits together with its
    dedupe record and its reply, or nothing does."""

    def __init__(self, db: Database, *, owners: frozenset[str], tz: ZoneInfo, metrics=None,
                 clock: Callable[[], datetime] = utcnow, public_url: str | None = None,
                 quiet: tuple[int, int] | None = None):
        self.db = db
        self.public_url = public_url
        self.quiet = quiet
        self.owners = owners
        self.tz = tz
        self.metrics = metrics
        self.clock = clock
        self._known_groups: set[str] = set()  # groups whose row exists: skip the upsert
        # (group, member) -> (name, monotonic time written): the name this process last stored, so a message
        # only writes when the name is new or changed. Another process may rename the member in between;
        # the row is the truth and an entry is trusted for NAME_CACHE_SECONDS only, so a name that flips back
        # there is written again within that time.
        self._known_names: dict[tuple[str, str], tuple[str, float]] = {}
        # PostgreSQL: at most pool_size messages in worker threads at once. More would wait for a pooled
        # connection, or open and close extra ones, and make each transaction (and the row locks it holds)
        # wait longer for the GIL between its round trips; the rest wait here, on the event loop, for free.
        self._in_threads = CapacityLimiter(db.pool_size) if db.is_postgres else None

    def process(self, msg: Message) -> Reply:
        return self.handle(msg).reply

    async def handle_async(self, msg: Message) -> Handled:
        """`handle` for the channels (async endpoints).

        On SQLite it runs right here on the event loop thread when the write lock is free at this very
        moment: writes are serial anyway and each statement takes microseconds on a local file, while a
        worker thread has to win the GIL back from the busy loop after every SQLite call (bench/README.md
        has the figures). When another thread of this process or another process (an import, a second
        server) holds the lock, the message goes to a worker thread, which waits for it: the loop never
        waits on anyone. PostgreSQL always uses the threadpool: a network round trip per statement must
        not stop the loop; at most the pool's size of them at once (bench/README.md).
        """
        if self.db.is_sqlite:
            try:
                return self.handle(msg, wait=False)
            except WriterBusy:
                pass
        if self._in_threads is not None:
            return await to_thread.run_sync(self.handle, msg, limiter=self._in_threads)
        return await run_in_threadpool(self.handle, msg)

    async def process_async(self, msg: Message) -> Reply:
        return (await self.handle_async(msg)).reply

    def handle(self, msg: Message, *, wait: bool = True) -> Handled:
        """`wait=False`: raise WriterBusy, having done nothing, unless the SQLite write lock is free now."""
        started = time.perf_counter()
        now = self.clock()
        routed = None if msg.event else route(msg.text, is_private=msg.is_private, mentions_bot=msg.mentions_bot)
        command = msg.event or (routed.command.name if routed and routed.command else ("unknown" if routed else None))
        lang = routed.lang if routed else "zh"
        orders_placed = 0
        try:
            with self.db.begin(wait=wait) as conn:
                row_id = record_inbound(
                    conn,
                    channel=msg.channel,
                    msg_id=msg.msg_id,
                    group_id=msg.chat_id,
                    sender_id=(msg.member_id or msg.sender_id) if msg.event else msg.sender_id,
                    kind="event" if msg.event else "text",
                    event=msg.event,
                    inviter_id=msg.inviter_id,
                    is_command=routed is not None,
                    command=command,
                    received_at=now,
                )
                if not msg.is_private and msg.chat_id not in self._known_groups:
                    ensure_group(conn, msg.chat_id, msg.chat_name, now)
                named = self._remember_name(conn, msg, now)
                ctx = Ctx(conn, msg, lang, now, self.tz, role_of=lambda: self._role(conn, msg),
                          public_url=self.public_url, quiet=self.quiet)
                outcome = self._act(ctx, routed)
                if ctx.reply.texts:
                    save_reply(conn, row_id, ctx.reply.stored())
                for group_id, text in ctx.outgoing:
                    enqueue(conn, group_id, text, now, source=command)
                orders_placed = ctx.orders_placed
            if not msg.is_private:
                self._known_groups.add(msg.chat_id)
            if named is not None:
                self._known_names[named[0]] = (named[1], time.monotonic())
            handled = Handled(ctx.reply, False, outcome)
        except WriterBusy:
            raise
        except DuplicateMessage:
            with self.db.read() as conn:
                stored = stored_reply(conn, msg.channel, msg.msg_id) or []
            handled = Handled(Reply.from_stored(stored), True, "duplicate")
        except Exception:
            log.exception("handler failed", extra=_fields(msg, command, "error", started))
            handled = Handled(Reply([APOLOGY[1] if lang == "en" else APOLOGY[0]]), False, "error")
        self._observe(msg, command, handled, started, orders_placed)
        return handled

    def _act(self, ctx: Ctx, routed: Routed | None) -> str:
        msg = ctx.msg
        if msg.event == "member_joined":
            name = msg.member_name or msg.member_id or ""
            ctx.say(f"欢迎 {name} 加入！发送“帮助”看看我能做什么。")
            return "event"
        if msg.event == "media":
            text_only(ctx)
            return "event"
        if msg.event or routed is None:
            return "ignored"
        cmd = routed.command
        if cmd is None:
            near = nearest_command(routed.word, routed.lang)
            if near is None:  # talk addressed to the bot (`@团购助手 大家好`): no command is close
                ctx.say(f"{self._mention(ctx)}我是团购助手，发送“帮助”看看我能做什么。",
                        f"{self._mention(ctx)}I'm the group-buy bot. Send \"help\" to see what I can do.")
            else:
                ctx.say(
                    f"{self._mention(ctx)}没有“{routed.word}”这个命令。你是不是想用“{near}”？发送“帮助”查看全部命令。",
                    f"{self._mention(ctx)}There is no command \"{routed.word}\". Did you mean \"{near}\"? "
                    "Send \"help\" for all commands.",
                )
            return "unknown"
        try:
            if cmd.staff and not ctx.is_staff:
                word = cmd.zh[0] if ctx.lang == "zh" else cmd.en[0]
                raise UserError(f"只有群主或管理员可以用“{word}”。", f"Only the group owner or an admin can use \"{word}\".")
            args = cmd.parse(routed.raw_rest if cmd.raw else routed.rest)
            with savepoint(ctx.conn, undo_on=UserError):  # a refusal part-way rolls back to here, whatever it wrote
                cmd.run(ctx, args)
        except UserError as e:
            # The texts go; a group-buy view the handler set before refusing stays (its figures are
            # unchanged by the refusal), so a card can show them beside the refusal.
            ctx.reply.texts.clear()
            ctx.outgoing.clear()
            ctx.orders_placed = 0
            # A member's own business (their order, join, cancel) or a member refused an owner's command:
            # about that one member. An owner's malformed 开团 is about the group buy, said plainly.
            about_sender = cmd.personal or (cmd.staff and not ctx.is_staff)
            ctx.reply.texts.append((self._mention(ctx) if about_sender else "") + e.text(ctx.lang))
            return "rejected"
        if cmd.personal and ctx.reply.texts:
            ctx.reply.texts[0] = self._mention(ctx) + ctx.reply.texts[0]
        return "ok" if ctx.reply.texts else "ignored"

    def _remember_name(self, conn: Connection, msg: Message, now: datetime) -> tuple[tuple[str, str], str] | None:
        """Store the name the channel carried when it is new or changed; returns what to cache after commit."""
        user, name = (msg.member_id, msg.member_name) if msg.event else (msg.sender_id, msg.sender_name)
        name = (name or "").strip()[:200]
        if msg.is_private or not user or not name:
            return None
        key = (msg.chat_id, user)
        known = self._known_names.get(key)
        if known is not None and known[0] == name and time.monotonic() - known[1] < NAME_CACHE_SECONDS:
            return None
        remember_name(conn, msg.chat_id, user, name, now)
        return key, name

    def _mention(self, ctx: Ctx) -> str:
        """`@NAME ` before a reply about the sender, in a group; NAME as the member is named there."""
        msg = ctx.msg
        if msg.is_private:
            return ""
        name = (msg.sender_name or "").strip() or name_of(ctx.conn, msg.chat_id, msg.sender_id)
        return f"@{name} "

    def _role(self, conn: Connection, msg: Message) -> str:
        group = None if msg.is_private else get_group(conn, msg.chat_id)
        return effective_role(msg.sender_role, msg.sender_id, group, self.owners)

    def _observe(self, msg: Message, command: str | None, handled: Handled, started: float, orders: int) -> None:
        if handled.outcome != "error":
            log.info("message handled", extra=_fields(msg, command, handled.outcome, started))
        if self.metrics is not None:
            self.metrics.observe_message(msg.channel, handled.outcome, time.perf_counter() - started, orders)


def _fields(msg: Message, command: str | None, outcome: str, started: float) -> dict:
    return {
        "msg_id": msg.msg_id,
        "channel": msg.channel,
        "group": msg.chat_id,
        "command": command,
        "outcome": outcome,
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }
