"""/api/v1/shipping-options: what the caller's cart would cost sent somewhere, by each method (#56)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from atelier_common.storefronts import CurrentStorefront
from atelier_orders.api.deps import SHIPPING_OPTIONS_ERRORS, BuyerDep, ShippingOptionsDep, ShippingOptionsQueryDep
from atelier_orders.schemas import ShippingMethodItemRead, ShippingMethodsQuery, ShippingOptionsRead
from atelier_orders.service.shipping import ShippingOptions

router = APIRouter(prefix="/api/v1", tags=["orders"])


@router.get("/shipping-options", summary="List the shipping options of my cart", response_model=ShippingOptionsRead,
            responses=SHIPPING_OPTIONS_ERRORS)
async def list_shipping_options(query: ShippingOptionsQueryDep, buyer: BuyerDep, storefront: CurrentStorefront,
                                shipping: ShippingOptionsDep) -> ShippingOptions:
    """The caller's cart on the request's storefront sent to `country` (and `region`): the zone, the tax rate
    there and each shipping method offered (the first is the default) with the order's shipping, tax and total,
    the amounts `POST /api/v1/orders` charges with that `shipping_method` and an address there. No option: the
    storefront does not ship there."""
    return await shipping.options(buyer, storefront, country=query.country, region=query.region)


@router.get("/shipping-methods", summary="List the shipping methods for my cart",
            response_model=list[ShippingMethodItemRead], responses=SHIPPING_OPTIONS_ERRORS)
async def list_shipping_methods(query: Annotated[ShippingMethodsQuery, Query()], buyer: BuyerDep,
                                storefront: CurrentStorefront, shipping: ShippingOptionsDep) -> list[dict[str, Any]]:
    """The methods offered at `address_id` (one of the caller's addresses; another's: 404) or at `country`
    (and `region`), each `{id, name, price}` priced for the caller's cart, with the order's tax and total
    beside. Empty: no zone covers the address (an order there is 400 SHIPPING_NOT_AVAILABLE)."""
    return await shipping.methods(buyer, storefront, address_id=query.address_id, country=query.country,
                                  region=query.region)
