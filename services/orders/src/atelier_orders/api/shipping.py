"""/api/v1/shipping-methods: what the caller's cart would cost sent somewhere, by each method."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from atelier_common.storefronts import CallerLocale, CurrentStorefront
from atelier_orders.api.deps import SHIPPING_OPTIONS_ERRORS, BuyerDep, ShippingOptionsDep
from atelier_orders.schemas import ShippingMethodItemRead, ShippingMethodsQuery

router = APIRouter(prefix="/api/v1", tags=["orders"])


@router.get("/shipping-methods", summary="List the shipping methods for my cart",
            response_model=list[ShippingMethodItemRead], responses=SHIPPING_OPTIONS_ERRORS)
async def list_shipping_methods(query: Annotated[ShippingMethodsQuery, Query()], buyer: BuyerDep,
                                storefront: CurrentStorefront, locale: CallerLocale,
                                shipping: ShippingOptionsDep) -> list[dict[str, Any]]:
    """The methods offered at `address_id` (one of the caller's addresses; another's: 404) or at `country`
    (and `region`), each `{id, name, price}` priced for the caller's cart, with the order's tax and total
    beside: the amounts `POST /api/v1/orders` charges with that `shipping_method_id` and an address there
    (the first is the default). Empty: no zone covers the address (an order there is 400
    SHIPPING_NOT_AVAILABLE). A storefront without zones: its one charge, without an id; nothing to ship:
    one method without an id, at no cost. Each method is named in the caller's language (`?locale=`, else
    `Accept-Language`) where the storefront gives it a name there."""
    return await shipping.methods(buyer, storefront, address_id=query.address_id, country=query.country,
                                  region=query.region, locale=locale)
