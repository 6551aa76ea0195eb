"""Price lists: a customer group's prices per storefront and currency, kept by staff, and
applied wherever catalog tells a price — product pages and searches, and the internal lookup cart
and orders price lines with. Which price a group caller pays is `domain.list_price`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain
from atelier_catalog.context import CatalogContext
from atelier_catalog.domain import ListPrice, PriceGroup
from atelier_catalog.errors import InvalidPriceList, PriceListNotFound, StorefrontNotFound, UnknownStorefront
from atelier_catalog.models import PriceList, PriceListPrice
from atelier_catalog.repository import CustomerGroupCopies, PriceListRepository
from atelier_catalog.schemas import PriceListCreate, PriceListEntry, PriceListUpdate
from atelier_common import audit
from atelier_common.auth import Principal
from atelier_common.columns import utcnow
from atelier_common.contracts.identity import CustomerGroupChanged, CustomerGroupDeleted
from atelier_common.service import UseCase
from atelier_common.storefronts import UnknownStorefront as NoSuchStorefront
from atelier_common.versions import check_version

PriceKey = tuple[uuid.UUID, uuid.UUID | None]


class GroupPrices:
    """What a group's caller is shown and charged: the readers' side of the price lists."""

    def __init__(self, session: AsyncSession) -> None:
        self.price_lists = PriceListRepository(session)

    async def of(self, group: PriceGroup, currency_of: Mapping[uuid.UUID, str]) -> dict[PriceKey, ListPrice]:
        """The list prices that apply to these products (by id, with their currency)."""
        if not currency_of:
            return {}
        return domain.best_list_prices(await self.price_lists.prices_for(group, currency_of), currency_of)

    async def apply_to_views(self, group: PriceGroup | None, views: Sequence[dict[str, Any]]) -> None:
        """Product views (pages, searches, a product) priced for `group`: `price` becomes the list
        price where one applies, with `list_price` and `price_list` saying so (variants alike)."""
        if group is None or not views:
            return
        prices = await self.of(group, {_uuid(view["id"]): view["currency"] for view in views})
        if not prices:
            return
        for view in views:
            _apply_to_view(view, prices)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _apply_to_view(view: dict[str, Any], prices: Mapping[PriceKey, ListPrice]) -> None:
    product_id, base = _uuid(view["id"]), Decimal(str(view["price"]))
    price, source = domain.list_price(prices, product_id, base)
    sources = [source] if source is not None else []
    if source is not None:
        view["price"], view["list_price"] = price, base
    variants = []
    for variant in view.get("variants") or ():
        variant = dict(variant)
        own = _decimal(variant.get("price"))
        price, source = domain.list_price(prices, product_id, base, _uuid(variant["id"]), own)
        if source is not None:
            variant["price"], variant["list_price"] = price, domain.effective_price(own, base)
            sources.append(source)
        variants.append(variant)
    if "variants" in view:
        view["variants"] = variants
    if sources:
        view["price_list"] = {"id": sources[0].price_list_id, "name": sources[0].price_list_name}


class PriceListService(UseCase[CatalogContext]):
    """Staff's price lists: merchandisers and admins keep them; every write is audited."""

    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.price_lists = PriceListRepository(session)

    # With `staff`, an API key limited to some storefronts (`Principal.may_touch`) finds only their
    # lists and makes none on another (docs/security.md, "API keys").

    async def all(self, storefront: str | None, staff: Principal | None = None) -> Sequence[PriceList]:
        return [found for found in await self.price_lists.all(storefront)
                if staff is None or staff.may_touch(found.storefront)]

    async def get(self, price_list_id: uuid.UUID, staff: Principal | None = None) -> PriceList:
        found = await self.price_lists.get(price_list_id)
        if found is None or (staff is not None and not staff.may_touch(found.storefront)):
            raise PriceListNotFound()
        return found

    async def create(self, data: PriceListCreate, *, staff: Principal, storefront: str) -> PriceList:
        """A new list on `storefront` (the one the staffer named, else the request's)."""
        if not staff.may_touch(storefront):
            raise StorefrontNotFound()
        await self._check_scope(storefront, data.currency, data.customer_group)
        now = utcnow()
        price_list = PriceList(id=uuid.uuid4(), name=data.name, storefront=storefront, currency=data.currency,
                               customer_group=data.customer_group, is_active=data.is_active, created_at=now,
                               updated_at=now)
        self.session.add(price_list)
        await self.session.flush()
        await self.price_lists.add_prices(await self._entries(price_list, data.prices))
        self.session.expunge(price_list)  # read back with its prices
        created = await self.get(price_list.id)
        await audit.record(self.session, staff, "price_list.create", "price_list", created.id, after=_state(created))
        return created

    async def update(self, price_list_id: uuid.UUID, data: PriceListUpdate, *, staff: Principal,
                     if_match: str | None = None) -> PriceList:
        """The fields sent; `prices` replaces the list's prices. A form built from another version
        is refused (409 `STALE_VERSION`): the list is locked while it is judged and written."""
        price_list = await self.price_lists.get(price_list_id, lock=True)
        if price_list is None or not staff.may_touch(price_list.storefront):
            raise PriceListNotFound()
        check_version(data.expected_version or if_match, price_list.version, _read(price_list))
        changes = data.changes()
        before = _state(price_list)
        for name in ("name", "is_active"):
            if name in changes:
                setattr(price_list, name, changes[name])
        if data.prices is not None:
            await self.price_lists.replace_prices(price_list, await self._entries(price_list, data.prices))
        if not changes:
            return price_list
        price_list.updated_at = utcnow()
        await self.session.flush()
        self.session.expunge(price_list)  # read back with its new prices
        updated = await self.get(price_list_id)
        await audit.record(self.session, staff, "price_list.update", "price_list", updated.id, before=before,
                           after=_state(updated))
        return updated

    async def delete(self, price_list_id: uuid.UUID, *, staff: Principal, if_match: str | None = None) -> None:
        """Gone at once: orders already placed keep the prices they were charged."""
        price_list = await self.price_lists.get(price_list_id, lock=True)
        if price_list is None or not staff.may_touch(price_list.storefront):
            raise PriceListNotFound()
        check_version(if_match, price_list.version, _read(price_list))
        before = _state(price_list)
        await self.price_lists.remove(price_list)
        await audit.record(self.session, staff, "price_list.delete", "price_list", price_list_id, before=before)

    async def _check_scope(self, slug: str, currency: str, group: str) -> None:
        fields: dict[str, list[str]] = {}
        try:
            storefront = await self.context.storefronts.get(slug)
        except NoSuchStorefront as exc:
            raise UnknownStorefront(details={"fields": {"storefront": [f"no storefront has the slug {slug!r}"]}}) from exc
        # Only a group staff made in identity (catalog's copy): a list for a group nobody can be in is a mistake.
        groups = CustomerGroupCopies(self.session)
        if not await groups.exists(slug, group):
            known = await groups.codes(slug)
            fields["customer_group"] = [f"storefront {slug!r} has no customer group {group!r}"
                                        + (f" (it has {', '.join(known)})" if known else " (it has none)")]
        if not storefront.sells_currency(currency):
            fields["currency"] = [f"storefront {slug!r} sells in {storefront.currency}"]
        if fields:
            raise InvalidPriceList(details={"fields": fields})

    async def _entries(self, price_list: PriceList, entries: Iterable[PriceListEntry]) -> list[PriceListPrice]:
        """The rows of `entries`, each checked before anything is written: goods that exist, in the
        list's currency, a variant of that product, each (product, variant) once."""
        entries = list(entries)
        products = await self.price_lists.products_of(e.product_id for e in entries)
        variants = await self.price_lists.variants_of(e.variant_id for e in entries if e.variant_id is not None)
        problems: list[str] = []
        seen: set[PriceKey] = set()
        for position, entry in enumerate(entries):
            key = (entry.product_id, entry.variant_id)
            if key in seen:
                problems.append(f"prices[{position}]: the product (and variant) is priced twice")
            seen.add(key)
            currency, kind = products.get(entry.product_id, (None, None))
            if currency is None:
                problems.append(f"prices[{position}]: no product {entry.product_id}")
            elif not domain.may_have_list_price(kind):
                problems.append(f"prices[{position}]: a {kind} has no list price (goods only)")
            elif currency != price_list.currency:
                problems.append(f"prices[{position}]: the product sells in {currency}, the list in {price_list.currency}")
            if entry.variant_id is not None and variants.get(entry.variant_id) != entry.product_id:
                problems.append(f"prices[{position}]: no variant {entry.variant_id} of that product")
        if problems:
            raise InvalidPriceList(details={"fields": {"prices": problems}})
        return [PriceListPrice(price_list_id=price_list.id, product_id=e.product_id, variant_id=e.variant_id,
                               price=e.price) for e in entries]


def _state(price_list: PriceList) -> dict[str, Any]:
    """What the audit log keeps of a list."""
    return {"name": price_list.name, "storefront": price_list.storefront, "currency": price_list.currency,
            "customer_group": price_list.customer_group, "is_active": price_list.is_active,
            "prices": {f"{p.product_id}/{p.variant_id or ''}": str(p.price) for p in price_list.prices}}


def _read(price_list: PriceList) -> dict[str, Any]:
    """The current state a stale edit is answered with (`details.current`)."""
    return {**_state(price_list), "id": str(price_list.id), "version": price_list.version}


class CustomerGroupCopyService(UseCase[CatalogContext]):
    """Keeps catalog's copy of identity's customer groups (its events): what `_check_scope` reads."""

    async def changed(self, event: CustomerGroupChanged) -> None:
        await CustomerGroupCopies(self.session).apply(event.storefront, event.code, name=event.name,
                                                      revision=event.revision, deleted=False)

    async def deleted(self, event: CustomerGroupDeleted) -> None:
        """Its price lists stay (staff may delete them): no token carries the group now, so they price nobody."""
        await CustomerGroupCopies(self.session).apply(event.storefront, event.code, name=event.code,
                                                      revision=event.revision, deleted=True)
