"""Products: browsing (public), administration (staff) and lookups for other services."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import replace
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain, visibility
from atelier_catalog.context import CatalogContext
from atelier_catalog.domain import Language, ListPrices, PriceGroup, ProductFilter, ProductKind, TaxClass, Visibility
from atelier_catalog.errors import CategoryNotFound, ProductNotFound, SkuExists, SlugExists, UnknownCategory
from atelier_catalog.models import DEFAULT_LOCATION_ID, Product, StockMovement
from atelier_catalog.repository import (
    CategoryRepository,
    LocationRepository,
    ProductFacts,
    ProductFactsRepository,
    ProductRepository,
    VariantFacts,
)
from atelier_catalog.schemas import (
    ProductCreate,
    ProductLookup,
    ProductQuery,
    ProductUpdate,
)
from atelier_catalog.service._shared import (
    check_sold_in,
    check_storefronts_in_scope,
    flush_unique,
    load_product,
    publish_changes,
    storefronts_key,
)
from atelier_catalog.service.price_lists import GroupPrices
from atelier_catalog.service.translations import Texts
from atelier_common import audit
from atelier_common.auth import Principal
from atelier_common.contracts.catalog import ProductSnapshot, VariantSnapshot
from atelier_common.service import UseCase

INITIAL_STOCK_REASON = "initial stock"


class ProductService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session, estimates=context.estimates)
        self.categories = CategoryRepository(session)
        self.facts = ProductFactsRepository(session)
        self.exact_count_limit = context.settings.exact_count_limit

    # -- browsing --------------------------------------------------------------------------

    # With a `group` (a business customer), prices are that group's where its lists have one
    # (`GroupPrices.apply_to_views`); filters and ordering by price use the catalog's own prices.

    # With a `language` other than the storefront's default, names and descriptions are its
    # translations where they have one (`Texts`), and a search matches them too.

    async def list(self, query: ProductQuery, visibility: Visibility, *, limit: int, offset: int,
                   group: PriceGroup | None = None, language: Language | None = None,
                   ) -> tuple[int, bool, builtins.list[dict[str, Any]]]:
        """(count, whether the count is an estimate, the page as product views)."""
        count, estimated, views = await self.products.list(self._filter(query, language), visibility, limit=limit,
                                                           offset=offset, exact_count_limit=self.exact_count_limit)
        await GroupPrices(self.session).apply_to_views(group, views)
        await Texts(self.session).localize_products(language, views)
        return count, estimated, views

    async def list_in_category(self, ref: str, query: ProductQuery, visibility: Visibility, *, limit: int,
                               offset: int, group: PriceGroup | None = None, language: Language | None = None,
                               ) -> tuple[int, bool, builtins.list[dict[str, Any]]]:
        category = await self.categories.get_readable(ref, visibility)
        if category is None:
            raise CategoryNotFound()
        filters = replace(self._filter(query, language), category=str(category.id))
        count, estimated, views = await self.products.list(filters, visibility, limit=limit, offset=offset,
                                                           exact_count_limit=self.exact_count_limit)
        await GroupPrices(self.session).apply_to_views(group, views)
        await Texts(self.session).localize_products(language, views)
        return count, estimated, views

    async def get(self, ref: str, visibility: Visibility, *, group: PriceGroup | None = None,
                  language: Language | None = None) -> dict[str, Any]:
        product = await self.products.get_view(ref, visibility)
        if product is None:
            raise ProductNotFound()
        await GroupPrices(self.session).apply_to_views(group, [product])
        await Texts(self.session).localize_products(language, [product])
        return product

    @staticmethod
    def _filter(query: ProductQuery, language: Language | None = None) -> ProductFilter:
        search = query.search.strip() if query.search else None
        translated = search and language is not None and language.translated
        return ProductFilter(locale=language.locale if translated and language is not None else None,
            search=search or None, terms=domain.search_terms(search), category=query.category,
            min_price=query.min_price, max_price=query.max_price, in_stock=query.in_stock,
            featured=query.featured, kind=query.kind, ordering=domain.parse_ordering(query.ordering),
            active=None if query.status is None else query.status == "active", stock=query.stock)

    # -- administration --------------------------------------------------------------------

    async def create(self, data: ProductCreate, *, actor_id: uuid.UUID | None,
                     check_storefronts: bool = True, staff: Principal | None = None) -> Product:
        """`check_storefronts=False`: the storefronts are written as given (the demo seed). With
        `staff`, every write here is in the audit log, in its transaction, and an API key limited
        to some storefronts makes products of those alone (`check_storefronts_in_scope`)."""
        check_storefronts_in_scope(staff, data.storefronts)
        attributes = domain.validate_attributes(data.kind, data.attributes)
        scope = await storefronts_key(self.context.storefronts, data.storefronts, check=check_storefronts)
        if check_storefronts:
            await check_sold_in(self.context.storefronts, data.storefronts, data.currency)
        await self._check_category(data.category_id)
        await self._check_sku(data.sku)
        slug = await self._slug_for(data.slug, data.name)
        track_inventory = domain.kind_tracks_inventory(data.kind, data.track_inventory)
        tax_class = domain.kind_tax_class(data.kind, data.tax_class, explicit="tax_class" in data.model_fields_set)
        product = Product(**data.model_dump(exclude={"slug", "kind", "tax_class", "attributes", "track_inventory",
                                                     "storefronts"}),
                          slug=slug, kind=data.kind.value, tax_class=tax_class.value, attributes=attributes,
                          track_inventory=track_inventory,
                          storefronts_key=scope, number=await self.products.next_number())
        self.session.add(product)
        await flush_unique(self.session)
        if product.stock_quantity:
            await LocationRepository(self.session).seed([(product.id, None, product.stock_quantity)])
            self.products.add_movement(StockMovement(
                product_id=product.id, delta=product.stock_quantity, quantity_after=product.stock_quantity,
                reason=INITIAL_STOCK_REASON, actor_id=actor_id, location_id=DEFAULT_LOCATION_ID))
            await self.session.flush()
        product = await load_product(self.products, str(product.id))
        await publish_changes(self.session, product)
        if staff is not None:
            await audit.record(self.session, staff, "product.create", "product", product.id,
                               after={"sku": product.sku, "name": product.name, "price": product.price,
                                      "stock_quantity": product.stock_quantity})
        return product

    async def update(self, ref: str, data: ProductUpdate, *, staff: Principal | None = None) -> Product:
        product = await load_product(self.products, ref, staff=staff)
        changes = data.changes()
        if "kind" in changes or "attributes" in changes:
            kind = ProductKind(changes.get("kind", product.kind))
            changes["attributes"] = domain.validate_attributes(kind, changes.get("attributes", product.attributes))
            changes["kind"] = kind.value
        if "tax_class" in changes:
            changes["tax_class"] = TaxClass(changes["tax_class"]).value
        kind = ProductKind(changes.get("kind", product.kind))
        if kind is ProductKind.GIFT_CARD:
            # Turning a product into a gift card makes it untaxed at sale and unstocked unless told otherwise.
            changes["tax_class"] = domain.kind_tax_class(
                kind, TaxClass(changes.get("tax_class", product.tax_class)), explicit="tax_class" in changes).value
            changes["track_inventory"] = domain.kind_tracks_inventory(kind, changes.get("track_inventory", False))
        if "storefronts" in changes:
            slugs = changes.pop("storefronts")
            check_storefronts_in_scope(staff, slugs)
            changes["storefronts_key"] = await storefronts_key(self.context.storefronts, slugs)
        else:
            slugs = domain.storefronts_of(product.storefronts_key)
        if "storefronts_key" in changes or "currency" in changes:
            # Judged when either changes: an older product that breaks the rule stays editable otherwise.
            await check_sold_in(self.context.storefronts, slugs, changes.get("currency", product.currency))
        if "category_id" in changes:
            await self._check_category(changes["category_id"])
        if "sku" in changes and changes["sku"] != product.sku:
            await self._check_sku(changes["sku"], except_id=product.id)
        if "slug" in changes and changes["slug"] != product.slug:
            changes["slug"] = await self._slug_for(changes["slug"], product.name, except_id=product.id)
        before = {name: getattr(product, name) for name, value in changes.items() if getattr(product, name) != value}
        for name, value in changes.items():
            setattr(product, name, value)
        await flush_unique(self.session)
        product = await load_product(self.products, str(product.id))
        await publish_changes(self.session, product, variants=product.variants)
        if staff is not None and before:  # a PUT that changes nothing is no staff write worth a row
            await audit.record(self.session, staff, "product.update", "product", product.id, before=before,
                               after={name: getattr(product, name) for name in before})
        return product

    async def deactivate(self, ref: str, *, staff: Principal | None = None) -> None:
        """Products are never deleted: orders, carts and reviews keep pointing at them."""
        product = await load_product(self.products, ref, staff=staff)
        was_active = product.is_active
        product.is_active = False
        await self.session.flush()
        product = await load_product(self.products, str(product.id))
        await publish_changes(self.session, product, variants=product.variants)
        if staff is not None:
            await audit.record(self.session, staff, "product.deactivate", "product", product.id,
                               before={"is_active": was_active}, after={"is_active": False})

    async def _check_category(self, category_id: uuid.UUID | None) -> None:
        if category_id is not None and not await self.products.category_exists(category_id):
            raise UnknownCategory(details={"fields": {"category_id": ["does not exist"]}})

    async def _check_sku(self, sku: str, *, except_id: uuid.UUID | None = None) -> None:
        if await self.products.sku_taken(sku, except_id=except_id):
            raise SkuExists(details={"sku": sku})

    async def _slug_for(self, requested: str | None, name: str, *, except_id: uuid.UUID | None = None) -> str:
        """A slug the caller chose must be free (409); one we generate steps aside instead."""
        if requested is not None:
            if await self.products.slug_taken(requested, except_id=except_id):
                raise SlugExists(details={"slug": requested})
            return requested
        base = domain.slugify(name)
        return domain.unique_slug(base, await self.products.slugs_like(base))

    # -- other services (/internal) ------------------------------------------------------

    async def get_for_service(self, ref: str) -> ProductSnapshot:
        """Active or not (`is_active` says whether it is on sale), so callers tell gone from unknown."""
        found = await self.facts.get(domain.parse_uuid(ref), ref)
        if found is None:
            raise ProductNotFound()
        product, variants = found
        return _snapshot(product, variants)

    async def lookup(self, data: ProductLookup) -> builtins.list[ProductSnapshot]:
        """With `storefront` and `customer_group`, the prices are what that group pays there:
        what cart freezes and orders charge a business customer."""
        # Orders price every order with this: plain rows, two statements (`ProductFactsRepository`).
        products = await self.facts.find(data.ids, data.skus)
        variants = await self.facts.variants_of([p.id for p in products])
        prices: ListPrices = {}
        if data.storefront and data.customer_group and products:
            group = domain.PriceGroup(storefront=data.storefront, customer_group=data.customer_group)
            prices = await GroupPrices(self.session).of(group, {p.id: p.currency for p in products})
        snapshots = [_snapshot(p, variants.get(p.id, []), prices) for p in products]
        if data.locale and snapshots:
            return await self._translated_names(data.locale, snapshots)
        return snapshots

    async def _translated_names(self, locale: str, snapshots: builtins.list[ProductSnapshot],
                                ) -> builtins.list[ProductSnapshot]:
        """Names in `locale` where they have one, each falling back to the product's own."""
        names, variant_names = await Texts(self.session).names(
            locale, (s.id for s in snapshots), (v.id for s in snapshots for v in s.variants))
        return [snapshot.model_copy(update={
            "name": domain.translated_text(snapshot.name, names.get(snapshot.id)),
            "variants": [v.model_copy(update={"name": domain.translated_text(v.name, variant_names.get(v.id))})
                         for v in snapshot.variants]}) for snapshot in snapshots]


def _snapshot(product: ProductFacts, variants: builtins.list[VariantFacts], prices: ListPrices | None = None,
              ) -> ProductSnapshot:
    on_sale = visibility.product_sellable(product, category_hidden=product.category_hidden)
    prices = prices or {}
    price, _ = domain.list_price(prices, product.id, product.price)
    return ProductSnapshot(
        id=product.id, name=product.name, slug=product.slug, sku=product.sku, kind=ProductKind(product.kind),
        price=price, currency=product.currency, stock_quantity=product.stock_quantity,
        track_inventory=product.track_inventory,
        in_stock=domain.is_in_stock(product.track_inventory, product.stock_quantity),
        is_active=on_sale, attributes=product.attributes, image_url=product.image_url,
        storefronts=domain.storefronts_of(product.storefronts_key), category_id=product.category_id,
        tax_class=product.tax_class,
        variants=[VariantSnapshot(
            id=v.id, name=v.name, sku=v.sku, price=domain.list_price(prices, product.id, product.price, v.id, v.price)[0],
            stock_quantity=v.stock_quantity, attributes=v.attributes, is_active=v.is_active)
            for v in variants])
