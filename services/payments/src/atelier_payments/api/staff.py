"""The staff API payments answers: its part of an order's picture, every customer's ledger
(finance), and customers' plans (read; cancelled at period end or reactivated)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from atelier_common.auth import FinancePrincipal, OrderReaderPrincipal, key_access
from atelier_common.counting import COUNT_ESTIMATED_HEADER
from atelier_common.inputs import InputModel
from atelier_common.money import Money
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.service import use_case
from atelier_payments.schemas import OrderPaymentsRead, StaffLedgerEntryRead, StaffLedgerQuery
from atelier_payments.service.staff import StaffPayments, StaffSubscriptions

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
StaffPaymentsDep = Annotated[StaffPayments, use_case(StaffPayments, read_only=True)]
StaffSubscriptionsDep = Annotated[StaffSubscriptions, use_case(StaffSubscriptions)]


@router.get("/payments/orders/{order_id}", summary="Get an order's payments", response_model=OrderPaymentsRead,
            responses={404: {"description": "ORDER_NOT_FOUND: no payment of that order"}})
@key_access()
async def order_payments(order_id: uuid.UUID, staff: OrderReaderPrincipal,
                         payments: StaffPaymentsDep) -> OrderPaymentsRead:
    """An order's payments and refunds, what is refunded and what may still be."""
    return await payments.of_order(order_id, staff)


@router.get("/ledger", summary="List the ledger", response_model=Page[StaffLedgerEntryRead])
@key_access()
async def list_staff_ledger(request: Request, query: Annotated[StaffLedgerQuery, Query()], staff: FinancePrincipal,
                            payments: StaffPaymentsDep, params: PageParamsDep, response: Response) -> dict[str, Any]:
    """Every customer's money and credit movements (payments, refunds, credit packs, credits used),
    newest first; by customer, storefront, kind and time (`created_after` inclusive, `created_before` not).
    Past `exact_count_limit` entries `count` is an estimate, flagged by `X-Count-Estimated: true`."""
    count, estimated, rows = await payments.ledger(query, staff, limit=params.limit, offset=params.offset)
    if estimated:
        response.headers[COUNT_ESTIMATED_HEADER] = "true"
    return build_page(request, params, count, list(rows))


class StaffSubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "ce6404ec-a4ad-453c-bc5a-ec403e4f24de", "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a",
         "storefront": "default", "plan_sku": "studio_monthly", "tier": "studio", "monthly_quota": 1000,
         "amount": "49.99", "currency": "USD", "provider": "local", "status": "active",
         "current_period_start": "2026-11-26T02:15:38.205697Z", "current_period_end": "2026-12-26T02:15:38.205697Z",
         "cancel_at_period_end": False, "created_at": "2026-11-26T02:15:36.001975Z",
         "updated_at": "2026-11-26T02:15:39.317923Z"}]})

    id: uuid.UUID
    user_id: uuid.UUID
    storefront: str
    plan_sku: str
    tier: str
    monthly_quota: int
    amount: Money
    currency: str
    provider: str
    status: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    created_at: datetime
    updated_at: datetime


@router.get("/subscriptions", summary="List subscriptions", response_model=Page[StaffSubscriptionRead])
@key_access()
async def list_subscriptions(request: Request, staff: OrderReaderPrincipal, payments: StaffPaymentsDep,
                             params: PageParamsDep, customer: uuid.UUID | None = None,
                             status: Annotated[str | None, Query(max_length=20,
                                                                 description="incomplete, active, past_due, canceled")]
                             = None) -> dict[str, Any]:
    """Every customer's plan (one per customer), by customer and status; the latest change first."""
    count, rows = await payments.subscriptions(staff, customer=customer, status=status, limit=params.limit,
                                               offset=params.offset)
    return build_page(request, params, count, list(rows))


class SubscriptionAction(InputModel):
    """An optional reason, kept in the audit log."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "The customer asked by phone"}]})

    reason: str | None = Field(default=None, max_length=500)


_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "INVALID_STATE: the plan has ended (or, to reactivate, is not cancelled at period end)"},
    404: {"description": "NOT_FOUND: no such subscription (a checkout never paid is none)"},
    502: {"description": "PAYMENT_PROVIDER_ERROR: Stripe refused or could not be reached"}}


@router.post("/subscriptions/{subscription_id}/cancel", summary="Cancel a subscription at period end",
             response_model=StaffSubscriptionRead, responses=_ACTION_RESPONSES)
@key_access()
async def cancel_customer_subscription(subscription_id: uuid.UUID, staff: OrderReaderPrincipal,
                                       subscriptions: StaffSubscriptionsDep,
                                       body: SubscriptionAction | None = None) -> Any:
    """The customer keeps the plan until `current_period_end`, then falls back to free (as their own cancel).
    Again: no change."""
    return await subscriptions.cancel(subscription_id, staff, reason=body.reason if body else None)


@router.post("/subscriptions/{subscription_id}/reactivate", summary="Reactivate a subscription",
             response_model=StaffSubscriptionRead, responses=_ACTION_RESPONSES)
@key_access()
async def reactivate_customer_subscription(subscription_id: uuid.UUID, staff: OrderReaderPrincipal,
                                           subscriptions: StaffSubscriptionsDep,
                                           body: SubscriptionAction | None = None) -> Any:
    """Undo a cancellation at period end before that end: the plan renews again."""
    return await subscriptions.reactivate(subscription_id, staff, reason=body.reason if body else None)
