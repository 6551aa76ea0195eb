"""/api/v1/cart: the caller's cart on the request's storefront, a user's or an anonymous visitor's (S1
guest carts)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from atelier_cart.api.deps import ANON, ITEM_NOT_FOUND, LINE_RULES, CartServiceDep
from atelier_cart.checkout import ShippingChoice
from atelier_cart.schemas import CartItemCreate, CartItemUpdate, CartRead, CartShippingChoose, PromotionCodeApply
from atelier_cart.service import CartContents
from atelier_common.auth import AnonPrincipal, ClientAddress
from atelier_common.storefronts import CallerLocale, CurrentStorefront

router = APIRouter(prefix="/api/v1/cart", tags=["cart"])


@router.get("", summary="Get the cart", response_model=CartRead, responses=ANON)
async def get_cart(caller: AnonPrincipal, storefront: CurrentStorefront, locale: CallerLocale, carts: CartServiceDep) -> CartContents:
    """The caller's cart on the request's storefront, with its lines, totals and tax; an empty cart if nothing was
    added yet."""
    return await carts.view(caller.owner_id, storefront, anonymous=caller.user_id is None,
                            group=caller.group_on(storefront.slug), locale=locale)


@router.post("/items", summary="Add a product to the cart",
             response_model=CartRead, status_code=status.HTTP_201_CREATED,
             responses={**ANON, **LINE_RULES})
async def add_cart_item(data: CartItemCreate, caller: AnonPrincipal, storefront: CurrentStorefront, locale: CallerLocale,
                        carts: CartServiceDep) -> CartContents:
    """Add a product (or one of its variants) to the cart; adding one that is already there raises its quantity.
    Prices come from the catalog, never from the request: a customer group member's line (the group staff put it in
    on this storefront, carried by its token) is frozen at the group's price."""
    return await carts.add_item(caller.owner_id, data, storefront, anonymous=caller.user_id is None,
                                group=caller.group_on(storefront.slug), locale=locale)


@router.put("/items/{item_id}", summary="Set a cart line's quantity",
            response_model=CartRead, responses={**ANON, **LINE_RULES, **ITEM_NOT_FOUND})
async def replace_cart_item(item_id: uuid.UUID, data: CartItemUpdate, caller: AnonPrincipal,
                            storefront: CurrentStorefront, locale: CallerLocale, carts: CartServiceDep) -> CartContents:
    """Set a line's quantity (1 to the storefront's line limit, 99 unless it sets its own), checked against the stock."""
    return await carts.change_quantity(caller.owner_id, item_id, data, storefront, anonymous=caller.user_id is None,
                                       group=caller.group_on(storefront.slug), locale=locale)


@router.patch("/items/{item_id}", summary="Change a cart line's quantity",
              response_model=CartRead, responses={**ANON, **LINE_RULES, **ITEM_NOT_FOUND})
async def update_cart_item(item_id: uuid.UUID, data: CartItemUpdate, caller: AnonPrincipal,
                           storefront: CurrentStorefront, locale: CallerLocale, carts: CartServiceDep) -> CartContents:
    """Set a line's quantity (1 to the storefront's line limit), checked against the stock (the same as PUT)."""
    return await carts.change_quantity(caller.owner_id, item_id, data, storefront, anonymous=caller.user_id is None,
                                       group=caller.group_on(storefront.slug), locale=locale)


@router.delete("/items/{item_id}", summary="Remove a cart line",
               response_model=CartRead, responses={**ANON, **ITEM_NOT_FOUND})
async def remove_cart_item(item_id: uuid.UUID, caller: AnonPrincipal, storefront: CurrentStorefront, locale: CallerLocale,
                           carts: CartServiceDep) -> CartContents:
    """Remove one line; answers the cart without it."""
    return await carts.remove_item(caller.owner_id, item_id, storefront, anonymous=caller.user_id is None,
                                   group=caller.group_on(storefront.slug), locale=locale)


@router.delete("", summary="Empty the cart", response_model=CartRead, responses=ANON)
async def clear_cart(caller: AnonPrincipal, storefront: CurrentStorefront, locale: CallerLocale, carts: CartServiceDep) -> CartContents:
    """Remove every line; answers the empty cart."""
    return await carts.clear(caller.owner_id, storefront, anonymous=caller.user_id is None,
                             group=caller.group_on(storefront.slug), locale=locale)


