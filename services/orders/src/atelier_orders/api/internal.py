"""/internal/orders for other services (never routed by the gateway; the service credential is
required): everything payments needs to charge for an order, ordering on a customer's behalf, and
how many orders a storefront has (identity, before it deletes one or changes its currency)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status

from atelier_common.auth import require_service
from atelier_orders.api.deps import NOT_FOUND, PLACE_ERRORS, OrderServiceDep, PlacementServiceDep
from atelier_orders.api.edits import EditReaderDep
from atelier_orders.repository import OrderDetails
from atelier_orders.schemas import InternalOrderCreate, InternalOrderRead, StorefrontOrders
from atelier_orders.schemas.internal import InternalEditRead

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/orders/{order_id}", response_model=InternalOrderRead, responses=NOT_FOUND)
async def get_internal_order(order_id: str, orders: OrderServiceDep) -> OrderDetails:
    return await orders.get_for_service(order_id)


@router.get("/orders/{order_id}/edits/{edit_id}", response_model=InternalEditRead, responses=NOT_FOUND)
async def get_internal_edit(order_id: str, edit_id: uuid.UUID, orders: OrderServiceDep,
                            edits: EditReaderDep) -> dict[str, Any]:
    """What an edit of a paid order leaves due, for payments' supplementary payment."""
    order = await orders.get_for_service(order_id)
    return {**await edits.internal(order.id, edit_id), "order": order}


@router.post("/orders", response_model=InternalOrderRead, status_code=status.HTTP_201_CREATED,
             responses=PLACE_ERRORS)
async def place_internal_order(data: InternalOrderCreate, placement: PlacementServiceDep) -> OrderDetails:
    return await placement.place_for_service(data)


@router.get("/storefronts/{slug}/orders", response_model=StorefrontOrders)
async def count_storefront_orders(slug: str, orders: OrderServiceDep) -> StorefrontOrders:
    return await orders.count_of_storefront(slug)
