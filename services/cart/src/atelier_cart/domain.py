"""The cart's rules as pure functions: line limits, stock, totals and tax. No I/O."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from atelier_common.contracts.catalog import TAX_INCLUSIVE_KINDS, TaxClass, class_rate, tax_contained, tax_due
from atelier_common.contracts.identity import ALL_KINDS, Storefront
from atelier_common.money import quantize

# S1: "1-99 items per product per cart": the line limit where a storefront sets none
# (`StorefrontPolicies.cart_line_limit`; see `line_limit`).
MAX_LINE_QUANTITY = 99
# A storefront without a cap (limit 0) sells up to the stock; this bounds a line of a product that
# counts no stock, one request and the column's CHECK.
UNCAPPED_LINE_QUANTITY = 1_000_000


@dataclass(frozen=True)
class ProductFacts:
    """What catalog says about a product or one of its variants, at a point in time."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    name: str
    variant_name: str | None
    sku: str
    kind: str
    price: Decimal
    currency: str
    stock_quantity: int
    track_inventory: bool
    is_active: bool
    image_url: str | None
    # The storefronts that sell it (empty: every storefront; `Storefront.offers`).
    storefronts: Sequence[str] = ()
    # How it is taxed (`contracts.catalog.TaxClass`).
    tax_class: str = TaxClass.STANDARD.value


@dataclass(frozen=True)
class CartTax:
    """How a storefront's carts are taxed: `rate` (a tax class's own in `class_rates`) added on the
    lines of kinds not in `inclusive_kinds`."""

    rate: Decimal
    inclusive_kinds: frozenset[str]
    class_rates: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Totals:
    item_count: int
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    # Of `tax_amount`, what the prices already include (the total adds only the rest).
    tax_included: Decimal = Decimal("0.00")


def offered(storefront: Storefront, product: ProductFacts) -> bool:
    """Whether `storefront` sells `product` (its kind, its storefronts): the platform's one rule."""
    return storefront.offers(product.kind, product.storefronts)


def cart_tax(storefront: Storefront, inclusive_kinds: Iterable[str]) -> CartTax:
    """The tax of a cart on `storefront`: its rate; every kind tax-inclusive on a storefront whose
    prices include tax, else `inclusive_kinds` (the settings', the digital goods by default)."""
    return CartTax(rate=storefront.tax.rate,
                   inclusive_kinds=frozenset(ALL_KINDS) if storefront.tax.inclusive else frozenset(inclusive_kinds),
                   class_rates=dict(storefront.tax.tax_rates))


def currency_after_add(storefront: Storefront, cart_currency: str, has_lines: bool,
                       product_currency: str) -> str | None:
    """The currency a cart on `storefront` is in once a product priced in `product_currency`
    joins it; None: the product may not join it (CURRENCY_MISMATCH), see `expected_currency`."""
    if not has_lines and storefront.takes_any_currency:
        return product_currency
    return product_currency if product_currency == expected_currency(storefront, cart_currency, has_lines) else None


def expected_currency(storefront: Storefront, cart_currency: str, has_lines: bool) -> str:
    """The currency a product must be priced in to join a cart. A cart with lines holds one
    currency, its own. An empty cart takes its storefront's (a cart starts in it, and the
    storefront may have changed currency since). The default storefront keeps the rule of an
    install before storefronts, whose catalog mixes currencies: there an empty cart takes the
    currency of the first line added (`currency_after_add`)."""
    return cart_currency if has_lines else storefront.currency


def line_name(name: str, variant_name: str | None) -> str:
    """The name a line shows: a variant is named after its product, e.g. "Slab (2 cm)"."""
    return f"{name} ({variant_name})" if variant_name else name


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return quantize(unit_price * quantity)


