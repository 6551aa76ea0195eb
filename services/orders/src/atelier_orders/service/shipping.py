"""What shipping an address would cost (#56): the caller's cart priced for a destination by every
method its zone offers, with the tax and the total the order would have. The rule is placement's
own (`PlacementService._shipping_quote`, `domain.compute_totals`), so the total shown for a method
is what `POST /orders` charges with that method and an address there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atelier_common.contracts.identity import Storefront
from atelier_common.money import quantize
from atelier_orders import domain
from atelier_orders.service.placing import Buyer, PlacementService


@dataclass(frozen=True)
class PricedOption:
    code: str | None
    id: str | None
    name: str | None
    shipping_cost: Decimal
    tax_amount: Decimal
    discount: Decimal
    total_amount: Decimal


@dataclass(frozen=True)
class ShippingOptions:
    country: str
    region: str | None
    zone: str | None
    zone_name: str | None
    tax_rate: Decimal
    currency: str
    subtotal: Decimal
    ships: bool
    options: list[PricedOption]


class ShippingOptionsService(PlacementService):
    async def options(self, buyer: Buyer, storefront: Storefront, *, country: str,
                      region: str | None) -> ShippingOptions:
        """The buyer's cart on `storefront` sent to `country` / `region`: each method of the zone
        with its cost and the order's tax and total (none when the storefront does not ship there);
        a cart with nothing to ship has one option, without a code, at no cost."""
        lines = await self._priced(await self._cart_lines(buyer, storefront), storefront)
        currency = self._one_currency(lines, storefront)
        ships = domain.requires_shipping(line.product.kind for line in lines)
        quote = self._shipping_quote(storefront, lines, {"country": country, "state": region})
        choices = quote.options if ships else (domain.ShippingOption(code=None, name=None, cost=Decimal("0")),)
        priced = [(line.product.kind, line.unit_price, line.request.quantity) for line in lines]
        options = []
        for choice in choices:
            totals = domain.compute_totals(priced, tax_rate=quote.tax_rate, tax_inclusive_kinds=quote.tax_inclusive_kinds,
                                           shipping_cost=choice.cost, ships=ships)
            options.append(PricedOption(code=choice.code, id=choice.id, name=choice.name,
                                        shipping_cost=totals.shipping_cost,
                                        tax_amount=totals.tax_amount, discount=totals.discount,
                                        total_amount=totals.total_amount))
        subtotal = quantize(sum((domain.line_total(price, qty) for _, price, qty in priced), Decimal("0")))
        return ShippingOptions(country=country, region=region, zone=quote.zone.code if quote.zone else None,
                               zone_name=quote.zone.name if quote.zone else None, tax_rate=quote.tax_rate,
                               currency=currency, subtotal=subtotal, ships=ships, options=options)

    async def methods(self, buyer: Buyer, storefront: Storefront, *, address_id: uuid.UUID | None,
                      country: str | None, region: str | None) -> list[dict[str, Any]]:
        """GET /shipping-methods: each method offered at the buyer's address `address_id` (another
        customer's: 404) or at `country` / `region`, `{id, name, price}` priced for the cart, with the
        order's tax and total beside; empty when no zone covers the address."""
        if address_id is not None:
            address = await self._address(address_id, buyer) or {}
            country, region = address.get("country"), address.get("state")
        options = await self.options(buyer, storefront, country=country or "", region=region)
        return [{"id": option.id, "name": option.name, "price": option.shipping_cost,
                 "tax_amount": option.tax_amount, "total_amount": option.total_amount}
                for option in options.options]
