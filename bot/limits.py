"""Request body limit: nothing over 1 MiB is read (413), whatever the route."""
from __future__ import annotations

import json

from bot.httperrors import log_refusal

MAX_BODY = 1024 * 1024


class BodyLimitMiddleware:
    """Pure ASGI: refuses by Content-Length up front, and counts streamed bytes for chunked bodies."""

    def __init__(self, app, max_body: int = MAX_BODY):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_body
                except ValueError:
                    too_big = False
                if too_big:
                    return await _too_large(send, scope)
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _too_large(send, scope)


class _TooLarge(Exception):
    pass


async def _too_large(send, scope) -> None:
    log_refusal(scope.get("path", ""), 413, "request body larger than 1 MiB")
    body = json.dumps({"detail": "request body is larger than 1 MiB"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
