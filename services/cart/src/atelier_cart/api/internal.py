"""/internal/carts: the cart orders turns into an order (never routed by the gateway; the
service credential is required). `?storefront=<slug>` names which of the owner's carts (one per
storefront); without it, the default storefront's."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from atelier_cart.api.deps import CartReaderDep, CartServiceDep, QueryStorefront
from atelier_cart.errors import CartNotFound
from atelier_cart.schemas import InternalCartRead, LinePrices
from atelier_cart.service import CartContents
from atelier_common.auth import require_service

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/carts/{owner_id}", response_model=InternalCartRead)
async def get_internal_cart(owner_id: uuid.UUID, storefront: QueryStorefront, carts: CartReaderDep) -> CartContents:
    return await carts.for_service(owner_id, storefront)


@router.post("/carts/{owner_id}/prices", response_model=InternalCartRead)
async def reprice_cart(owner_id: uuid.UUID, data: LinePrices, storefront: QueryStorefront,
                       carts: CartServiceDep) -> CartContents:
    """Orders refused an order at prices the cart no longer shows: the lines take catalog's current ones."""
    contents = await carts.reprice(owner_id, data.items, storefront)
    if contents is None:
        raise CartNotFound()
    return contents