CODE_ERRORS = {**ANON,
               400: {"description": "PROMOTION_CODE_INVALID: unknown on this storefront, inactive, not started, "
                                    "expired, or not for this cart (details.reason: invalid, below_minimum, "
                                    "no_eligible_lines, customer_limit); VALIDATION_ERROR"},
               409: {"description": "PROMOTION_EXHAUSTED: every use of the code is taken"},
               429: {"description": "RATE_LIMITED: too many wrong codes from this caller, or (a wrong code) from its "
                                    "client address; Retry-After"},
               503: {"description": "Orders (which owns the promotions) is unavailable"}}


@router.post("/promotion-code", summary="Apply a discount code", response_model=CartRead, responses=CODE_ERRORS)
async def apply_promotion_code(data: PromotionCodeApply, caller: AnonPrincipal, storefront: CurrentStorefront, locale: CallerLocale,
                               carts: CartServiceDep, address: ClientAddress) -> CartContents:
    """Apply a discount code to the cart (it replaces the one applied); answers the cart with what each promotion
    saves and the totals after the discount. A code that does not apply to the cart now is refused and changes
    nothing. Wrong codes are limited per caller and per client address (docs/limits.md)."""
    return await carts.apply_code(caller.owner_id, data.code, storefront, anonymous=caller.user_id is None,
                                  client_ip=address, group=caller.group_on(storefront.slug), locale=locale)


@router.delete("/promotion-code", summary="Remove the discount code", response_model=CartRead, responses=ANON)
async def remove_promotion_code(caller: AnonPrincipal, storefront: CurrentStorefront, locale: CallerLocale,
                                carts: CartServiceDep) -> CartContents:
    """Remove the cart's discount code (automatic promotions still apply)."""
    return await carts.remove_code(caller.owner_id, storefront, anonymous=caller.user_id is None,
                                   group=caller.group_on(storefront.slug), locale=locale)


SHIPPING_ERRORS = {**ANON,
                   400: {"description": "SHIPPING_NOT_AVAILABLE: the storefront does not ship there; "
                                        "SHIPPING_METHOD_UNAVAILABLE: the destination does not offer that method; "
                                        "PRODUCT_UNAVAILABLE: a line's product is no longer sold; VALIDATION_ERROR"},
                   404: {"description": "ADDRESS_NOT_FOUND: not one of the caller's addresses"},
                   503: {"description": "Orders (which prices the checkout) is unavailable"}}


@router.put("/shipping", summary="Choose where the cart ships and how", response_model=CartRead,
            responses=SHIPPING_ERRORS)
async def choose_shipping(data: CartShippingChoose, caller: AnonPrincipal, storefront: CurrentStorefront, locale: CallerLocale,
                          carts: CartServiceDep) -> CartContents:
    """Ship the cart to one of the caller's addresses (`POST /api/v1/addresses` saves a guest's too), or price it for
    a country and region before there is one, by `method_id` (none: the destination's first). Answers the cart
    priced as the order will be: each line's discount and tax, shipping, every method the destination offers with
    the order's total by it, and `total`, which `POST /api/v1/orders` from this cart charges (it ships to the
    address and by the method chosen here unless it names its own). A destination or method that does not do is
    refused and changes nothing."""
    return await carts.choose_shipping(
        caller.owner_id, ShippingChoice(address_id=data.address_id, country=data.country, region=data.region,
                                        method_id=data.method_id), storefront, anonymous=caller.user_id is None,
        group=caller.group_on(storefront.slug), locale=locale)


@router.delete("/shipping", summary="Forget where the cart ships", response_model=CartRead, responses=ANON)
async def remove_shipping(caller: AnonPrincipal, storefront: CurrentStorefront, locale: CallerLocale, carts: CartServiceDep) -> CartContents:
    """The cart without a destination: its totals leave shipping out again."""
    return await carts.remove_shipping(caller.owner_id, storefront, anonymous=caller.user_id is None,
                                       group=caller.group_on(storefront.slug), locale=locale)
