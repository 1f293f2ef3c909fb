"""`tuanbot serve --workers N`: what each uvicorn worker process builds (PostgreSQL only).

The parent process checks the settings, migrates and loads the demo; each worker reads the same
settings from the environment and builds its own engine, app and (unless --no-scheduler) scheduler.
Several schedulers on one database are safe: every job claims its rows in the database first.
"""
from __future__ import annotations

import os

# Set by the parent for its workers; no TUANBOT_ prefix, so it is not a setting anyone can put in .env.
SCHEDULER_ENV = "_TUANBOT_WORKER_SCHEDULER"


def app():
    from bot.app import create_app, freeze_startup_objects
    from bot.logs import setup_logging
    from bot.settings import load_settings
    from storage.db import Database

    settings = load_settings()
    setup_logging(settings.log_format)
    db = Database(settings.database_url)
    scheduler = None
    if os.environ.get(SCHEDULER_ENV) == "1":
        from bot.scheduler import Scheduler

        scheduler = Scheduler(settings, db)
    application = create_app(settings, db=db, scheduler=scheduler)
    freeze_startup_objects()
    return application
