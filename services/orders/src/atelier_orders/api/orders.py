"""/api/v1/orders: place, read and cancel your orders; staff move them along."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, status

from atelier_common.auth import AnonPrincipal
from atelier_common.idempotency import IdempotencyDep
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.staff_access import CONFIRMED_RESPONSES, CurrentSupportPrincipal
from atelier_common.storefronts import CurrentStorefront
from atelier_common.versions import IfMatchDep
from atelier_orders.api.deps import (
    CANCEL_ERRORS,
    NOT_FOUND,
    PLACE_ERRORS,
    STAFF_ERRORS,
    BuyerDep,
    OrderQueryDep,
    OrderServiceDep,
    PlacementServiceDep,
    StatusServiceDep,
)
from atelier_orders.repository import OrderDetails
from atelier_orders.schemas import OrderCancel, OrderCreate, OrderRead, OrderStatusUpdate, OrderSummaryRead

router = APIRouter(prefix="/api/v1", tags=["orders"])


@router.post("/orders", response_model=OrderRead, status_code=status.HTTP_201_CREATED, responses=PLACE_ERRORS)
async def place_order(data: OrderCreate, buyer: BuyerDep, storefront: CurrentStorefront,
                      placement: PlacementServiceDep, idempotency: IdempotencyDep) -> Any:
    return await idempotency.run(lambda: placement.place(buyer, data, storefront))


@router.get("/orders", response_model=Page[OrderSummaryRead])
async def list_orders(request: Request, query: OrderQueryDep, page: PageParamsDep, viewer: AnonPrincipal,
                      storefront: CurrentStorefront, orders: OrderServiceDep) -> dict[str, Any]:
    count, results = await orders.list(query, viewer, storefront, limit=page.limit, offset=page.offset)
    return build_page(request, page, count, list(results))


@router.get("/orders/{order_id}", response_model=OrderRead, responses=NOT_FOUND)
async def get_order(order_id: str, viewer: AnonPrincipal, orders: OrderServiceDep) -> OrderDetails:
    return await orders.get(order_id, viewer)


@router.post("/orders/{order_id}/cancel", response_model=OrderRead, responses=CANCEL_ERRORS)
async def cancel_order(order_id: str, buyer: BuyerDep, statuses: StatusServiceDep,
                       data: Annotated[OrderCancel | None, Body()] = None) -> OrderDetails:
    return await statuses.cancel(order_id, owner_id=buyer.owner_id, reason=data.reason if data else None)


@router.post("/orders/{order_id}/status", response_model=OrderRead, responses={**STAFF_ERRORS, **CONFIRMED_RESPONSES})
async def change_order_status(order_id: str, data: OrderStatusUpdate, staff: CurrentSupportPrincipal,
                              statuses: StatusServiceDep, if_match: IfMatchDep) -> OrderDetails:
    """Staff move an order along. Cancelling a paid order refunds it: the caller's roles are
    identity's answer now, not only the token's (`atelier_common.staff_access`)."""
    return await statuses.set_status(order_id, data, staff_id=staff.user_id, staff=staff, if_match=if_match)
