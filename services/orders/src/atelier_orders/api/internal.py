"""/internal/orders for other services (never routed by the gateway; the service credential is
required): everything payments needs to charge for an order, ordering on a customer's behalf, and
how many orders a storefront has (identity, before it deletes one or changes its currency)."""

from __future__ import annotations

from fastapi import APIRouter, status

from atelier_common.auth import require_service
from atelier_orders.api.deps import NOT_FOUND, PLACE_ERRORS, OrderServiceDep, PlacementServiceDep
from atelier_orders.repository import OrderDetails
from atelier_orders.schemas import InternalOrderCreate, InternalOrderRead, StorefrontOrders

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/orders/{order_id}", response_model=InternalOrderRead, responses=NOT_FOUND)
async def get_internal_order(order_id: str, orders: OrderServiceDep) -> OrderDetails:
    return await orders.get_for_service(order_id)


@router.post("/orders", response_model=InternalOrderRead, status_code=status.HTTP_201_CREATED,
             responses=PLACE_ERRORS)
async def place_internal_order(data: InternalOrderCreate, placement: PlacementServiceDep) -> OrderDetails:
    return await placement.place_for_service(data)


@router.get("/storefronts/{slug}/orders", response_model=StorefrontOrders)
async def count_storefront_orders(slug: str, orders: OrderServiceDep) -> StorefrontOrders:
    return await orders.count_of_storefront(slug)
