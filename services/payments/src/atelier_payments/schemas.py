"""API models of payments: requests are strict about types and ignore unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from atelier_common.inputs import InputModel
from atelier_common.money import Money


class _Input(InputModel):
    # Unknown fields are ignored (an `amount` sent by a client changes nothing); wrong types are 400.
    model_config = ConfigDict(extra="ignore")


RedirectUrl = Annotated[AnyHttpUrl, Field(description="Absolute http(s) URL the buyer is sent to")]


class IntentCreate(_Input):
    order_id: uuid.UUID


class IntentRead(BaseModel):
    client_secret: str
    payment_intent_id: str
    payment_id: uuid.UUID
    status: str
    amount: Money
    currency: str


class PaymentConfirm(_Input):
    order_id: uuid.UUID
    payment_intent_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class ConfirmRead(BaseModel):
    message: str = "Payment confirmed"
    status: str
    order_id: uuid.UUID
    payment_id: uuid.UUID
    payment_intent_id: str


class CheckoutCreate(_Input):
    order_id: uuid.UUID
    success_url: RedirectUrl
    cancel_url: RedirectUrl


class CheckoutRead(BaseModel):
    checkout_url: str
    session_id: str
    payment_id: uuid.UUID


class CreditPurchase(_Input):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class CreditPurchaseRead(BaseModel):
    order_id: uuid.UUID
    checkout_url: str
    session_id: str


class RefundCreate(_Input):
    order_id: uuid.UUID
    # Omitted: all that remains of the payment.
    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)] | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    # What the staffer's form said was still refundable (#36): when it no longer is (a refund came
    # in between), 409 STALE_VERSION and nothing is refunded. Omitted: no such check (scripts).
    expected_refundable: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None


class RefundRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    # The storefront of the order (and its payment).
    storefront: str
    amount: Money
    currency: str
    # pending (the provider settles it later), succeeded or failed
    status: str
    reason: str
    provider: str
    # All succeeded refunds of the payment so far, and what may still be refunded.
    total_refunded: Money
    refundable: Money
    created_at: datetime


class SimpleWebhookEvent(BaseModel):
    """S0's provider webhook: `{order_id, status: "paid", customer_id?, transaction_id?}` (plus
    `event_id?`, `amount?`, `currency?`)."""

    model_config = ConfigDict(extra="ignore")

    order_id: uuid.UUID
    status: Literal["paid", "failed"]
    transaction_id: Annotated[str, StringConstraints(max_length=255)] | None = None
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    # The buyer's account (S0): an anonymous order paid is claimed by it, not by one registered
    # from the delivery address.
    customer_id: uuid.UUID | None = None
    # What the provider says it took, when it says: it must be the order's total.
    amount: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")] | None = None


class WebhookAck(BaseModel):
    received: bool = True
    # processed, duplicate (this event id was handled before) or ignored (not ours to act on)
    status: Literal["processed", "duplicate", "ignored"]


class HealthRead(BaseModel):
    status: Literal["ok"] = "ok"


class LedgerEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    # The storefront of the payment, subscription or credit use the entry records.
    storefront: str
    kind: str
    amount: Money | None
    currency: str | None
    credits: int | None
    payment_id: uuid.UUID | None
    order_id: uuid.UUID | None
    reference_id: str | None
    description: str
    created_at: datetime


class PaymentRead(BaseModel):
    """A payment as other services see it (internal API)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    owner_id: uuid.UUID
    # The order's storefront.
    storefront: str
    provider: str
    kind: str
    status: str
    amount: Money
    currency: str
    provider_intent_id: str | None
    provider_session_id: str | None
    pays_order: bool
    created_at: datetime
    updated_at: datetime


class StaffRefundRead(BaseModel):
    """A refund in staff's picture of an order (#36)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    payment_id: uuid.UUID
    amount: Money
    currency: str
    status: str
    reason: str
    provider: str
    failure_reason: str | None
    staff_id: uuid.UUID | None
    created_at: datetime


class OrderPaymentsRead(BaseModel):
    """Payments' part of staff's picture of an order (#36): its payments and refunds."""

    order_id: uuid.UUID
    payments: list[PaymentRead]
    refunds: list[StaffRefundRead]
    total_refunded: Money
    refundable: Money


class PaymentList(BaseModel):
    results: list[PaymentRead]


class CheckoutPaid(BaseModel):
    status: Literal["paid"] = "paid"
    order_id: uuid.UUID
    session_id: str
    redirect_url: str


# -- subscriptions (S4) -------------------------------------------------------------------------

class PlanRead(BaseModel):
    id: uuid.UUID
    sku: str
    name: str
    tier: str
    interval: str
    monthly_quota: int
    price: str
    currency: str
    features: list[str]


class PlanList(BaseModel):
    results: list[PlanRead]


class QuotaRead(BaseModel):
    monthly: int
    used: int
    remaining: int


class SubscriptionRead(BaseModel):
    plan_id: str | None
    tier: str
    status: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    quota: QuotaRead


class SubscriptionCheckout(_Input):
    # The plan's SKU (`pro_monthly`) or its catalog product id.
    plan_id: Annotated[str, Field(min_length=1, max_length=64)]
    success_url: RedirectUrl
    cancel_url: RedirectUrl


class SubscriptionCheckoutRead(BaseModel):
    checkout_url: str


class PortalRead(BaseModel):
    portal_url: str


class PaymentMethodUpdate(_Input):
    payment_method_id: Annotated[str, Field(min_length=1, max_length=255)]


class InvoiceRead(BaseModel):
    id: uuid.UUID
    kind: str = "invoice"
    # The storefront the plan was subscribed on.
    storefront: str
    provider_invoice_id: str
    amount: Money
    currency: str
    status: str
    period_start: datetime | None
    period_end: datetime | None
    created_at: datetime


class AdvanceSubscription(_Input):
    """docs/api.md (Development endpoints): the user by `user_id` or by `email`, exactly one of them."""

    user_id: uuid.UUID | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)] | None = None
    outcome: Literal["paid", "failed"] = "paid"

    @model_validator(mode="after")
    def _one_user(self) -> AdvanceSubscription:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("name the user by user_id or by email (one of them)")
        return self
