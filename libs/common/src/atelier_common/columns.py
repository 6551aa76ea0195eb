"""Column types every service's tables share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


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


def json_field(*, nullable: bool = False) -> Any:
    """A JSON document column: JSONB on PostgreSQL, JSON text on SQLite. Defaults to `{}`, or to
    NULL when `nullable`."""
    column = Column(JSON().with_variant(JSONB(), "postgresql"), nullable=nullable)
    return Field(default=None, sa_column=column) if nullable else Field(default_factory=dict, sa_column=column)
