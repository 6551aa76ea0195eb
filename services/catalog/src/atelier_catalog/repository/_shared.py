"""What every repository module shares: the tables as Core objects, the dialect, references."""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    false,
)
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog.domain import (
    parse_number,
    parse_uuid,
)
from atelier_catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductVariant,
)
from atelier_common.columns import table_of
from atelier_common.db import on_postgres

_PRODUCT = table_of(Product)
_IMAGE = table_of(ProductImage)
_VARIANT = table_of(ProductVariant)


def ref_condition(model: type[Product] | type[Category], ref: str) -> ColumnElement[bool]:
    """A route's reference: a UUID is the id, digits a product's `number`, anything else the slug."""
    ref_id = parse_uuid(ref)
    if ref_id is not None:
        return col(model.id) == ref_id
    number = parse_number(ref)
    if number is not None:
        return col(Product.number) == number if model is Product else false()
    return col(model.slug) == ref


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _is_postgres(self) -> bool:
        return on_postgres(self.session)

