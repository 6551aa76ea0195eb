"""/api/v1/shipping-options: what the caller's cart would cost sent somewhere, by each method (#56)."""

from __future__ import annotations

from fastapi import APIRouter

from atelier_common.storefronts import CurrentStorefront
from atelier_orders.api.deps import SHIPPING_OPTIONS_ERRORS, BuyerDep, ShippingOptionsDep, ShippingOptionsQueryDep
from atelier_orders.schemas import ShippingOptionsRead
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
