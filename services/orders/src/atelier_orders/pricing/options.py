"""What shipping costs: a cart priced for a destination by every method its zone offers, with its
promotions (its code and the automatic ones), the tax and the total the order would have.

Each method is priced by placement's own function (`placing.price_order`, on `charges.price`), so
the total shown for a method is what `POST /orders` charges with that method and an address there.
Two callers: `GET /shipping-methods` (the caller's cart, read from the cart service) and the
cart itself (`cart_quote`: the lines it sends, with the destination and method it holds).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from atelier_common.contracts.identity import Storefront
from atelier_orders import domain
from atelier_orders.errors import (
    AddressNotFound,
    CurrencyMismatch,
    NotPurchasable,
    ProductUnavailable,
    ShippingMethodUnavailable,
    ShippingUnavailable,
)
from atelier_orders.pricing import charges, destinations
from atelier_orders.promotions import rules
from atelier_orders.promotions.code_guesses import CodeGuesses
from atelier_orders.promotions.service import Customer, PromotionQuotes, priced_read, quote_read, raise_for
from atelier_orders.schemas import PromotionQuoteRequest
from atelier_orders.service.placing import (
    Buyer,
    LineRequest,
    PlacementService,
    PricedLine,
    basket_line,
    chosen_method,
    price_order,
    shipping_quote,
)

# What keeps a cart from being priced for its destination: shown beside the cart's totals on a
# read, refused when the customer chooses the destination (`QuoteShipping.strict`).
_DESTINATION_PROBLEMS = (AddressNotFound, ShippingUnavailable, ShippingMethodUnavailable, ProductUnavailable,
                         NotPurchasable, CurrencyMismatch)


@dataclass(frozen=True)
class PricedOption:
    """One method (None: nothing is shipped) and the order's money by it."""

    method: destinations.ShippingOption | None
    priced: charges.Priced

    def read(self) -> dict[str, Any]:
        """`{id, name, price, tax_amount, discount, total_amount}`: GET /shipping-methods' item."""
        method, priced = self.method, self.priced
        return {"id": method.id if method else None, "name": method.name if method else None,
                "price": priced.shipping_cost, "tax_amount": priced.tax_amount, "discount": priced.discount,
                "total_amount": priced.total}


@dataclass(frozen=True)
class ShippingOptions:
    destination: destinations.ShippingQuote
    promotions: rules.Quote
    ships: bool
    options: list[PricedOption]

    def chosen(self, method_id: uuid.UUID | None) -> PricedOption:
        """The option the order ships by: `method_id`, else the first (placement's rule)."""
        if not self.ships:
            return self.options[0]
        method = chosen_method(self.destination, None, str(method_id) if method_id else None)
        return next(option for option in self.options if option.method == method)


