"""Staff searches' optional filters (orders, the ledger): each value given narrows the statement by
its condition, a value left None does not narrow it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")
Filters = Mapping[str, Callable[[Any], ColumnElement[bool]]]


def where_given(stmt: SelectOfScalar[T], filters: Filters, values: object) -> SelectOfScalar[T]:
    """`stmt` narrowed by `filters[name](value)` for each attribute `name` of `values` that is not None."""
    conditions = [condition(value) for name, condition in filters.items()
                  if (value := getattr(values, name)) is not None]
    return stmt.where(*conditions) if conditions else stmt
