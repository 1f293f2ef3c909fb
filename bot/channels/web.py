"""The web group chat (/chat): a page, its messages in (POST /chat/messages, channel `web`) and the group's
record out, live (GET /chat/events, Server-Sent Events). Off unless TUANBOT_WEB_CHAT or `serve --demo`.

Live delivery works across processes: the page's stream polls the group's record in the database by seq
(storage/webchat.py), so a push recorded by any process's outbox dispatcher, or a reply to a message
posted to another process, reaches every open page within POLL_SECONDS."""
from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from importlib import resources
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import jsonbody
from bot.admin.schemas import NOT_BLANK
from bot.httperrors import errors
from catalog.groups import get_group, put_group
from handlers.context import Message
from storage.webchat import WebMessage, messages_after, recent_messages, record_exchange

GROUP = "demo"  # the group the page is a chat of (the demo group of `serve --demo`)
POLL_SECONDS = 0.5  # how often an open page's stream looks for new rows of its group
RETRY_MS = 1000  # how soon a browser reconnects a dropped stream
BATCH = 200  # rows read per poll (a page back after a long absence catches up in several)
BOT_NAME = "团购助手"
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Persona:
    """Someone the page can type as. The page names only the key; id and role stay on the server."""

    key: str
    sender_id: str
    name: str
    role: str


# A member's id is their name, so replies and settlement lists read well even where a command shows ids.
PERSONAS = (
    Persona("u1", "小王", "小王", "member"),
    Persona("u2", "阿花", "阿花", "member"),
    Persona("u3", "老李", "老李", "member"),
    Persona("owner", "owner", "群主", "owner"),  # "owner" is also in the demo group's owners list
)
_BY_KEY = {p.key: p for p in PERSONAS}
_BY_ID = {p.sender_id: p for p in PERSONAS}

# Everything the page loads comes from this server: no inline script or style, nothing from elsewhere.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_FILES = {"/chat": ("chat.html", "text/html; charset=utf-8"),
          "/chat/chat.css": ("chat.css", "text/css; charset=utf-8"),
          "/chat/chat.js": ("chat.js", "text/javascript; charset=utf-8")}


def add_routes(app: FastAPI, settings, dispatcher) -> None:
    """The page's routes; only called when the web chat is on (otherwise /chat is a 404 like any unknown path)."""
    db, tz = dispatcher.db, settings.tz
    files = {path: (resources.files("bot").joinpath("web", name).read_bytes(), kind)
             for path, (name, kind) in _FILES.items()}

    def static(path: str):
        body, kind = files[path]
        return lambda: Response(body, media_type=kind, headers=_HEADERS)

    for path in files:
        app.add_api_route(path, static(path), methods=["GET"], include_in_schema=path == "/chat", tags=["web chat"],
                          response_class=Response, responses={200: {"content": {"text/html": {}}}},
                          summary="The web group chat page" if path == "/chat" else None)

    @app.get("/chat/config", tags=["web chat"], summary="The group and who the page may type as")
    def config():
        with db.read() as conn:
            group = get_group(conn, GROUP)
        return JSONResponse({
            "group_id": GROUP,
            "group_name": (group.name if group and group.name else GROUP),
            "bot_name": BOT_NAME,
            "personas": [{"key": p.key, "name": p.name, "owner": p.role == "owner"} for p in PERSONAS],
        }, headers=_HEADERS)

    @app.post("/chat/messages", tags=["web chat"], summary="Type a message as one of the page's people",
              responses=errors(413, 422),
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["as", "text", "client_msg_id"], "properties": {
                      "as": {"enum": list(_BY_KEY)}, "text": {"type": "string", "minLength": 1, "pattern": NOT_BLANK},
                      "client_msg_id": {"type": "string", "pattern": f"^(?:{_CLIENT_ID.pattern})$"}}}}}}})
    async def post_message(request: Request):
        try:
            persona, text, client_msg_id = _read_message(await request.body())
        except _Invalid as e:
            return JSONResponse({"detail": [{"loc": e.loc, "msg": e.msg, "type": "value_error"}]}, status_code=422)
        msg = Message(channel="web", chat_id=GROUP, sender_id=persona.sender_id, text=text, msg_id=client_msg_id,
                      sender_role=persona.role, sender_name=persona.name)

        def handle_and_record():
            handled = dispatcher.handle(msg)
            with db.begin() as conn:
                rows = record_exchange(conn, GROUP, sender_id=persona.sender_id, sender_name=persona.name, text=text,
                                       client_msg_id=client_msg_id, replies=handled.reply.texts,
                                       now=dispatcher.clock())
            return handled.duplicate, rows

        duplicate, rows = await run_in_threadpool(handle_and_record)
        return JSONResponse({"messages": [_to_json(r, tz) for r in rows], "duplicate": duplicate})

    @app.get("/chat/events", tags=["web chat"], summary="The group's messages as Server-Sent Events",
             response_class=Response, responses={200: {"content": {"text/event-stream": {}}}})
    async def events(request: Request, after: int | None = None):
        last = _last_seen(request.headers.get("last-event-id"), after)
        return EventSourceResponse(_stream(request, db, tz, last), ping=15, headers=_HEADERS)


