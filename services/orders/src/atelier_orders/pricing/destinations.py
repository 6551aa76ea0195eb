"""Where an order goes, and what that makes of it: the destination's tax rules (a storefront's,
or its shipping zone's) and its shipping methods with their cost. Pure functions, no I/O
(docs/storefronts.md#shipping-zones)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atelier_common.contracts.identity import ALL_KINDS, ShippingZone, Storefront, with_shipping_ids
from atelier_common.money import quantize
from atelier_orders.domain import SHIPPED_KINDS
from atelier_orders.pricing.charges import TaxRules


def storefront_tax(storefront: Storefront, *, tax_inclusive_kinds: Iterable[str]) -> TaxRules:
    """How a storefront taxes where no zone says otherwise: its rate and its tax classes' rates;
    every kind tax-inclusive when its prices include tax, else the service's tax-inclusive kinds
    (`tax_inclusive_kinds`, digital goods); its flat shipping charge taxed when
    `tax.shipping_taxed` says so."""
    tax = storefront.tax
    return TaxRules(rate=tax.rate,
                    inclusive_kinds=frozenset(ALL_KINDS) if tax.inclusive else frozenset(tax_inclusive_kinds),
                    shipping_taxed=tax.shipping_taxed, shipping_inclusive=tax.inclusive,
                    class_rates=dict(tax.tax_rates))


def zone_tax(zone: ShippingZone, storefront: Storefront, *, tax_inclusive_kinds: Iterable[str]) -> TaxRules:
    """How a zone taxes: its `tax_rate` (else the storefront's), its tax classes' `tax_rates` (else
    the storefront's, but none in a zone that taxes nothing: an export zone exports every class
    untaxed), its `tax_inclusive` (else the storefront's), and shipping taxed with the goods as
    `shipping_taxed` says, by default whenever the zone taxes goods."""
    rate = zone.tax_rate if zone.tax_rate is not None else storefront.tax.rate
    inclusive = storefront.tax.inclusive if zone.tax_inclusive is None else zone.tax_inclusive
    if zone.tax_rates is not None:
        class_rates = dict(zone.tax_rates)
    else:
        class_rates = dict(storefront.tax.tax_rates) if rate > 0 else {}
    return TaxRules(rate=rate,
                    inclusive_kinds=frozenset(ALL_KINDS) if inclusive else frozenset(tax_inclusive_kinds),
                    shipping_taxed=zone.shipping_taxed if zone.shipping_taxed is not None else rate > 0,
                    shipping_inclusive=inclusive, class_rates=class_rates)


# -- shipping zones and methods (docs/storefronts.md#shipping-zones) ---------------------------

# The product (or variant) attribute that says what one unit weighs, in grams: by-weight methods
# add it up over the shipped lines (a line without one weighs nothing).
WEIGHT_ATTRIBUTE = "weight_grams"


def unit_weight(attributes: Mapping[str, Any]) -> int:
    """Grams one unit weighs (`attributes["weight_grams"]`, a whole non-negative number), else 0."""
    value = attributes.get(WEIGHT_ATTRIBUTE)
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return 0
    try:
        grams = Decimal(str(value))
    except ArithmeticError:
        return 0
    return int(grams) if grams.is_finite() and grams > 0 else 0


@dataclass(frozen=True)
class ShippingOption:
    """One way to ship an order and its price. `code` None: a storefront without zones' one charge."""

    code: str | None
    name: str | None
    cost: Decimal
    # The method's id (GET /shipping-methods); None: a storefront without zones' one charge.
    id: str | None = None


@dataclass(frozen=True)
class ShippingQuote:
    """What an address makes of an order on a storefront: its zone, how it taxes there and the
    methods offered with their prices (the first is the default; none: nothing is shipped there)."""

    zone: ShippingZone | None
    tax: TaxRules
    options: tuple[ShippingOption, ...]

    @property
    def tax_rate(self) -> Decimal:
        return self.tax.rate

    def option(self, code: str | None, method_id: str | None = None) -> ShippingOption | None:
        """The method `method_id`, else `code` (both None: the default), or None when it is not offered here."""
        if method_id is not None:
            return next((option for option in self.options if option.id == method_id), None)
        if code is None:
            return self.options[0] if self.options else None
        return next((option for option in self.options if option.code == code), None)


def shipping_quote(storefront: Storefront, *, country: str | None, region: str | None,
                   lines: Iterable[tuple[str, Decimal, int, Mapping[str, Any]]],
                   tax_inclusive_kinds: Iterable[str], shipping_cost: Decimal,
                   locale: str | None = None) -> ShippingQuote:
    """The one rule of shipping and tax by destination, for (kind, amount after discounts, quantity,
    attributes) lines. A storefront without zones: its tax (`storefront_tax`) and its one flat
    charge (`tax.shipping_rate`, else the service's `shipping_cost`). With zones: the address's zone
    (`Storefront.shipping_zone`), its tax (`zone_tax`) and each of its methods priced on what the
    shipped lines cost after their discounts (a free-over threshold is judged on what the buyer
    pays) and on their weight; an address no zone covers: the storefront's tax and no method. Each
    method is named in `locale` where it has a name there (`ShippingMethod.name_in`)."""
    tax = storefront_tax(storefront, tax_inclusive_kinds=tax_inclusive_kinds)
    if not storefront.shipping_zones:
        flat = storefront.tax.shipping_rate if storefront.tax.shipping_rate is not None else shipping_cost
        return ShippingQuote(zone=None, tax=tax, options=(ShippingOption(code=None, name=None, cost=quantize(flat)),))
    zone = storefront.shipping_zone(country, region)
    if zone is None:
        return ShippingQuote(zone=None, tax=tax, options=())
    shipped = [(amount, unit_weight(attributes) * qty)
               for kind, amount, qty, attributes in lines if kind in SHIPPED_KINDS]
    subtotal = quantize(sum((amount for amount, _ in shipped), Decimal("0")))
    weight = sum(grams for _, grams in shipped)
    return ShippingQuote(
        zone=zone, tax=zone_tax(zone, storefront, tax_inclusive_kinds=tax_inclusive_kinds),
        options=tuple(ShippingOption(code=method.code, name=method.name_in(locale), id=str(method.id),
                                     cost=quantize(method.cost(subtotal=subtotal, weight_grams=weight)))
                      for method in zone.methods))


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def shipping_method_id(zone: str | None, method: str | None) -> uuid.UUID | None:
    """The id `GET /shipping-methods` listed for the method coded `method` of the zone coded `zone`,
    for orders placed before the id was kept. A method staff created (`POST /staff/shipping-zones/{id}/methods`)
    is coded by its id; one written in the storefront's zones without an id has the id derived from its
    code and its zone's (`with_shipping_ids`), a zone staff created being coded by its id too."""
    if method is None:
        return None
    if (own := _as_uuid(method)) is not None:
        return own
    if zone is None:
        return None
    zone_id = _as_uuid(zone)
    derived = with_shipping_ids({"code": zone, **({"id": zone_id} if zone_id else {}), "methods": [{"code": method}]})
    return uuid.UUID(str(derived["methods"][0]["id"]))
