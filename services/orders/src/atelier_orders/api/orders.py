"""/api/v1/orders: place, read and cancel your orders; staff move them along."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, status

from atelier_common.auth import AnonPrincipal, ClientAddress, key_access
from atelier_common.idempotency import IdempotencyDep
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.staff_access import CONFIRMED_RESPONSES, CurrentSupportPrincipal
from atelier_common.storefronts import CallerLocale, CurrentStorefront
from atelier_common.versions import IfMatchDep
from atelier_orders.api.deps import (
    CANCEL_ERRORS,
    NOT_FOUND,
    ORDER_IN_SCOPE,
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


@router.post("/orders", summary="Place an order",
             response_model=OrderRead, status_code=status.HTTP_201_CREATED, responses=PLACE_ERRORS)
async def place_order(data: OrderCreate, buyer: BuyerDep, storefront: CurrentStorefront, locale: CallerLocale,
                      placement: PlacementServiceDep, idempotency: IdempotencyDep, address: ClientAddress) -> Any:
    """Order the cart's lines (no `items`) or explicit `items`, on the request's storefront; prices, tax and
    shipping come from the platform, never from the request. A physical order needs a shipping address
    (`shipping_address_id`). The order starts `pending`, then `awaiting_payment` once the stock is reserved: pay
    it with `POST /api/v1/payments/checkout`. Send an `Idempotency-Key` to retry safely. The order keeps the
    caller's language (`?locale=`, else `Accept-Language`: its `locale`), and its lines' names are in it."""
    return await idempotency.run(lambda: placement.place(buyer, data, storefront, client_ip=address, locale=locale))


@router.get("/orders", summary="List my orders", response_model=Page[OrderSummaryRead])
async def list_orders(request: Request, query: OrderQueryDep, page: PageParamsDep, viewer: AnonPrincipal,
                      storefront: CurrentStorefront, orders: OrderServiceDep) -> dict[str, Any]:
    """The caller's orders on the request's storefront, newest first; `status` and `ordering` filter and sort."""
    count, results = await orders.list(query, viewer, storefront, limit=page.limit, offset=page.offset)
    return build_page(request, page, count, list(results))


@router.get("/orders/{order_id}", summary="Get an order", response_model=OrderRead, responses=NOT_FOUND)
async def get_order(order_id: str, viewer: AnonPrincipal, orders: OrderServiceDep) -> OrderDetails:
    """One of the caller's orders, by id or order number, with its lines, addresses and status history."""
    return await orders.get(order_id, viewer)


@router.post("/orders/{order_id}/cancel", summary="Cancel an order", response_model=OrderRead, responses=CANCEL_ERRORS)
async def cancel_order(order_id: str, buyer: BuyerDep, statuses: StatusServiceDep,
                       data: Annotated[OrderCancel | None, Body()] = None) -> OrderDetails:
    """Cancel one of the caller's orders while it is not shipped; its stock is released and a paid order is
    refunded."""
    return await statuses.cancel(order_id, owner_id=buyer.owner_id, reason=data.reason if data else None)


@router.post("/orders/{order_id}/status", dependencies=[ORDER_IN_SCOPE], summary="Change an order's status",
             response_model=OrderRead, responses={**STAFF_ERRORS, **CONFIRMED_RESPONSES})
@key_access()
async def change_order_status(order_id: str, data: OrderStatusUpdate, staff: CurrentSupportPrincipal,
                              statuses: StatusServiceDep, if_match: IfMatchDep) -> OrderDetails:
    """Move an order along (processing, shipped with a `tracking_number`, delivered, …); only the allowed
    transitions. Send the order's `version` as `expected_version` (or If-Match) to refuse a stale form.
    Cancelling a paid order refunds it, so the caller's roles are identity's answer now, not only the
    token's."""
    return await statuses.set_status(order_id, data, staff_id=staff.user_id, staff=staff, if_match=if_match)
