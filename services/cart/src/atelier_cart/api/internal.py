"""/internal/carts: the cart orders turns into an order (never routed by the gateway; the
service credential is required)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from atelier_cart.api.deps import CartReaderDep
from atelier_cart.schemas import InternalCartRead
from atelier_cart.service import CartContents
from atelier_common.auth import require_service

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/carts/{owner_id}", response_model=InternalCartRead)
async def get_internal_cart(owner_id: uuid.UUID, carts: CartReaderDep) -> CartContents:
    return await carts.for_service(owner_id)
