"""/api/v1/cart: the caller's cart on the request's storefront, a user's or an anonymous visitor's (S1
guest carts)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from atelier_cart.api.deps import ANON, ITEM_NOT_FOUND, LINE_RULES, CartServiceDep
from atelier_cart.schemas import CartItemCreate, CartItemUpdate, CartRead
from atelier_cart.service import CartContents
from atelier_common.auth import AnonPrincipal
from atelier_common.storefronts import CurrentStorefront

router = APIRouter(prefix="/api/v1/cart", tags=["cart"])


@router.get("", response_model=CartRead, responses=ANON)
async def get_cart(caller: AnonPrincipal, storefront: CurrentStorefront, carts: CartServiceDep) -> CartContents:
    return await carts.view(caller.owner_id, storefront, anonymous=caller.user_id is None)


@router.post("/items", response_model=CartRead, status_code=status.HTTP_201_CREATED,
             responses={**ANON, **LINE_RULES})
async def add_cart_item(data: CartItemCreate, caller: AnonPrincipal, storefront: CurrentStorefront,
                        carts: CartServiceDep) -> CartContents:
    return await carts.add_item(caller.owner_id, data, storefront, anonymous=caller.user_id is None)


@router.put("/items/{item_id}", response_model=CartRead, responses={**ANON, **LINE_RULES, **ITEM_NOT_FOUND})
async def replace_cart_item(item_id: uuid.UUID, data: CartItemUpdate, caller: AnonPrincipal,
                            storefront: CurrentStorefront, carts: CartServiceDep) -> CartContents:
    return await carts.change_quantity(caller.owner_id, item_id, data, storefront, anonymous=caller.user_id is None)


@router.patch("/items/{item_id}", response_model=CartRead, responses={**ANON, **LINE_RULES, **ITEM_NOT_FOUND})
async def update_cart_item(item_id: uuid.UUID, data: CartItemUpdate, caller: AnonPrincipal,
                           storefront: CurrentStorefront, carts: CartServiceDep) -> CartContents:
    return await carts.change_quantity(caller.owner_id, item_id, data, storefront, anonymous=caller.user_id is None)


@router.delete("/items/{item_id}", response_model=CartRead, responses={**ANON, **ITEM_NOT_FOUND})
async def remove_cart_item(item_id: uuid.UUID, caller: AnonPrincipal, storefront: CurrentStorefront,
                           carts: CartServiceDep) -> CartContents:
    return await carts.remove_item(caller.owner_id, item_id, storefront, anonymous=caller.user_id is None)


@router.delete("", response_model=CartRead, responses=ANON)
async def clear_cart(caller: AnonPrincipal, storefront: CurrentStorefront, carts: CartServiceDep) -> CartContents:
    return await carts.clear(caller.owner_id, storefront, anonymous=caller.user_id is None)
