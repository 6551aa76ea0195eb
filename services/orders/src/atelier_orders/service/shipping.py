"""What shipping an address would cost: the caller's cart priced for a destination by every method
its zone offers, with its promotions (its code and the automatic ones), the tax and the total the
order would have. Each method is priced by placement's own function (`placing.price_order`, on
`pricing.price`), so the total shown for a method is what `POST /orders` charges with that method
and an address there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atelier_common.contracts.identity import Storefront
from atelier_common.money import quantize
from atelier_orders import domain
from atelier_orders.service.placing import Buyer, PlacementService, basket_line, price_order
from atelier_orders.service.promotions import Customer


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
        lines = await self._priced(await self._cart_lines(buyer, storefront), storefront, buyer.customer_group)
        currency = self._one_currency(lines, storefront)
        ships = domain.requires_shipping(line.product.kind for line in lines)
        # What the order would save: the cart's code (left out when it no longer applies, as the
        # cart then shows it) and the automatic promotions.
        promotions = await self.promotions.quote(
            storefront.slug, Customer(owner_id=buyer.owner_id, user_id=buyer.user_id, email=buyer.email),
            self.cart_code, [basket_line(line) for line in lines])
        quote = self._shipping_quote(storefront, lines, {"country": country, "state": region}, promotions)
        options = []
        for choice in quote.options if ships else (None,):
            priced = price_order(lines, promotions, quote, choice)
            options.append(PricedOption(code=choice.code if choice else None, id=choice.id if choice else None,
                                        name=choice.name if choice else None, shipping_cost=priced.shipping_cost,
                                        tax_amount=priced.tax_amount, discount=priced.discount,
                                        total_amount=priced.total))
        subtotal = quantize(sum((domain.line_total(line.unit_price, line.request.quantity) for line in lines),
                                Decimal("0")))
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
                 "tax_amount": option.tax_amount, "discount": option.discount, "total_amount": option.total_amount}
                for option in options.options]
