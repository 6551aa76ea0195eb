"""The `statements` fast path: a Core statement compiled once for psycopg and run on the
transaction's own psycopg connection, rows back as plain tuples (`db.Statement` uses it).

SQLAlchemy's execution of a prepared Core statement adds 50–120 µs of CPU to psycopg's ~140 µs
(greenlet hops, the execution context, the result). What is kept from it: the bind and result
processors of the column types (psycopg's own conversions leave most of them None; they run only
when one is not), errors as SQLAlchemy's exception classes (`IntegrityError`…), the
`before_cursor_execute` listeners (the statement-count tests). For that it reads SQLAlchemy's
compiled statement (`_result_columns`, `_bind_processors`, the `__[POSTCOMPILE_name]` placeholder
it leaves for a `literal_execute` value), a type's `_cached_result_processor` and the engine's
`dispatch`: private, pinned (`sqlalchemy<2.2`), checked by the canary test.
Switched off (`ATELIER_FAST_PATHS`), `db.Statement` runs `session.execute` instead.

It also chooses what PostgreSQL plans once: a statement is prepared on its connection, so that
PostgreSQL may keep a generic plan after five runs, unless its best plan depends on the values of
a run (`planned_per_run`); with the fast path off nothing is prepared and every statement is
planned for its values, as whatever SQLAlchemy runs itself always is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

import psycopg
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

# What makes a statement's best plan depend on its values (`planned_per_run`): a LIMIT or an
# OFFSET given per run, a pattern other than a literal of the SQL's own, a text search (`@@`,
# trigram `%`, `similarity`). Read with the SQL's string literals emptied, whose `%%` are no operators.
_VALUE_DEPENDENT_PLAN = re.compile(r"\b(LIMIT|OFFSET)\s+%\(|\b(I?LIKE)\s+(?!''(?!\s*\|\|))|\bsimilarity\b|@@|%%",
                                   re.IGNORECASE)
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
# A LIMIT or an OFFSET by a bound value, and the name of that value.
_BOUND_LIMIT = re.compile(r"\b(LIMIT|OFFSET) %\((\w+)\)s(::INTEGER)?")

_PSYCOPG = postgresql_psycopg.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialect constructor is untyped


def planned_per_run(sql: str) -> bool:
    """Whether a statement's best plan depends on the values of a run: a LIMIT or an OFFSET given
    per run, a pattern or a text search. PostgreSQL's generic plan, made once for any values, is
    blind to them (a catalog walk sorted whole tables under one), so such a statement runs
    unprepared and is planned for its values every time. A pattern written into the SQL (a
    `literal_execute` value: the storefront's scope in catalog's pages) is seen by any plan."""
    return bool(_VALUE_DEPENDENT_PLAN.search(_STRING_LITERAL.sub("''", sql)))


class Compiled:
    """`stmt` compiled for psycopg (the very SQL SQLAlchemy would send). Named, non-expanding
    parameters only (no `IN` lists): others raise `TypeError` here. A value bound with
    `literal_execute=True` is written into the SQL as a literal, as SQLAlchemy's own execution
    writes it."""

    __slots__ = ("_defaults", "_processors", "_readers", "_types", "keys", "prepare", "sql")

    def __init__(self, stmt: Executable, *, per_run: bool | None = None) -> None:
        compiled: Any = cast(Any, stmt).compile(dialect=_PSYCOPG)  # every Executable here is a ClauseElement
        if compiled.positional or any(bind.expanding for bind in compiled.bind_names):
            raise TypeError("a Statement takes named, non-expanding parameters")
        self._types = [column.type for column in compiled._result_columns]
        # Per column, what turns psycopg's value into the type's (None: as psycopg read it), from
        # the column types PostgreSQL answers the first run with; [] when no column needs one.
        self._readers: list[Callable[[Any], Any] | None] | None = None
        self.keys: list[str] = [column.keyname for column in compiled._result_columns]
        self.sql: str = compiled.string
        for bind, name in compiled.bind_names.items():
            if bind.literal_execute and not bind.required:  # as SQLAlchemy's execution writes it in
                self.sql = self.sql.replace(f"__[POSTCOMPILE_{name}]",
                                            compiled.render_literal_value(bind.effective_value, bind.type))
        # The values the statement carries itself (literals), by the names the SQL gives them, with
        # their types' bind processors applied once; the processors of the values given per run.
        processors = dict(compiled._bind_processors)
        self._defaults = {name: processors[name](bind.effective_value) if name in processors else bind.effective_value
                          for bind, name in compiled.bind_names.items() if not bind.required and not bind.literal_execute}
        self._processors: dict[str, Callable[[Any], Any]] = {
            name: process for name, process in processors.items() if name not in self._defaults}
        # A LIMIT or an OFFSET the statement fixes itself (a scalar subquery's LIMIT 1) is written
        # into the SQL, where a plan made once sees it, as it sees any literal.
        self.sql = _BOUND_LIMIT.sub(self._inline_constant, self.sql)
        # Prepared, so that PostgreSQL may keep a plan for it per connection (planning was a third
        # of PostgreSQL's CPU in a checkout, a few statements' planning many times their run),
        # unless its plan is to be made for its values at every run (`planned_per_run`).
        self.prepare = not (planned_per_run(self.sql) if per_run is None else per_run)

    def _inline_constant(self, bound: re.Match[str]) -> str:
        value = self._defaults.get(bound.group(2))
        if type(value) is not int:  # given per run, or not a count
            return bound.group(0)
        del self._defaults[bound.group(2)]  # in the SQL now, no longer a parameter
        return f"{bound.group(1)} {value}"

    async def run(self, conn: AsyncConnection, driver: Any, params: dict[str, Any], *,
                  fetch: bool) -> tuple[list[Any], int]:
        """Run on `driver`, the psycopg connection of `conn` (the session's, in its transaction)."""
        values = {**self._defaults, **params}
        for name, process in self._processors.items():
            values[name] = process(values[name])
        for listener in conn.sync_engine.dispatch.before_cursor_execute:
            listener(conn.sync_connection, None, self.sql, values, None, False)
        try:
            async with driver.cursor() as cursor:
                await cursor.execute(self.sql, values, prepare=self.prepare)
                rows = await cursor.fetchall() if fetch else []
                if rows and (readers := self._readers_for(conn.dialect, cursor)):
                    rows = [tuple(value if read is None else read(value) for read, value in zip(readers, row, strict=True))
                            for row in rows]
                return rows, cursor.rowcount
        except psycopg.Error as exc:
            # A lost connection leaves the pool, as SQLAlchemy's own check (`is_disconnect`) has it.
            lost = driver.closed or driver.broken
            if lost:
                await conn.invalidate(exc)
            raise DBAPIError.instance(self.sql, values, exc, psycopg.Error, connection_invalidated=lost) from exc

    def _readers_for(self, dialect: Any, cursor: Any) -> list[Callable[[Any], Any] | None] | None:
        if self._readers is None:  # `description` builds its objects on every call: once here
            readers = [type_._cached_result_processor(dialect, column.type_code)
                       for type_, column in zip(self._types, cursor.description, strict=True)]
            self._readers = readers if any(readers) else []
        return self._readers or None
