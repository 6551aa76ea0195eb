"""Staff's routes (`/staff/orders`): the order search, staff's picture of an order, the daily figures."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from atelier_common.money import Money
from atelier_orders.domain import OrderStatus
from atelier_orders.schemas._shared import StorefrontSlug, _Input, _Read
from atelier_orders.schemas.orders import (
    _ORDER_EXAMPLE,
    _PLACED,
    _RESERVED,
    _SUMMARY_EXAMPLE,
    OrderItemRead,
    OrderRead,
    OrderSummaryRead,
    StatusHistoryRead,
)


class StaffOrderQuery(_Input):
    """The filters of GET /staff/orders; each one narrows, none means every order."""

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)] | None = Field(
        default=None, description="the buyer's email, whatever its case")
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None = None
    customer: uuid.UUID | None = Field(default=None, description="the customer's user id")
    status: OrderStatus | None = None
    storefront: StorefrontSlug | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


_SHIPPED: dict[str, Any] = {
    "status": "shipped", "tracking_number": "1Z999AA10123456784", "updated_at": "2026-11-26T02:15:39.901797Z",
    "paid_at": "2026-11-26T02:15:25.279874Z", "shipped_at": "2026-11-26T02:15:39.901793Z"}
_HISTORY: list[dict[str, Any]] = [
    _PLACED, _RESERVED,
    {"status": "paid", "from_status": "awaiting_payment", "note": "Payment confirmed", "actor": "payments",
     "created_at": "2026-11-26T02:15:25.279879Z"},
    {"status": "processing", "from_status": "paid", "note": "Status changed to processing by staff", "actor": "staff",
     "created_at": "2026-11-26T02:15:39.892820Z"},
    {"status": "shipped", "from_status": "processing", "note": "Royal Mail", "actor": "staff",
     "created_at": "2026-11-26T02:15:39.901797Z"}]
_STAFF_ORDER_EXAMPLE: dict[str, Any] = {
    **_ORDER_EXAMPLE, **_SHIPPED, "status_history": _HISTORY, "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a",
    "payments": [{"kind": "payment", "payment_id": "d1fce9f1-b31d-4d72-ae98-6d9fb4763468", "refund_id": None,
                  "amount": "32.24", "currency": "USD", "provider": "local", "reason": None,
                  "occurred_at": "2026-11-26T02:15:25.281832Z"}],
    "refunds": [], "events": _HISTORY, "version": "16dca0fda66af213", "allowed_transitions": ["delivered"], "tracking_number_required": False,
    "refund_state": "none", "customer_group": None}


class StaffOrderSummaryRead(OrderSummaryRead):
    """A line of staff's order search: who bought it besides what."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**_SUMMARY_EXAMPLE, "email": "ada.lovelace@example.com", "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a"}]})

    email: str | None
    user_id: uuid.UUID | None


class OrderMoneyRead(_Read):
    """A payment, failed payment, refund or returned payment of the order, as payments announced it."""

    kind: str = Field(description="payment, payment_failed, refund or returned")
    payment_id: uuid.UUID
    refund_id: uuid.UUID | None
    amount: Money | None
    currency: str | None
    provider: str | None
    reason: str | None
    occurred_at: datetime


class ShipsFromRead(_Read):
    location_id: uuid.UUID
    location: str
    quantity: int


class StaffOrderItemRead(OrderItemRead):
    # Where its units ship from (catalog's stock locations, as reserved); null until catalog held
    # them, or for an order from before locations. A line split across two locations has two.
    ships_from: list[ShipsFromRead] | None = None


class StaffOrderRead(OrderRead):
    """Staff's picture of an order: the customer's view plus who bought it, its payments and
    refunds (orders' read model of payments' events) and its events (the status history)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_STAFF_ORDER_EXAMPLE]})

    items: list[StaffOrderItemRead]  # type: ignore[assignment]  # the customer's lines plus where they ship from
    email: str | None
    user_id: uuid.UUID | None
    payments: list[OrderMoneyRead] = []
    refunds: list[OrderMoneyRead] = []
    events: list[StatusHistoryRead] = []
    # The order's version: what a staff form read; a stale write is refused (409).
    version: str = ""
    # The statuses staff may move it to now (`domain.allowed_targets`): the console offers only these.
    allowed_transitions: list[str] = []
    # What of its money went back: none, partial or full (a shipped order refunded in full stays shipped).
    refund_state: Literal["none", "partial", "full"] = "none"
    # Whether a move to `shipped` needs a tracking number (the storefront's `tracking_number_required`).
    tracking_number_required: bool = False
    # Its edits so far (docs/back-office.md#order-edits): 0 never edited, else the last edit's version.
    edit_version: int = 0
    # The customer group it was priced at (an edit adds lines at its prices); None: list prices.
    # Staff only: a customer's read does not name the groups they are sorted into.
    customer_group: str | None = None


class DailyOrdersRead(_Read):
    """One day's orders of one storefront, placed that day (UTC)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"day": "2026-11-26", "storefront": "default", "orders": 4, "paid_orders": 3, "revenue": {"USD": "96.72"}}]})

    day: date
    storefront: str
    orders: int = Field(description="orders placed that day, whatever their status now")
    paid_orders: int = Field(description=(
        "of them, those whose money came in and stays: paid, processing, shipped, delivered or completed"))
    revenue: dict[str, Money] = Field(description=(
        "the paid orders' totals per currency, before partial refunds (a decimal string each)"))


class PaidOrderRead(StaffOrderSummaryRead):
    """A line of the paid orders' feed: a search's line and when it was paid (`status` is its status
    now: it may have moved on since)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**_SUMMARY_EXAMPLE, "email": "ada.lovelace@example.com", "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a",
         "status": "paid", "paid_at": "2026-11-26T02:15:25.279874Z"}]})

    paid_at: datetime


class PaidOrdersRead(_Read):
    """A page of the paid orders' feed and where to resume."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "results": [PaidOrderRead.model_json_schema()["examples"][0]],
        "next_cursor": "MjAyNi0xMS0yNlQwMjoxNToyNS4yNzk4NzQrMDA6MDB8ZDlhMTEyOGEtMDViZC00ZDhlLWFhNGUtY2QzODYxMzI0NzFl",
        "has_more": False}]})

    results: list[PaidOrderRead]
    next_cursor: str | None = Field(description="Send it as `after` for the orders paid since this page; None "
                                                "while nothing was ever paid (then send no `after`)")
    has_more: bool = Field(description="A full page: ask again at once (else later: nothing newer has settled)")
