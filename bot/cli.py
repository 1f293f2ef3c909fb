"""The `tuanbot` command: serve, worker, migrate, import-catalog, chat."""
from __future__ import annotations

import logging
import sys
import uuid
from pathlib import Path

import click

from bot.settings import Settings, SettingsError, load_settings

EXIT_BAD_SETTING = 2
EXIT_PORT_IN_USE = 3


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as e:
        click.echo(f"tuanbot: {e}", err=True)
        sys.exit(EXIT_BAD_SETTING)


def _database(settings: Settings):
    """The database, migrated to head; one clear line and exit 1 when it cannot be reached."""
    from sqlalchemy.exc import OperationalError

    from storage.db import Database, mask_url
    from storage.migrate import upgrade

    db = Database(settings.database_url)
    try:
        upgrade(db)
    except OperationalError as e:
        reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
        click.echo(f"tuanbot: cannot use the database {mask_url(settings.database_url)}: {reason}", err=True)
        sys.exit(1)
    return db


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """tuanbot: chat commerce for WeChat-style group chats."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--demo", is_flag=True, help="Load the demo catalog and a demo group into an empty database.")
@click.option("--no-scheduler", is_flag=True, help="Serve HTTP only; run the scheduler elsewhere (tuanbot worker).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes on this host (PostgreSQL only), each with its own scheduler.")
def serve(host: str, port: int, demo: bool, no_scheduler: bool, workers: int) -> None:
    """Bring the schema to head, then serve HTTP (and the scheduler, unless --no-scheduler)."""
    import uvicorn

    from bot.app import create_app, freeze_startup_objects
    from bot.dispatch import utcnow
    from bot.logs import setup_logging, uvicorn_log_config

    settings = _settings()
    setup_logging(settings.log_format)
    _check_port(host, port)
    if workers > 1 and not settings.database_url.startswith("postgresql"):
        click.echo("tuanbot: --workers needs PostgreSQL (TUANBOT_DATABASE_URL=postgresql+psycopg://…): SQLite "
                   "takes one writer at a time, so more processes would only wait for each other; "
                   "run one process", err=True)
        sys.exit(EXIT_BAD_SETTING)
    db = _database(settings)
    if demo:
        from catalog.demo import load_demo

        loaded = load_demo(db, utcnow())
        logging.getLogger("tuanbot").info(
            "demo catalog loaded" if loaded else "demo catalog not loaded: the database already has products"
        )
        from bot.channels import web

        web.use_web_target(db, utcnow())
        settings = settings.model_copy(update={"web_chat": True})
    if settings.web_chat:
        from bot.channels import web

        web.announce_page_url()
    if workers > 1:  # each worker builds its own app (bot/workers.py) from the same environment
        import os

        from bot.workers import SCHEDULER_ENV

        os.environ[SCHEDULER_ENV] = "0" if no_scheduler else "1"
        if settings.web_chat:
            os.environ["TUANBOT_WEB_CHAT"] = "true"
        db.dispose()
        uvicorn.run("bot.workers:app", factory=True, workers=workers, host=host, port=port,
                    log_config=uvicorn_log_config(), server_header=False)
        return
    scheduler = None
    if not no_scheduler:
        from bot.scheduler import Scheduler

        scheduler = Scheduler(settings, db)
    app = create_app(settings, db=db, scheduler=scheduler)
    freeze_startup_objects()
    uvicorn.run(app, host=host, port=port, log_config=uvicorn_log_config(), server_header=False)


def _check_port(host: str, port: int) -> None:
    """One clear line and exit 3 when the address cannot be listened on (another server has it). Checked
    before anything starts: uvicorn binds only after the app's start-up, when the scheduler runs already."""
    import socket

    if port == 0:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
            probe.bind(address)
    except OSError as e:
        reason = e.strerror or str(e)
        click.echo(f"tuanbot: cannot listen on {host}:{port}: {reason}", err=True)
        sys.exit(EXIT_PORT_IN_USE)


@main.command()
def worker() -> None:
    """Run the scheduler alone (for deployments that split web and scheduler processes)."""
    from bot.logs import setup_logging
    from bot.scheduler import Scheduler

    settings = _settings()
    setup_logging(settings.log_format)
    db = _database(settings)
    Scheduler(settings, db).run_forever()


@main.command()
def migrate() -> None:
    """Bring the schema to head (safe to run twice)."""
    from storage.db import mask_url
    from storage.migrate import current_revision

    settings = _settings()
    db = _database(settings)
    click.echo(f"{mask_url(settings.database_url)} is at revision {current_revision(db)} (head)")


@main.command("import-catalog")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_catalog(file: Path) -> None:
    """Upsert products from a CSV or JSON FILE; exit 1 if any row was rejected."""
    from catalog.importer import ImportFailed, import_file
    from bot.dispatch import utcnow

    settings = _settings()
    db = _database(settings)
    try:
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, transient=True) as bar:
                task = bar.add_task("import", total=None)
                report = import_file(db, file, utcnow(), progress=lambda done, total: bar.update(task, completed=done, total=total))
        else:
            report = import_file(db, file, utcnow())
    except ImportFailed as e:
        click.echo(f"tuanbot: {e}", err=True)
        sys.exit(1)
    click.echo(f"added {report.added}, updated {report.updated}, rejected {len(report.rejected)}")
    for line, reason in report.rejected:
        click.echo(f"line {line}: {reason}")
    sys.exit(1 if report.rejected else 0)


@main.command()
@click.option("--group", "group", default="demo", show_default=True, help="The group to type in.")
@click.option("--user", "user", default="me", show_default=True, help="Who you are in it.")
@click.option("--name", "name", default=None, help="Your name in the group (as a bridge's sender_name).")
@click.option("--owner", is_flag=True, help="Act as the group's owner.")
@click.option("--mention", is_flag=True,
              help="Address every line to the bot, as if it began with @团购助手 (without it, talk stays unanswered).")
def chat(group: str, user: str, name: str | None, owner: bool, mention: bool) -> None:
    """A local console: type as a member of a group and read the bot's replies, as the group would."""
    from bot.dispatch import Dispatcher
    from handlers.context import Message

    settings = _settings()
    logging.basicConfig(level=logging.WARNING)
    db = _database(settings)
    dispatcher = Dispatcher(db, owners=settings.owner_ids, tz=settings.tz, public_url=settings.public_url,
                            quiet=settings.quiet)
    role = "owner" if owner else "member"
    tty = sys.stdin.isatty()
    if tty:
        click.echo(f"tuanbot chat: group {group}, you are {name or user} ({role}). Type 帮助 or help; Ctrl-D leaves.")
    while True:
        try:
            line = input("> " if tty else "")
        except (EOFError, KeyboardInterrupt):
            break
        if not line.strip():
            continue
        msg = Message(channel="console", chat_id=group, sender_id=user, text=line, msg_id=uuid.uuid4().hex,
                      sender_role=role, sender_name=name, mentions_bot=mention)
        for text in dispatcher.handle(msg).reply.texts:
            click.echo(text)
    if tty:
        click.echo()
