"""The dependencies orders' routes list, named once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from atelier_common.auth import AnonPrincipal, OptionalPrincipal
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case
from atelier_common.storefronts import CurrentStorefront
from atelier_orders.invoices.service import InvoiceReader
from atelier_orders.pricing.options import ShippingOptionsService
from atelier_orders.schemas import OrderQuery
from atelier_orders.service.placing import Buyer, PlacementService
from atelier_orders.service.reading import OrderService
from atelier_orders.service.staff import StaffOrders
from atelier_orders.service.status import StatusService


async def _buyer(principal: AnonPrincipal, storefront: CurrentStorefront) -> Buyer:
    return Buyer.of(principal, storefront.slug)


PlacementServiceDep = Annotated[PlacementService, use_case(PlacementService)]
StatusServiceDep = Annotated[StatusService, use_case(StatusService)]
# OrderService only reads: no transaction around its routes (`Database.read_only`).
OrderServiceDep = Annotated[OrderService, use_case(OrderService, read_only=True)]
# Reads the cart and catalog, writes nothing.
ShippingOptionsDep = Annotated[ShippingOptionsService, use_case(ShippingOptionsService, read_only=True)]
InvoiceReaderDep = Annotated[InvoiceReader, use_case(InvoiceReader, read_only=True)]
BuyerDep = Annotated[Buyer, Depends(_buyer)]
StaffOrdersDep = Annotated[StaffOrders, use_case(StaffOrders, read_only=True)]


async def _order_in_scope(order_id: str, principal: OptionalPrincipal, orders: StaffOrdersDep) -> None:
    await orders.check_scope(order_id, principal)


# On every staff route of one order (`{order_id}`): an API key limited to some storefronts gets 404
# for an order of another (docs/security.md, "API keys"). The route's own role check runs as well.
ORDER_IN_SCOPE = Depends(_order_in_scope)
OrderQueryDep = Annotated[OrderQuery, Query()]

# Declared on routes so that the merged OpenAPI lists the error answers too.
NOT_FOUND: ErrorResponses = {404: {"description": "Not found (unknown order, or another customer's)"}}
PLACE_ERRORS: ErrorResponses = {
    400: {"description": "VALIDATION_ERROR, ADDRESS_REQUIRED, CART_EMPTY, PRODUCT_UNAVAILABLE (unknown, inactive, or "
                         "not sold on the request's storefront), NOT_PURCHASABLE (a subscription plan), "
                         "CURRENCY_MISMATCH (lines in several currencies, or not the storefront's), "
                         "SHIPPING_NOT_AVAILABLE (the shipping address is in none of the storefront's zones), "
                         "SHIPPING_METHOD_UNAVAILABLE (its zone does not offer `shipping_method`; "
                         "details.available) or UNKNOWN_STOREFRONT"},
    409: {"description": "INSUFFICIENT_STOCK, PRICE_CHANGED (a cart line's price changed since the cart showed it: "
                         "details.items, the cart now shows the current prices), or IDEMPOTENCY_KEY_REUSED (the "
                         "Idempotency-Key with another body)"},
    404: {"description": "ADDRESS_NOT_FOUND or BOOK_NOT_FOUND"},
    429: {"description": "RATE_LIMITED: too many wrong discount codes from this caller, or (a wrong code) from its "
                         "client address; Retry-After"},
    503: {"description": "A service the order needs (catalog, cart, identity, generation) is unavailable"},
}
SHIPPING_OPTIONS_ERRORS: ErrorResponses = {
    400: {"description": "VALIDATION_ERROR, CART_EMPTY, CURRENCY_MISMATCH, PRODUCT_UNAVAILABLE or UNKNOWN_STOREFRONT"},
    503: {"description": "A service the quote needs (catalog, cart) is unavailable"},
}
CANCEL_ERRORS: ErrorResponses = {**NOT_FOUND, 400: {"description": "ORDER_NOT_CANCELLABLE, with the reason"}}
STAFF_ERRORS: ErrorResponses = {**CANCEL_ERRORS, 401: {"description": "Authentication required"}, 403: {"description": "Staff only"},
                409: {"description": "INVALID_STATUS_TRANSITION, with the allowed targets"}}