def line_limit(storefront: Storefront) -> int:
    """The most of one product a cart line on `storefront` holds: its `cart_line_limit`, the
    install's `MAX_LINE_QUANTITY` without one, and only the stock (`UNCAPPED_LINE_QUANTITY`) for 0."""
    limit = storefront.policies.cart_line_limit
    if limit is None:
        return MAX_LINE_QUANTITY
    return min(limit, UNCAPPED_LINE_QUANTITY) if limit > 0 else UNCAPPED_LINE_QUANTITY


def within_line_limit(quantity: int, limit: int = MAX_LINE_QUANTITY) -> bool:
    return 1 <= quantity <= limit


def available_stock(track_inventory: bool, stock_quantity: int) -> int | None:
    """How many units may be put in a line; None when the product keeps no stock count."""
    return max(stock_quantity, 0) if track_inventory else None


def stock_change_matters(*, stock_only: bool, track_inventory: bool, before: int | None, after: int,
                         limit: int = MAX_LINE_QUANTITY) -> bool:
    """Whether a product change can alter a cart's decision. A change of the stock alone, of a
    product that counts none, or from and to at least the line limit (`limit`: the largest any
    storefront applies; every stock from it up allows the same lines) changes none: a sale of a
    well-stocked product costs the cart no write. Which stock the read model then keeps does not
    matter while both are above the limit, and a change that crosses it is never skipped (the
    newest one wins there)."""
    if not stock_only or before is None:
        return True
    if not track_inventory:
        return False
    return min(before, after) < limit


def has_stock_for(quantity: int, available: int | None) -> bool:
    return available is None or quantity <= available


def merged_quantity(wanted: int, available: int | None, limit: int = MAX_LINE_QUANTITY) -> int:
    """A merged line: the summed quantities, capped at the line limit and at the stock (may be 0)."""
    capped = min(wanted, limit)
    return capped if available is None else min(capped, available)


def ordered_units(lines: Iterable[tuple[uuid.UUID, uuid.UUID | None, int]]) -> dict[
        tuple[uuid.UUID, uuid.UUID | None], int]:
    """The units an order took of each (product, variant), from its (product, variant, quantity)
    lines: what leaves the cart it was placed from (a line named twice counts twice)."""
    units: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {}
    for product_id, variant_id, quantity in lines:
        units[(product_id, variant_id)] = units.get((product_id, variant_id), 0) + quantity
    return units


def cart_totals(lines: Iterable[tuple[str, Decimal, int, str]], tax_rate: Decimal, *,
                inclusive_kinds: Iterable[str] = TAX_INCLUSIVE_KINDS,
                class_rates: Mapping[str, Decimal] | None = None) -> Totals:
    """Totals of (kind, unit_price, quantity, tax_class) lines with nothing off and nothing shipped:
    the subtotal is the sum of the rounded line totals. Each line is taxed at its class's rate
    (`contracts.catalog.class_rate`: `class_rates`, else `tax_rate`, `zero` 0); per rate, tax is
    added on the lines of tax-exclusive kinds, half-up to the cent on their sum (S1: 427.50 of goods
    at 9% → 38.48), and the tax the others' prices hold is reported beside (`tax_due`,
    `tax_contained`: orders' pricing rule for such lines; a cart with a discount shows orders' own
    pricing)."""
    by_rate: dict[Decimal, list[tuple[str, Decimal]]] = {}
    subtotal, item_count = Decimal("0"), 0
    for kind, price, quantity, tax_class in lines:
        total = line_total(price, quantity)
        subtotal, item_count = subtotal + total, item_count + quantity
        by_rate.setdefault(class_rate(tax_class, tax_rate, class_rates or {}), []).append((kind, total))
    added = sum((tax_due(group, rate, inclusive_kinds=inclusive_kinds) for rate, group in by_rate.items()),
                Decimal("0.00"))
    held = sum((tax_contained(group, rate, inclusive_kinds=inclusive_kinds) for rate, group in by_rate.items()),
               Decimal("0.00"))
    subtotal = quantize(subtotal)
    return Totals(item_count=item_count, subtotal=subtotal, tax_amount=added + held, total=subtotal + added,
                  tax_included=held)
