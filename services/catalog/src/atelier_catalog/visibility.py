"""What is on sale, defined once.

A product is *on sale* (shown to customers, sold to them) when it is active and neither its
category nor any category above it is inactive: deactivating a category takes its whole
subtree's products off the shelf, while the products themselves stay active. A variant is on sale
when its product is and it is active itself.

A storefront offers a product when it sells the product's kind and the product is scoped to it or
to every storefront (`Storefront.offers`, the rule cart and orders apply too): `offered_by()` is
that rule as SQL, `in_scope()` its scope half (categories have no kind).

The same definition serves every reader: browsing and wishlists (`on_sale()`, a SQL condition),
the internal lookup other services price orders with, `catalog.product_changed` (its
`is_active`) and the stock reservation at `order.placed` (`product_sellable`/`variant_sellable`,
given which products sit under a hidden category: `ProductRepository.hidden_by_category`).
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy import select as sa_select
from sqlmodel import col

from atelier_catalog.domain import Visibility
from atelier_catalog.models import Category, Product
from atelier_common.columns import table_of
from atelier_common.db import written

_PRODUCT = table_of(Product)
_CATEGORY = table_of(Category)


def _category_on_sale() -> ColumnElement[bool]:
    hidden = (sa_select(col(Category.id)).where(col(Category.is_active) == false())
              .cte("hidden_categories", recursive=True))
    hidden = hidden.union_all(sa_select(col(Category.id)).where(col(Category.parent_id) == hidden.c.id))
    return or_(_PRODUCT.c.category_id.is_(None), _PRODUCT.c.category_id.not_in(sa_select(hidden.c.id)))


# Built once, so that a count estimate can leave it out (see `ProductPages._planned_rows`).
CATEGORY_ON_SALE = _category_on_sale()


def on_sale() -> ColumnElement[bool]:
    """The product table's rows that are on sale (see the module doc)."""
    return and_(_PRODUCT.c.is_active == true(), CATEGORY_ON_SALE)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def in_scope(storefronts_key: Any, slug: str) -> ColumnElement[bool]:
    """Rows of `slug`'s scope: scoped to every storefront (an empty key) or naming `slug`. The
    storefront's values are written into the SQL (`db.written`): one statement per storefront."""
    return or_(storefronts_key == written(""),
               storefronts_key.like(written(f"%,{_like_escaped(slug)},%"), escape="\\"))


def offered_by(visibility: Visibility, table: Any = _PRODUCT) -> list[ColumnElement[bool]]:
    """The conditions on `table` (the product table or a subquery of its columns) that keep what
    `visibility`'s storefront offers: none without a storefront, no kind condition when it sells
    every kind (an install with one storefront pays nothing but the empty-key test)."""
    if visibility.storefront is None:
        return []
    conditions = [in_scope(table.c.storefronts_key, visibility.storefront)]
    if visibility.kinds is not None:
        conditions.append(or_(false(), *(table.c.kind == written(kind) for kind in visibility.kinds)))
    return conditions


def readable(visibility: Visibility) -> list[ColumnElement[bool]]:
    """The product rows `visibility` reads: on sale (unless staff asked for inactive ones) and
    offered by its storefront."""
    return [*([] if visibility.include_inactive else [on_sale()]), *offered_by(visibility)]


def category_readable(visibility: Visibility, table: Any = _CATEGORY) -> list[ColumnElement[bool]]:
    """The category rows `visibility` reads: active (unless staff asked) and in its storefront's scope."""
    conditions = [] if visibility.include_inactive else [table.c.is_active == true()]
    if visibility.storefront is not None:
        conditions.append(in_scope(table.c.storefronts_key, visibility.storefront))
    return conditions


class _Activatable(Protocol):
    @property
    def is_active(self) -> bool: ...


def product_sellable(product: _Activatable, *, category_hidden: bool) -> bool:
    """The rule of `on_sale()` for a loaded product, given whether a category above it is hidden."""
    return product.is_active and not category_hidden


def variant_sellable(variant: _Activatable, *, product_on_sale: bool) -> bool:
    return product_on_sale and variant.is_active
