"""The staff API orders answers: `/api/v1/staff/orders`, and its per-day report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from atelier_common.auth import SCOPE_ORDERS_READ, OrderReaderPrincipal, key_access
from atelier_common.counting import COUNT_ESTIMATED_HEADER
from atelier_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, PageParamsDep, build_page
from atelier_common.reports import DEFAULT_DAYS, DailyReport, DaysQuery
from atelier_orders.api.deps import ORDER_IN_SCOPE, StaffOrdersDep
from atelier_orders.schemas import (
    DailyOrdersRead,
    PaidOrdersRead,
    StaffOrderQuery,
    StaffOrderRead,
    StaffOrderSummaryRead,
    StorefrontSlug,
)

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


@router.get("/orders", summary="Search orders", response_model=Page[StaffOrderSummaryRead])
@key_access(SCOPE_ORDERS_READ)
async def search_orders(request: Request, query: Annotated[StaffOrderQuery, Query()], page: PageParamsDep,
                        staff: OrderReaderPrincipal, orders: StaffOrdersDep, response: Response) -> dict[str, Any]:
    """Every customer's orders by email, number, customer, status, storefront and date; newest first.
    Past `exact_count_limit` matches `count` is an estimate, flagged by `X-Count-Estimated: true`."""
    count, estimated, results = await orders.search(query, limit=page.limit, offset=page.offset, staff=staff)
    if estimated:
        response.headers[COUNT_ESTIMATED_HEADER] = "true"
    return build_page(request, page, count, list(results))


@router.get("/orders/paid", summary="List orders paid since a cursor", response_model=PaidOrdersRead)
@key_access(SCOPE_ORDERS_READ)
async def list_paid_orders(staff: OrderReaderPrincipal, orders: StaffOrdersDep,
                           after: Annotated[str | None, Query(max_length=200, description=(
                               "`next_cursor` of the previous page; none: from the first order ever paid"))] = None,
                           limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
                           storefront: Annotated[StorefrontSlug | None, Query()] = None) -> dict[str, Any]:
    """Every paid order once, in the order it was paid (whatever its status now), for a system that
    pulls them (an ERP): keep `next_cursor` and send it as `after` next time. An order shows a few
    seconds after it was paid (docs/integrations.md)."""
    rows, cursor = await orders.paid_since(after, limit=limit, storefront=storefront, staff=staff)
    return {"results": rows, "next_cursor": cursor, "has_more": len(rows) == limit}


@router.get("/orders/{order_id}", response_model=StaffOrderRead, dependencies=[ORDER_IN_SCOPE],
            responses={404: {"description": "ORDER_NOT_FOUND"}})
@key_access(SCOPE_ORDERS_READ)
async def get_staff_order(order_id: str, _: OrderReaderPrincipal, orders: StaffOrdersDep) -> dict[str, Any]:
    """Any customer's order with its lines, its payments and refunds (as payments announced them;
    what may still be refunded: `GET /api/v1/staff/payments/orders/{id}`) and its events (the
    status history); `version` for a write's `If-Match`; `edit_version`, how many times staff edited it
    (`GET /api/v1/staff/orders/{id}/edits`)."""
    picture = await orders.get(order_id)
    read = StaffOrderRead.model_validate(picture.order)
    return {**read.model_dump(), "payments": picture.payments, "refunds": picture.refunds,
            "events": read.status_history, "version": picture.version,
            "allowed_transitions": picture.allowed_transitions, "refund_state": picture.refund_state,
            "tracking_number_required": picture.tracking_number_required, "edit_version": picture.edit_version}


@router.get("/reports/daily", summary="Orders and revenue per day", response_model=DailyReport[DailyOrdersRead])
@key_access(SCOPE_ORDERS_READ)
async def daily_report(staff: OrderReaderPrincipal, orders: StaffOrdersDep, days: DaysQuery = DEFAULT_DAYS) -> Any:
    """The last `days` days (UTC, today so far included), one row per day and storefront that had
    orders: how many were placed, how many of them are paid (and not returned, cancelled or
    refunded), and those orders' totals per currency. The console's dashboard charts."""
    window, rows = await orders.daily(days, staff)
    return DailyReport[DailyOrdersRead](days=days, since=window.since, until=window.until,
                                        results=[DailyOrdersRead.model_validate(row) for row in rows])
