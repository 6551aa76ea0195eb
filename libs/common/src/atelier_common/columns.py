"""Column types every service's tables share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, String, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored and read back as aware UTC on both backends.

    SQLite keeps no offset: values are converted to UTC before they are written (so stored values
    also compare correctly as text) and read back with the UTC zone attached. A naive value is
    taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class utc_day(FunctionElement[str]):  # lower case: used as a SQL function is, `utc_day(column)`
    """The UTC calendar day of a `UtcDateTime` column as `YYYY-MM-DD` text, on both backends: what
    a per-day report groups by. PostgreSQL turns a timestamptz into a date in the session's time
    zone, so the zone is named; SQLite stores UTC already (`UtcDateTime`)."""

    type = String()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


def json_field(*, nullable: bool = False) -> Any:
    """A JSON document column: JSONB on PostgreSQL, JSON text on SQLite. Defaults to `{}`, or to
    NULL when `nullable`."""
    column = Column(JSON().with_variant(JSONB(), "postgresql"), nullable=nullable)
    return Field(default=None, sa_column=column) if nullable else Field(default_factory=dict, sa_column=column)


def table_of(model: type[SQLModel]) -> Table:
    """A table model's `Table` (for Core statements built once). SQLModel sets `__table__` on every
    `table=True` class at runtime but declares it for no type checker: this is the one place that says so."""
    table: Table = model.__table__  # type: ignore[attr-defined]  # set at class creation, undeclared by SQLModel
    return table
