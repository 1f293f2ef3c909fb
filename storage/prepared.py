"""Statements of the per-message path, compiled once per dialect and run on the driver's cursor.

SQLAlchemy's Connection.execute adds an execution context, a cache lookup and result wrapping to every
statement, several times what SQLite takes to run a short one, and a chat message runs four to seven
(bench/README.md has the figures). A `Prepared` keeps the Core statement as the single source of its
SQL, compiles it once per dialect class, and converts values with the column types' own bind and result
processors, so UTCDateTime, JSON and Boolean behave exactly as they do through Connection.execute. It
runs inside the caller's transaction (same connection).

It behaves as Connection.execute would where a caller can tell: a driver error is raised as SQLAlchemy
raises it (`sqlalchemy.exc.IntegrityError`, `OperationalError`, … with the driver's error as `.orig`),
and a lost connection is invalidated, so the pool never hands it out again. What it refuses, when the
statement is prepared rather than when it runs: expanding IN parameters, and an INSERT or UPDATE that
leaves out a column whose table declares a Python-side default (`default=` / `onupdate=`), which only
SQLAlchemy's execution context would fill in. Name every such value instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.expression import Executable


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...] | None  # positional drivers (sqlite3): the bind name of each "?"
    bind: tuple[tuple[str, Callable[[Any], Any]], ...]  # (name, processor) for binds that need one
    fixed: dict[str, Any]  # values the statement carries itself (`col == 5`, `.values(status="pending")`)
    result: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, processor) for columns that need one


class Prepared:
    """One statement; `all`, `first`, `scalar`, `rowcount` and `returned` run it on a Connection."""

    def __init__(self, statement: Executable):
        self.statement = statement
        # Keyed by the dialect's class, not its name: two PostgreSQL drivers render and convert differently.
        self._plans: dict[type, _Plan] = {}
        _check(statement)  # refuse what cannot run right now, not at the first message

    def _run(self, conn: Connection, params: dict[str, Any]):
        dialect = conn.dialect
        plan = self._plans.get(type(dialect))
        if plan is None:
            plan = self._plans[type(dialect)] = _compile(self.statement, dialect)
        if plan.fixed or plan.bind:
            params = {**plan.fixed, **params}  # a copy: the caller's values stay as given
            for name, process in plan.bind:
                params[name] = process(params[name])
        # The pool holds a synchronous driver's own connection (sqlite3's, psycopg's: both execute()) as
        # `dbapi_connection`, a plain attribute; `driver_connection` reaches the same object through
        # three property calls, on every statement.
        driver = conn.connection.dbapi_connection
        args = params if plan.names is None else [params[n] for n in plan.names]
        try:
            return plan, driver.execute(plan.sql, args)
        except dialect.loaded_dbapi.Error as e:
            raise _as_sqlalchemy(conn, e, plan.sql, args) from e

    def all(self, conn: Connection, params: dict[str, Any]) -> list[tuple]:
        plan, cursor = self._run(conn, params)
        rows = cursor.fetchall()
        cursor.close()
        if not plan.result:
            return rows  # sqlite3 and psycopg both give tuples
        return [_convert(plan.result, r) for r in rows]

    def first(self, conn: Connection, params: dict[str, Any]) -> tuple | None:
        plan, cursor = self._run(conn, params)
        row = cursor.fetchone()
        cursor.close()
        if row is None:
            return None
        return _convert(plan.result, row) if plan.result else row

    def scalar(self, conn: Connection, params: dict[str, Any]) -> Any:
        row = self.first(conn, params)
        return None if row is None else row[0]

    def returned(self, conn: Connection, params: dict[str, Any]) -> Any:
        """An INSERT … RETURNING's first returned value (the new id)."""
        return self.scalar(conn, params)

    def rowcount(self, conn: Connection, params: dict[str, Any]) -> int:
        _, cursor = self._run(conn, params)
        count = cursor.rowcount
        cursor.close()
        return count


def run_plain(conn: Connection, sql: str) -> None:
    """A statement with no parameters and no result (SAVEPOINT, RELEASE …) on the driver, errors as SQLAlchemy's."""
    try:
        conn.connection.dbapi_connection.execute(sql).close()
    except conn.dialect.loaded_dbapi.Error as e:
        raise _as_sqlalchemy(conn, e, sql, ()) from e


def _as_sqlalchemy(conn: Connection, error: Exception, sql: str, params: Any) -> BaseException:
    """The exception Connection.execute would raise for this driver error; a lost connection is invalidated."""
    dialect = conn.dialect
    disconnect = dialect.is_disconnect(error, conn.connection.dbapi_connection, None)
    if disconnect and not conn.invalidated:
        conn.invalidate(error)
    return exc.DBAPIError.instance(
        sql, params, error, dialect.loaded_dbapi.Error, connection_invalidated=disconnect, dialect=dialect,
    )


def _check(statement: Executable) -> None:
    """Compiled for the statement's own default dialect: what no dialect could run raises here."""
    _refuse(statement.compile())


def _refuse(compiled) -> None:
    for param in compiled.bind_names:
        if param.expanding:
            raise ValueError("Prepared does not expand IN parameters")
    defaulted = [*getattr(compiled, "insert_prefetch", ()), *getattr(compiled, "update_prefetch", ())]
    if defaulted:
        raise ValueError(
            "Prepared runs no Python-side column defaults; give a value for "
            + ", ".join(f"{c.table.name}.{c.name}" for c in defaulted)
        )


def _compile(statement: Executable, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    _refuse(compiled)
    if getattr(compiled, "escaped_bind_names", None):
        raise ValueError("Prepared needs plain bind names")
    bind, fixed = {}, {}
    for param, name in compiled.bind_names.items():  # each bind parameter and the name it got in the SQL
        if not param.required:
            fixed[name] = param.effective_value
        process = param.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            bind[name] = process  # by name: a parameter used twice is converted once
    result = tuple(
        (i, process)
        for i, col in enumerate(statement.exported_columns)  # a SELECT's columns, or an INSERT … RETURNING's
        if (process := col.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
    )
    names = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    return _Plan(compiled.string, names, tuple(bind.items()), fixed, result)


def _convert(processors: tuple, row) -> tuple:
    row = list(row)
    for i, process in processors:
        if row[i] is not None:
            row[i] = process(row[i])
    return tuple(row)
