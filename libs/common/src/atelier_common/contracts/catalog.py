"""What catalog publishes: its events, the product as other services read it over HTTP, and the
product kinds with the rules every consumer of a kind shares (what a pack grants, how it is taxed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict

from atelier_common.events.envelope import ContractModel, IntegrationEvent
from atelier_common.money import Money

# The surrogate key (`atelier_common.cdn`) of every public answer that lists catalog products: the
# catalog purges it at a CDN whenever a product changes; another service's public answer built
# from products (payments' subscription plans) carries it too, and is purged with them.
PRODUCT_LIST_KEY = "product-list"


class ProductKind(StrEnum):
    """What a product is. Contracts carry the kind as a plain string (a consumer must not fail on
    a kind added later); compare it with these members, never with literals."""

    PHYSICAL = "physical"
    CREDIT_PACK = "credit_pack"
    RETRY_PACK = "retry_pack"
    SUBSCRIPTION_PLAN = "subscription_plan"
    PRINT_TIER = "print_tier"
    # A gift card sold as a product: each unit paid issues a card worth its unit price (payments).
    # Never stocked nor shipped, and taxed only when redeemed (an EU multi-purpose voucher), so
    # catalog keeps its tax class `zero`.
    GIFT_CARD = "gift_card"


DIGITAL_KINDS: tuple[ProductKind, ...] = (ProductKind.CREDIT_PACK, ProductKind.RETRY_PACK,
                                          ProductKind.SUBSCRIPTION_PLAN, ProductKind.PRINT_TIER)
# Kinds an order or a cart may hold. A subscription plan is sold through billing (a recurring
# charge), never as an order line: an order of one would be paid and deliver nothing.
PURCHASABLE_KINDS: frozenset[str] = frozenset(kind for kind in ProductKind if kind is not ProductKind.SUBSCRIPTION_PLAN)
# Kinds whose price already includes tax unless a service's settings say otherwise: digital goods
# are shown at the price charged (PACK_5 costs 4.99 USD, tax included); goods get tax added.
TAX_INCLUSIVE_KINDS: frozenset[str] = frozenset({ProductKind.CREDIT_PACK, ProductKind.RETRY_PACK,
                                                 ProductKind.SUBSCRIPTION_PLAN})


class TaxClass(StrEnum):
    """How a product is taxed, whatever its kind (Saleor's tax classes): at the destination's
    standard rate, at its reduced rate (books, food), or not at all. Contracts carry it as a plain
    string, like the kind."""

    STANDARD = "standard"
    REDUCED = "reduced"
    ZERO = "zero"


TAX_CLASSES: tuple[str, ...] = tuple(tax_class.value for tax_class in TaxClass)


def class_rate(tax_class: str, standard: Decimal, rates: Mapping[str, Decimal]) -> Decimal:
    """The rate a line of `tax_class` is taxed at where the standard rate is `standard` and
    `rates` holds the classes' own (`StorefrontTax.tax_rates`): its own rate, else 0 for `zero`
    and the standard rate for the others (a class this process does not know: never under-taxed).
    The one rule of orders' pricing and the cart's own totals."""
    if tax_class in rates:
        return rates[tax_class]
    return Decimal("0") if tax_class == TaxClass.ZERO else standard


def is_purchasable(kind: str) -> bool:
    return kind in PURCHASABLE_KINDS


def tax_due(lines: Iterable[tuple[str, Decimal]], rate: Decimal, *,
            inclusive_kinds: Iterable[str] = TAX_INCLUSIVE_KINDS) -> Decimal:
    """The tax added on top of (kind, line total) lines: `rate` on the lines of tax-exclusive
    kinds, half-up to the cent; lines of `inclusive_kinds` already include theirs (nothing added)."""
    inclusive = frozenset(inclusive_kinds)
    taxable = sum((total for kind, total in lines if kind not in inclusive), Decimal("0"))
    return (taxable * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def tax_contained(lines: Iterable[tuple[str, Decimal]], rate: Decimal, *,
                  inclusive_kinds: Iterable[str] = TAX_INCLUSIVE_KINDS) -> Decimal:
    """The tax the prices of (kind, line total) lines of `inclusive_kinds` already hold: their sum
    × rate / (1 + rate), half-up to the cent (orders' pricing rule for undiscounted, unshipped lines)."""
    inclusive = frozenset(inclusive_kinds)
    held = sum((total for kind, total in lines if kind in inclusive), Decimal("0"))
    if held <= 0 or rate <= 0:
        return Decimal("0.00")
    return (held * rate / (1 + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None


# The attribute a pack's unit grants, by kind.
_GRANTED_BY: Mapping[str, str] = {ProductKind.CREDIT_PACK: "credits", ProductKind.RETRY_PACK: "retries"}


def pack_grant(kind: str, attributes: Mapping[str, Any], quantity: int) -> int | None:
    """What one line of a pack grants: credits for a credit pack (`attributes["credits"]`),
    retries for a retry pack (`attributes["retries"]`), per unit × quantity. None when the line
    is of another kind or its attribute is missing, not a positive whole number, or the quantity
    is not positive: the caller skips (and logs) it, it never guesses a number."""
    attribute = _GRANTED_BY.get(kind)
    if attribute is None or quantity <= 0:
        return None
    per_unit = _positive_int(attributes.get(attribute))
    return per_unit * quantity if per_unit is not None else None


def credits_granted(attributes: Mapping[str, Any], quantity: int) -> int | None:
    """Credits a credit-pack line grants (see `pack_grant`)."""
    return pack_grant(ProductKind.CREDIT_PACK, attributes, quantity)


def retries_granted(attributes: Mapping[str, Any], quantity: int) -> int | None:
    """Retries a retry-pack line grants (see `pack_grant`)."""
    return pack_grant(ProductKind.RETRY_PACK, attributes, quantity)


class VariantSnapshot(ContractModel):
    """A variant as `GET /internal/products/{id}` gives it; `price` is what it sells at and
    `is_active` its own flag (it is on sale only while its product is too)."""

    id: uuid.UUID
    name: str
    sku: str
    price: Money
    stock_quantity: int = 0
    attributes: dict[str, Any] = {}
    is_active: bool = True


class ProductSnapshot(ContractModel):
    """A product as catalog's internal API gives it to cart and orders (`GET
    /internal/products/{ref}`, `POST /internal/products/lookup`): inactive products included, with
    `is_active` meaning *sellable now* (the product is active and no category above it is hidden),
    so the caller can tell "gone" from "unknown"."""

    id: uuid.UUID
    name: str
    slug: str | None = None
    sku: str
    kind: str
    price: Money
    currency: str
    stock_quantity: int = 0
    track_inventory: bool = True
    in_stock: bool = True
    is_active: bool = True
    attributes: dict[str, Any] = {}
    image_url: str | None = None
    variants: list[VariantSnapshot] = []
    # The storefronts that sell it (empty: every storefront; `Storefront.offers`).
    storefronts: list[str] = []
    # Its own category (not its parents): what a category promotion covers (orders).
    category_id: uuid.UUID | None = None
    # How it is taxed (`TaxClass`); its variants are taxed as it is.
    tax_class: str = TaxClass.STANDARD.value

    def variant(self, variant_id: uuid.UUID) -> VariantSnapshot | None:
        return next((v for v in self.variants if v.id == variant_id), None)


class ProductSnapshots(ContractModel):
    """The answer of `POST /internal/products/lookup`; unknown products are simply absent."""

    results: list[ProductSnapshot] = []


class ProductChanged(IntegrationEvent):
    """What carts need to know about a product (or one of its variants) after any change.

    For a variant, `sku`, `price` (what it sells at), `stock_quantity` and `attributes` (the
    product's, overridden by the variant's) are the variant's; `is_active` is false when either
    the product or the variant is inactive. `stock_only`: only the stock moved (a sale, a released
    reservation), the other facts are as last announced; a reader of those alone may skip it.
    `previous_stock_quantity`: with `stock_only`, the stock before this change (None: not said), so
    that a reader for whom both sides are the same (a cart, above its line limit) may skip it too.
    """

    type = "catalog.product_changed"
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    name: str
    variant_name: str | None = None
    slug: str | None = None
    sku: str
    kind: str
    price: Decimal
    compare_price: Decimal | None = None
    currency: str
    stock_quantity: int
    track_inventory: bool = True
    is_active: bool
    image_url: str | None = None
    attributes: dict[str, Any] = {}
    stock_only: bool = False
    previous_stock_quantity: int | None = None
    # The storefronts that sell it (empty: every storefront; `Storefront.offers`).
    storefronts: list[str] = []
    # How it is taxed (`TaxClass`), a variant as its product.
    tax_class: str = TaxClass.STANDARD.value


class ProductLowStock(IntegrationEvent):
    """A stock change took a product's (or variant's) units at one stock location from above a
    storefront's low-stock threshold to at or below it (`StorefrontPolicies.low_stock_threshold`): once per crossing and storefront that
    sells it, again only after the stock went back above. Identity mails the storefront's
    `alert_emails` (none: its active merchandisers and admins)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"storefront": "shop", "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "variant_id": None,
         "name": "Stone Sealer 1 L", "sku": "SEAL-PRO-1L", "stock_quantity": 7, "previous_stock_quantity": 12,
         "threshold": 10, "location_id": "00000000-0000-4000-8000-00000000d0c1", "location": "Main stock"}]})

    type = "product.low_stock"
    storefront: str
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    # The product's name; a variant's is "Product (Variant)".
    name: str
    sku: str
    stock_quantity: int
    previous_stock_quantity: int
    threshold: int
    # Added by catalog (optional): the stock location whose units crossed the threshold (the counts
    # above are that location's). None: the product's total, as in events from before locations.
    location_id: uuid.UUID | None = None
    location: str | None = None


class StockLine(ContractModel):
    """One line of a stock decision."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    requested: int
    available: int


class StockSource(ContractModel):
    """Units of one product (or variant) an order takes from one stock location."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    location_id: uuid.UUID
    location: str
    quantity: int


class StockReserved(IntegrationEvent):
    """Every line of the order is held for it (or needed no stock)."""

    type = "stock.reserved"
    order_id: uuid.UUID
    # Added by catalog (optional): where the units come from, a line split across locations
    # having one entry per location. Events from before locations: none.
    sources: list[StockSource] = []


class StockEditReserved(IntegrationEvent):
    """The units an order edit adds (`order.edit_requested`) are held for the order."""

    type = "stock.edit_reserved"
    order_id: uuid.UUID
    edit_id: uuid.UUID


class StockEditRejected(IntegrationEvent):
    """The units an order edit adds could not be held; nothing was taken."""

    type = "stock.edit_rejected"
    order_id: uuid.UUID
    edit_id: uuid.UUID
    reason: str
    lines: list[StockLine] = []


class StockRejected(IntegrationEvent):
    """At least one line could not be held; nothing was reserved."""

    type = "stock.rejected"
    order_id: uuid.UUID
    reason: str
    lines: list[StockLine] = []