class ShippingOptionsService(PlacementService):
    async def priced_options(self, buyer: Buyer, storefront: Storefront, lines: Sequence[PricedLine],
                             code: str | None, *, country: str | None, region: str | None,
                             locale: str | None = None) -> ShippingOptions:
        """`lines` sent to `country` / `region`: each method of the zone with the order's money by
        it (none when the storefront does not ship there); nothing to ship: one option, at no cost.
        What the order would save: `code` (left out when it no longer applies, as the cart then
        shows it) and the automatic promotions."""
        ships = domain.requires_shipping(line.product.kind for line in lines)
        promotions = await self.promotions.quote(
            storefront.slug, Customer(owner_id=buyer.owner_id, user_id=buyer.user_id, email=buyer.email,
                                      group=buyer.customer_group),
            code, [basket_line(line) for line in lines])
        destination = shipping_quote(self.settings, storefront, lines, {"country": country, "state": region},
                                     promotions, locale)
        return ShippingOptions(destination=destination, promotions=promotions, ships=ships, options=[
            PricedOption(method, price_order(lines, promotions, destination, method))
            for method in (destination.options if ships else (None,))])

    async def methods(self, buyer: Buyer, storefront: Storefront, *, address_id: uuid.UUID | None,
                      country: str | None, region: str | None, locale: str | None = None) -> list[dict[str, Any]]:
        """GET /shipping-methods: each method offered at the buyer's address `address_id` (another
        customer's: 404) or at `country` / `region`, `{id, name, price}` priced for the cart, with the
        order's tax and total beside; empty when no zone covers the address. Each method is named in
        the caller's `locale` where it has a name there."""
        if address_id is not None:
            address = (await self._address(address_id, buyer))[0] or {}
            country, region = address.get("country"), address.get("state")
        lines = await self.priced_lines(await self._cart_lines(buyer, storefront), storefront, buyer.customer_group)
        self._one_currency(lines, storefront)
        options = await self.priced_options(buyer, storefront, lines, self.cart_code, country=country or "",
                                            region=region, locale=locale)
        return [option.read() for option in options.options]

    async def cart_quote(self, data: PromotionQuoteRequest) -> dict[str, Any]:
        """The cart's question (`POST /internal/promotions/quote`): what its lines save and, when it
        holds a destination (`data.shipping`), what its order would charge sent there by its method.
        A code the customer is applying (`strict`) is a guess: counted when wrong (`code_guesses`)."""
        if not (data.strict and data.code):
            return await self._cart_quote(data)
        async with CodeGuesses.of(self.context).typed(data.owner_id, data.client_ip):
            return await self._cart_quote(data)

    async def _cart_quote(self, data: PromotionQuoteRequest) -> dict[str, Any]:
        shipping = data.shipping
        if shipping is None:
            return await PromotionQuotes(self.session, self.context).quote(data)
        buyer = Buyer(owner_id=data.owner_id, user_id=data.user_id, email=data.email,
                      customer_group=data.customer_group)
        country, region = shipping.country, shipping.region
        try:
            storefront = await self.context.storefronts.get(data.storefront)
            # Kinds and attributes (weights) from catalog; prices as the cart shows them, which
            # `POST /orders` charges (a price changed since: it refuses, and the cart takes it).
            lines = [replace(line, unit_price=line.request.shown_price or Decimal("0")) for line in
                     await self.priced_lines([LineRequest(quantity=line.quantity, product_id=line.product_id,
                                                     variant_id=line.variant_id, shown_price=line.unit_price)
                                         for line in data.lines], storefront)]
            if lines:
                self._one_currency(lines, storefront)
            if shipping.address_id is not None:
                address = (await self._address(shipping.address_id, buyer))[0] or {}
                country, region = address.get("country"), address.get("state")
            options = await self.priced_options(buyer, storefront, lines, data.code, country=country, region=region,
                                                locale=data.locale)
            chosen = options.chosen(shipping.method_id)
        except _DESTINATION_PROBLEMS as problem:
            if shipping.strict:
                raise
            # Shown without shipping, and why (`POST /orders` refuses the same).
            answer = await PromotionQuotes(self.session, self.context).quote(data.model_copy(update={"shipping": None}))
            where = {"address_id": shipping.address_id, "country": country, "region": region}
            return {**answer, "shipping": {**where, "method_id": shipping.method_id,
                                           "problem": {"reason": problem.code, "message": problem.message}}}
        if data.strict and options.promotions.code_problem is not None:
            raise_for(options.promotions.code_problem)
        zone = options.destination.zone
        return {**quote_read(options.promotions, data.code, data.locale), **priced_read(chosen.priced), "shipping": {
            "address_id": shipping.address_id, "country": country, "region": region, "zone": zone.code if zone else None,
            "method_id": chosen.method.id if chosen.method else None,
            "method_name": chosen.method.name if chosen.method else None,
            "cost": chosen.priced.shipping_cost, "tax_amount": chosen.priced.shipping_tax,
            "methods": [option.read() for option in options.options], "problem": None}}
