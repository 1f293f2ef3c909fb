"""Statements of the per-message path, compiled once per dialect and run on the driver's cursor.

SQLAlchemy's Connection.execute costs ~35 us of Python per statement on top of the driver (execution
context, cache lookup, result wrapping), several times what SQLite takes to run a short statement;
a chat message runs four to seven of them (bench/bridge_throughput.py). A `Prepared` keeps the Core
statement as the single source of its SQL, compiles it once per dialect, and converts values with
the column types' own bind and result processors, so UTCDateTime, JSON and Boolean behave exactly
as they do through Connection.execute. It runs inside the caller's transaction (same connection).

What it does not do, on purpose: Python-side column defaults (name every value), expanding IN
parameters, and wrapping driver errors (callers catch `integrity_error(conn)` for constraint
violations; anything else propagates and rolls the unit of work back as usual).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

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
        self._plans: dict[str, _Plan] = {}

    def _run(self, conn: Connection, params: dict[str, Any]):
        dialect = conn.dialect
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _compile(self.statement, dialect)
        if plan.fixed or plan.bind:
            params = {**plan.fixed, **params}  # a copy: the caller's values stay as given
            for name, process in plan.bind:
                params[name] = process(params[name])
        driver = conn.connection.driver_connection  # sqlite3's and psycopg's connections both execute()
        if plan.names is None:
            return plan, driver.execute(plan.sql, params)
        return plan, driver.execute(plan.sql, [params[n] for n in plan.names])

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


def integrity_error(conn: Connection) -> type[Exception]:
    """The driver's IntegrityError (sqlite3's or psycopg's): a unique or check constraint said no."""
    return conn.dialect.loaded_dbapi.IntegrityError


def _compile(statement: Executable, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    if getattr(compiled, "escaped_bind_names", None):
        raise ValueError("Prepared needs plain bind names")
    bind, fixed = {}, {}
    for param, name in compiled.bind_names.items():  # each bind parameter and the name it got in the SQL
        if param.expanding:
            raise ValueError("Prepared does not expand IN parameters")
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
