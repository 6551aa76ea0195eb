"""Products and variants as plain rows: what other services' lookups, the stock reservation and
`catalog.product_changed` need of them, read by statements built once.

These paths run on every checkout: building a statement and its cache key, then ORM objects with
their images and variants, cost more CPU than PostgreSQL spent running the queries. Staff edits
and browsing keep the ORM (`products`, `search`). The reads of a checkout itself (the lookup orders
price an order with, `order.placed`'s) are `Statement`s, their lists arrays on PostgreSQL
(`_shared.one_of`).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, exists, not_, or_
from sqlalchemy import select as sa_select

from atelier_catalog.models import StockReservation
from atelier_catalog.repository._shared import _IMAGE, _PRODUCT, _VARIANT, SessionRepository
from atelier_catalog.visibility import CATEGORY_ON_SALE
from atelier_common.columns import table_of
from atelier_common.db import Statement, one_of


@dataclass
class ProductFacts:
    """A product row with whether a category above it is hidden and its image for lists."""

    id: uuid.UUID
    name: str
    slug: str
    sku: str
    kind: str
    price: Decimal
    compare_price: Decimal | None
    currency: str
    stock_quantity: int
    track_inventory: bool
    is_active: bool
    attributes: dict[str, Any]
    storefronts_key: str
    tax_class: str
    category_id: uuid.UUID | None = None
    category_hidden: bool = False
    image_url: str | None = None


@dataclass
class VariantFacts:
    id: uuid.UUID
    product_id: uuid.UUID
    name: str
    sku: str
    price: Decimal | None
    stock_quantity: int
    attributes: dict[str, Any]
    is_active: bool
    created_at: datetime


PRODUCT_ROW = [_PRODUCT.c[f.name] for f in fields(ProductFacts) if f.name not in ("category_hidden", "image_url")]
VARIANT_ROW = [_VARIANT.c[f.name] for f in fields(VariantFacts)]
_VARIANT_ORDER = (_VARIANT.c.created_at, _VARIANT.c.id)  # the order of `Product.variants`
# `domain.primary_image_url` in SQL: the first primary image in display order, else the first.
_IMAGE_URL = (sa_select(_IMAGE.c.url).where(_IMAGE.c.product_id == _PRODUCT.c.id)
              .order_by(_IMAGE.c.is_primary.desc(), _IMAGE.c.display_order, _IMAGE.c.created_at, _IMAGE.c.id)
              .limit(1).scalar_subquery())
_PRODUCT_FACTS = [*PRODUCT_ROW, not_(CATEGORY_ON_SALE).label("category_hidden"), _IMAGE_URL.label("image_url")]


def _products(*where: Any) -> Select[Any]:
    return sa_select(*_PRODUCT_FACTS).where(*where).order_by(_PRODUCT.c.id)


def _by_ids_or_skus(postgres: bool) -> Select[Any]:
    return _products(or_(one_of(_PRODUCT.c.id, "ids", postgres=postgres),
                         one_of(_PRODUCT.c.sku, "skus", postgres=postgres)))


def _variants_of(postgres: bool) -> Select[Any]:
    return (sa_select(*VARIANT_ROW).where(one_of(_VARIANT.c.product_id, "ids", postgres=postgres))
            .order_by(*_VARIANT_ORDER))


_BY_ID = _products(_PRODUCT.c.id == bindparam("product"))
_BY_SLUG = _products(_PRODUCT.c.slug == bindparam("slug"))
# The lookup orders price every order with (`ProductService.lookup`).
_BY_IDS_OR_SKUS = Statement(_by_ids_or_skus(True), sqlite=_by_ids_or_skus(False))
_VARIANTS_OF = Statement(_variants_of(True), sqlite=_variants_of(False))
_FACTS_OF = _products(_PRODUCT.c.id.in_(bindparam("ids", expanding=True)))
_VARIANTS = sa_select(*VARIANT_ROW).where(_VARIANT.c.id.in_(bindparam("ids", expanding=True))).order_by(*_VARIANT_ORDER)

# What `order.placed` reads before it takes any stock lock, in one round trip: whether the order
# already holds reservations, and its products (and the variants it names) as they are now. The
# one-row `held` subquery keeps the answer when no product is known.
_RESERVATION = table_of(StockReservation)
_HELD = sa_select(exists().where(_RESERVATION.c.order_id == bindparam("order")).label("held")).subquery("held")
_NAMED_VARIANT = _VARIANT.alias("named_variant")


def _for_order(postgres: bool) -> Select[Any]:
    return (
        sa_select(_HELD.c.held, *_PRODUCT_FACTS, *[c.label(f"variant_{c.name}") for c in _NAMED_VARIANT.c
                                                  if c.name in {f.name for f in fields(VariantFacts)}])
        .select_from(_HELD.outerjoin(_PRODUCT, one_of(_PRODUCT.c.id, "ids", postgres=postgres))
                     .outerjoin(_NAMED_VARIANT, (_NAMED_VARIANT.c.product_id == _PRODUCT.c.id)
                                & one_of(_NAMED_VARIANT.c.id, "variant_ids", postgres=postgres)))
        .order_by(_PRODUCT.c.id, _NAMED_VARIANT.c.created_at, _NAMED_VARIANT.c.id))


_FOR_ORDER = Statement(_for_order(True), sqlite=_for_order(False))
_VARIANT_LABELS = {f.name: f"variant_{f.name}" for f in fields(VariantFacts)}


def product_facts(row: Mapping[Any, Any], **extra: Any) -> ProductFacts:
    values = {f.name: row[f.name] for f in fields(ProductFacts) if f.name in row}
    # SQLite answers a boolean expression as 0/1.
    values["category_hidden"] = bool(values.get("category_hidden"))
    return ProductFacts(**(values | extra))


def variant_facts(row: Mapping[Any, Any]) -> VariantFacts:
    return VariantFacts(**{f.name: row[f.name] for f in fields(VariantFacts)})


@dataclass
class OrderFacts:
    """`ProductFactsRepository.for_order`: whether the order holds reservations already; its products and
    the variants it names, by id."""

    held: bool
    products: dict[uuid.UUID, ProductFacts]
    variants: dict[uuid.UUID, VariantFacts]


class ProductFactsRepository(SessionRepository):
    async def get(self, product_id: uuid.UUID | None, slug: str) -> tuple[ProductFacts, list[VariantFacts]] | None:
        """By id when `product_id` is given, else by slug; with every variant."""
        if product_id is not None:
            result = await self.session.execute(_BY_ID, {"product": product_id})
        else:
            result = await self.session.execute(_BY_SLUG, {"slug": slug})
        row = result.mappings().first()
        if row is None:
            return None
        product = product_facts(row)
        return product, (await self.variants_of([product.id])).get(product.id, [])

    async def find(self, ids: Collection[uuid.UUID], skus: Collection[str]) -> list[ProductFacts]:
        """By id or SKU, in id order."""
        if not ids and not skus:
            return []
        rows = await self._named(_BY_IDS_OR_SKUS, {"ids": list(ids), "skus": list(skus)})
        return [product_facts(row) for row in rows]

    async def of(self, product_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ProductFacts]:
        if not product_ids:
            return {}
        result = await self.session.execute(_FACTS_OF, {"ids": list(product_ids)})
        return {row["id"]: product_facts(row) for row in result.mappings()}

    async def variants_of(self, product_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[VariantFacts]]:
        """Every variant of these products, in `Product.variants` order."""
        by_product: dict[uuid.UUID, list[VariantFacts]] = {}
        if product_ids:
            for row in await self._named(_VARIANTS_OF, {"ids": list(product_ids)}):
                by_product.setdefault(row["product_id"], []).append(variant_facts(row))
        return by_product

    async def variants(self, variant_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, VariantFacts]:
        if not variant_ids:
            return {}
        result = await self.session.execute(_VARIANTS, {"ids": list(variant_ids)})
        return {row["id"]: variant_facts(row) for row in result.mappings()}

    async def for_order(self, order_id: uuid.UUID, product_ids: Collection[uuid.UUID],
                        variant_ids: Collection[uuid.UUID]) -> OrderFacts:
        """Whether the order holds reservations, its products and the variants it names (a
        variant of another product is not found): one statement (`_FOR_ORDER`)."""
        rows = await self._named(_FOR_ORDER, {"order": order_id, "ids": list(product_ids),
                                              "variant_ids": list(variant_ids)})
        facts = OrderFacts(held=False, products={}, variants={})
        for row in rows:
            facts.held = bool(row["held"])
            if row["id"] is not None and row["id"] not in facts.products:
                facts.products[row["id"]] = product_facts(row)
            if row["variant_id"] is not None:
                facts.variants[row["variant_id"]] = VariantFacts(
                    **{name: row[label] for name, label in _VARIANT_LABELS.items()})
        return facts

    async def _named(self, stmt: Statement, params: dict[str, Any]) -> list[dict[str, Any]]:
        """`stmt`'s rows as dicts by column name, as `product_facts` and `variant_facts` read them."""
        keys = stmt.keys
        return [dict(zip(keys, row, strict=True)) for row in await stmt.rows(self.session, params)]
