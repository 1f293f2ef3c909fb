"""create_app(settings): the HTTP service — health, metrics, the three channels and the admin API."""
from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bot import admin, exports
from bot.channels import aibot, bridge, web, wechat, wecom
from bot.dispatch import Dispatcher, utcnow
from bot.httperrors import errors, install as install_error_handlers
from bot.limits import BodyLimitMiddleware
from bot.metrics import Metrics
from bot.settings import Settings
from storage.db import Database, mask_url
from storage.outbox import status_counts

log = logging.getLogger("tuanbot")


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Callable[[], datetime] = utcnow,
    scheduler=None,
) -> FastAPI:
    """Builds the app. `scheduler` (bot.scheduler.Scheduler or None) starts and stops with it."""
    db = db or Database(settings.database_url)
    metrics = Metrics()
    dispatcher = Dispatcher(db, owners=settings.owner_ids, tz=settings.tz, metrics=metrics, clock=clock,
                            quiet=settings.quiet,
                            public_url=settings.public_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        log.info("tuanbot started", extra={"channels": enabled_channels(settings), "database": mask_url(db.url)})
        db.start_background_checkpoints()
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown()
            db.dispose()

    app = FastAPI(title="tuanbot", version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodyLimitMiddleware)
    install_error_handlers(app)
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock
    app.state.metrics = metrics
    app.state.dispatcher = dispatcher

    @app.get("/healthz", tags=["ops"])
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], responses=errors(503))
    async def readyz():
        if await run_in_threadpool(db.ping):
            return {"status": "ready"}
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    @app.get("/metrics", tags=["ops"], response_class=Response, responses={200: {"content": {"text/plain": {}}}})
    def metrics_endpoint():
        try:
            with db.read() as conn:
                counts = status_counts(conn)
        except Exception:
            counts = {}
        return Response(metrics.render(counts), media_type="text/plain; version=0.0.4; charset=utf-8")

    bridge.add_routes(app, settings, dispatcher.handle_async)
    app.include_router(wechat.make_router(settings, dispatcher.process_async))
    app.include_router(wecom.make_router(settings, dispatcher.process_async))
    app.include_router(aibot.make_router(settings, dispatcher.handle_async, db))
    app.include_router(admin.make_router(settings))
    app.include_router(exports.router)
    if settings.web_chat:
        web.add_routes(app, settings, dispatcher)
    return app


def freeze_startup_objects() -> None:
    """Call once the app is built, right before serving. What exists by then (modules, the app, the
    tables, compiled statements: ~120,000 objects) lives as long as the process; frozen, the cyclic
    GC stops walking it on each full collection, a stall on the event loop thread for every request in
    flight (bench/README.md has what it cost the p99)."""
    gc.collect()
    gc.freeze()


def enabled_channels(settings: Settings) -> list[str]:
    out = []
    if settings.bridge_secret:
        out.append("bridge")
    if settings.wechat_token:
        out.append("wechat")
    if settings.wecom_token:
        out.append("wecom")
    if settings.aibot_token:
        out.append("wecom_aibot")
    return out