async def _stream(request: Request, db, tz: ZoneInfo, last: int | None):
    """Each row of the group once, in seq order: first the recent history (or what came after the
    browser's Last-Event-ID when it reconnects), then new rows as any process records them."""
    if last is None:
        rows, last = await run_in_threadpool(_read, db, lambda conn: recent_messages(conn, GROUP)), 0
    else:
        rows = await run_in_threadpool(_read, db, lambda conn: messages_after(conn, GROUP, last, BATCH))
    caught_up = False
    while True:
        for row in rows:
            yield {"id": str(row.seq), "event": "message", "data": json.dumps(_to_json(row, tz), ensure_ascii=False)}
            last = row.seq
        if not caught_up and len(rows) < BATCH:  # the page has everything up to now: it shows itself as live
            yield {"event": "live", "data": "{}", "retry": RETRY_MS}
            caught_up = True
        if not rows:
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_SECONDS)
        rows = await run_in_threadpool(_read, db, lambda conn: messages_after(conn, GROUP, last, BATCH))


def _read(db, query):
    with db.read() as conn:
        return query(conn)


def _last_seen(header: str | None, after: int | None) -> int | None:
    for value in (header, after):
        try:
            if value is not None and 0 <= int(value) < 2**62:
                return int(value)
        except ValueError:
            pass
    return None


def _to_json(row: WebMessage, tz: ZoneInfo) -> dict:
    local = row.created_at.astimezone(tz)
    persona = _BY_ID.get(row.sender_id or "")
    return {
        "seq": row.seq,
        "kind": row.kind,
        "from": persona.key if persona else None,
        "name": row.sender_name if row.kind == "said" else BOT_NAME,
        "text": row.text,
        "reply_to": row.reply_to,
        "client_msg_id": row.client_msg_id,
        "at": row.created_at.isoformat(),
        "date": local.strftime("%Y-%m-%d"),  # in TUANBOT_TIMEZONE, like every time the bot says
        "time": local.strftime("%H:%M"),
    }


class _Invalid(Exception):
    def __init__(self, loc: list, msg: str):
        self.loc, self.msg = loc, msg


def _read_message(body: bytes) -> tuple[Persona, str, str]:
    try:
        data = jsonbody.parse(body)
    except jsonbody.BadJson as e:
        raise _Invalid(["body"], e.reason) from None
    if not isinstance(data, dict):
        raise _Invalid(["body"], "must be a JSON object")
    persona = _BY_KEY.get(data.get("as")) if isinstance(data.get("as"), str) else None
    if persona is None:
        raise _Invalid(["body", "as"], f"must be one of {', '.join(_BY_KEY)}")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _Invalid(["body", "text"], "must be a non-empty string")
    client_msg_id = data.get("client_msg_id")
    if not isinstance(client_msg_id, str) or not _CLIENT_ID.fullmatch(client_msg_id):
        raise _Invalid(["body", "client_msg_id"], "must be 1 to 64 letters, digits, - or _")
    return persona, text, client_msg_id


# ---- serve --demo ------------------------------------------------------------------------------------


def use_web_target(db, now) -> None:
    """`serve --demo`: what the demo group is sent later (pushes, settlements, deals) goes to its page."""
    with db.begin() as conn:
        put_group(conn, GROUP, {"push_target": {"kind": "web"}}, now)


class _AnnounceAfterUvicorn(logging.Handler):
    """Logs where the page is right after uvicorn's "Uvicorn running on …" line (the real port, also
    for --port 0), so it is the last line of start-up output. Added after the root handler, so that
    handler has already written uvicorn's line."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.name != "uvicorn.error" or not str(record.msg).startswith("Uvicorn running on %s://"):
            return
        scheme, host, port = record.args[:3]
        host = {"0.0.0.0": "127.0.0.1", "::": "localhost", "": "127.0.0.1"}.get(host, host)
        host = f"[{host}]" if ":" in host else host
        logging.getLogger("tuanbot").info(f"Open the web group chat: {scheme}://{host}:{port}/chat")
        logging.getLogger().removeHandler(self)


def announce_page_url() -> None:
    logging.getLogger().addHandler(_AnnounceAfterUvicorn())
