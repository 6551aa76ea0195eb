"""API models of payments: requests are strict about types and ignore unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from atelier_common.contracts.payments import SubscriptionChanged
from atelier_common.inputs import InputModel
from atelier_common.money import Money


class _Input(InputModel):
    # Unknown fields are ignored (an `amount` sent by a client changes nothing); wrong types are 400.
    model_config = ConfigDict(extra="ignore")


RedirectUrl = Annotated[AnyHttpUrl, Field(description="Absolute http(s) URL the buyer is sent to")]


class IntentCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"order_id": "53e07108-4fdf-410f-9dfc-c5b2d7a6ba9d"}]})

    order_id: uuid.UUID


class IntentRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"client_secret": "lpi_ec2f1b3f81b53834a8b0af76_secret_bf83efd931b4c82a238c8fdc",
         "payment_intent_id": "lpi_ec2f1b3f81b53834a8b0af76", "payment_id": "20a73206-8322-4c3f-927d-172692e3f9b4",
         "status": "requires_payment_method", "amount": "32.24", "currency": "USD"}]})

    client_secret: str
    payment_intent_id: str
    payment_id: uuid.UUID
    status: str
    amount: Money
    currency: str


class PaymentConfirm(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "payment_intent_id": "pi_3QxY2bLkdIwHu7ix0a1b2c3d"}]})

    order_id: uuid.UUID
    payment_intent_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class ConfirmRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Payment confirmed", "status": "succeeded", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
         "payment_id": "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", "payment_intent_id": "pi_3QxY2bLkdIwHu7ix0a1b2c3d"}]})

    message: str = "Payment confirmed"
    status: str
    order_id: uuid.UUID
    payment_id: uuid.UUID
    payment_intent_id: str


class CheckoutCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "success_url": "https://shop.example.com/thanks",
         "cancel_url": "https://shop.example.com/cart", "gift_cards": ["ABCD-EFGH-JKMN-PQRS"]}]})

    order_id: uuid.UUID
    success_url: RedirectUrl
    cancel_url: RedirectUrl
    payment_token: str | None = Field(default=None, max_length=200, description=(
        "the token of a payment link staff sent (a draft order's): pays that order without being its owner; with "
        "`edit_id`, the token of that edit's link"))
    edit_id: uuid.UUID | None = Field(default=None, description=(
        "an edit of the (paid) order that left an amount due: the checkout charges that difference, once, as a "
        "supplementary payment of the order (docs/back-office.md#order-edits)"))
    # Gift card codes that pay first, in this order, each up to its balance; the provider's page
    # is for the rest (none left: the order is paid at once).
    gift_cards: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(default=[], max_length=5)


class CheckoutRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"checkout_url": "http://localhost:8000/api/dev/checkout/lcs_35b693831d9765b9f787225e67b5dbd9",
         "session_id": "lcs_35b693831d9765b9f787225e67b5dbd9", "payment_id": "d1fce9f1-b31d-4d72-ae98-6d9fb4763468",
         "status": "requires_payment", "gift_card_amount": "20.00", "amount_due": "12.24"}]})

    # Where to send the customer: the provider's page; when gift cards paid it all, `success_url`.
    checkout_url: str
    # None when gift cards paid it all (no provider session).
    session_id: str | None
    payment_id: uuid.UUID
    # requires_payment (the provider's page takes `amount_due`), or succeeded (gift cards paid it all).
    status: str = "requires_payment"
    gift_card_amount: Money = Decimal("0.00")
    # What the provider's page charges.
    amount_due: Money | None = None


class CreditPurchase(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"sku": "PACK_10"}]})

    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class CreditPurchaseRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"order_id": "7ea73ec4-c195-4af3-8be3-bf6adfbecb99",
         "checkout_url": "http://localhost:8000/api/dev/checkout/lcs_7d30d739dc6bb06251a06ac5373f1d1d",
         "session_id": "lcs_7d30d739dc6bb06251a06ac5373f1d1d"}]})

    order_id: uuid.UUID
    checkout_url: str
    session_id: str


class RefundCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "amount": "5.00", "reason": "Damaged corner"}]})

    order_id: uuid.UUID
    # Omitted: all that remains of the payment.
    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)] | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    # What the staffer's form said was still refundable: when it no longer is (a refund came
    # in between), 409 STALE_VERSION and nothing is refunded. Omitted: no such check (scripts).
    expected_refundable: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None


class RefundRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "69f79de7-52ad-4ba8-a783-91058ba75d96", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
         "payment_id": "d1fce9f1-b31d-4d72-ae98-6d9fb4763468", "storefront": "default", "amount": "5.00",
         "currency": "USD", "status": "succeeded", "reason": "Damaged corner", "provider": "local",
         "total_refunded": "5.00", "refundable": "27.24", "created_at": "2026-11-26T02:15:39.998087Z"}]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"received": True, "status": "processed"}]})

    received: bool = True
    # processed, duplicate (this event id was handled before) or ignored (not ours to act on)
    status: Literal["processed", "duplicate", "ignored"]


class HealthRead(BaseModel):
    status: Literal["ok"] = "ok"


class LedgerEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "67f6aee7-2097-4d25-a5d8-c871ef5ba7d5", "storefront": "default", "kind": "payment",
         "amount": "32.24", "currency": "USD", "credits": None,
         "payment_id": "d1fce9f1-b31d-4d72-ae98-6d9fb4763468", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
         "reference_id": "lcs_35b693831d9765b9f787225e67b5dbd9",
         "description": "Payment for order ORD-20261126-NNKSU0", "created_at": "2026-11-26T02:15:25.263948Z"}]})

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


class StaffLedgerQuery(_Input):
    """The filters of GET /staff/ledger (finance); each one narrows, none means every entry."""

    customer: uuid.UUID | None = Field(default=None, description="the owner: a customer's user id")
    storefront: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    kind: Literal["payment", "refund", "credit_purchase", "credit_consumed"] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


class StaffLedgerEntryRead(LedgerEntryRead):
    """A ledger entry as finance reads it: whose it is, too."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "67f6aee7-2097-4d25-a5d8-c871ef5ba7d5", "owner_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a",
         "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "storefront": "default", "kind": "refund",
         "amount": "-10.00", "currency": "USD", "credits": None,
         "payment_id": "d1fce9f1-b31d-4d72-ae98-6d9fb4763468", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
         "reference_id": "re_3QJ8sdLkdIwHu7ix0Zp3aBcD", "description": "Refund for order ORD-20261126-NNKSU0",
         "created_at": "2026-11-26T02:20:25.263948Z"}]})

    # The customer (or, before sign-up, the anonymous id) the entry belongs to.
    owner_id: uuid.UUID
    user_id: uuid.UUID | None


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
    # The part of `amount` gift cards paid; the provider (`gift_card` when they paid it all) took the rest.
    gift_card_amount: Money = Decimal("0.00")
    # A supplementary payment: the order edit whose difference it pays (None: the order's own payment).
    edit_id: uuid.UUID | None = None


class StaffRefundRead(BaseModel):
    """A refund in staff's picture of an order."""

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
    # The part of `amount` credited back to gift cards; the provider gave back the rest.
    gift_card_amount: Money = Decimal("0.00")


class OrderPaymentsRead(BaseModel):
    """Payments' part of staff's picture of an order: its payments and refunds."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
         "payments": [{"id": "d1fce9f1-b31d-4d72-ae98-6d9fb4763468",
           "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "owner_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a",
           "storefront": "default", "provider": "local", "kind": "checkout", "status": "succeeded",
           "amount": "32.24", "currency": "USD", "provider_intent_id": None,
           "provider_session_id": "lcs_35b693831d9765b9f787225e67b5dbd9", "pays_order": True,
           "created_at": "2026-11-26T02:15:25.106072Z", "updated_at": "2026-11-26T02:15:25.263957Z"}],
         "refunds": [], "total_refunded": "0.00", "refundable": "32.24"}]})

    order_id: uuid.UUID
    payments: list[PaymentRead]
    refunds: list[StaffRefundRead]
    total_refunded: Money
    refundable: Money


class PaymentList(BaseModel):
    results: list[PaymentRead]


class CheckoutPaid(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "paid", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
         "session_id": "lcs_35b693831d9765b9f787225e67b5dbd9", "redirect_url": "https://shop.example.com/thanks"}]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"results": [{"id": "287774a8-9651-4998-90d3-73482fe4548c", "sku": "studio_monthly",
           "name": "Studio (monthly)", "tier": "studio", "interval": "month", "monthly_quota": 1000,
           "price": "49.99", "currency": "USD", "features": ["1000 generations a month", "Premium gallery access"]}]}]})

    results: list[PlanRead]


class QuotaRead(BaseModel):
    monthly: int
    used: int
    remaining: int


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"plan_id": "studio_monthly", "tier": "studio", "status": "active",
         "current_period_start": "2026-11-26T02:15:36.133910Z", "current_period_end": "2026-12-26T02:15:36.133910Z",
         "cancel_at_period_end": False, "quota": {"monthly": 1000, "used": 0, "remaining": 1000}}]})

    plan_id: str | None
    tier: str
    status: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    quota: QuotaRead


class SubscriptionTold(BaseModel):
    """`GET /internal/subscriptions/{user_id}/plan`: the plan as `subscription.changed` tells it,
    and when it last changed (the time generation orders it by, as an event's `occurred_at`)."""

    event: SubscriptionChanged
    changed_at: datetime


class SubscriptionCheckout(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"plan_id": "287774a8-9651-4998-90d3-73482fe4548c", "success_url": "https://shop.example.com/welcome",
         "cancel_url": "https://shop.example.com/plans"}]})

    # The plan's SKU (`pro_monthly`) or its catalog product id.
    plan_id: Annotated[str, Field(min_length=1, max_length=64)]
    success_url: RedirectUrl
    cancel_url: RedirectUrl


class SubscriptionCheckoutRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"checkout_url": "http://localhost:8000/api/dev/subscriptions/checkout/lsub_8f598e218470483e6e0f45fa"}]})

    checkout_url: str


class PortalRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"portal_url": "http://localhost:8000/api/dev/subscriptions/portal/lsub_8f598e218470483e6e0f45fa"}]})

    portal_url: str


class PaymentMethodUpdate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"payment_method_id": "pm_1QxY2bLkdIwHu7ixVisa4242"}]})

    payment_method_id: Annotated[str, Field(min_length=1, max_length=255)]


class InvoiceRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "f384b2db-21a1-4a88-858f-249d434da26f", "kind": "invoice", "storefront": "default",
         "provider_invoice_id": "lin_839c1355f601d08ae434cf15", "amount": "49.99", "currency": "USD",
         "status": "paid", "period_start": "2026-11-26T02:15:38.205697Z",
         "period_end": "2026-12-26T02:15:38.205697Z", "created_at": "2026-11-26T02:15:38.205697Z"}]})

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

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada.lovelace@example.com", "outcome": "paid"}]})

    user_id: uuid.UUID | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)] | None = None
    outcome: Literal["paid", "failed"] = "paid"

    @model_validator(mode="after")
    def _one_user(self) -> AdvanceSubscription:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("name the user by user_id or by email (one of them)")
        return self


class GiftCardCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"storefront": "default", "amount": "50.00", "currency": "USD", "expires_at": "2027-12-31T23:59:59Z",
         "note": "Apology for the late delivery of ORD-20261126-NNKSU0", "recipient_email": "ada@example.com"}]})

    storefront: str = Field(default="default", min_length=1, max_length=64)
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    # None: the storefront's currency.
    currency: str | None = Field(default=None, pattern="^[A-Za-z]{3}$")
    # None: `gift_card_validity_days` from now (payments' setting; never, when unset).
    expires_at: datetime | None = None
    note: str | None = Field(default=None, max_length=2000)
    recipient_email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class GiftCardRead(BaseModel):
    """A gift card as staff see it: the code only by its last four characters."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "0b7a3f4e-2c1d-4e5f-8a9b-0c1d2e3f4a5b", "storefront": "default", "last4": "QRS7",
         "initial_balance": "50.00", "balance": "12.50", "currency": "USD", "expires_at": "2027-12-31T23:59:59Z",
         "is_active": True, "note": None, "recipient_email": "ada@example.com",
         "created_by": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "created_at": "2026-11-29T18:00:00Z",
         "updated_at": "2026-11-29T18:30:00Z"}]})

    id: uuid.UUID
    storefront: str
    last4: str
    initial_balance: Money
    balance: Money
    currency: str
    expires_at: datetime | None
    is_active: bool
    note: str | None
    recipient_email: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


_CARD_EXAMPLE: dict[str, Any] = {
    "id": "0b7a3f4e-2c1d-4e5f-8a9b-0c1d2e3f4a5b", "storefront": "default", "last4": "PQRS", "initial_balance": "50.00",
    "balance": "50.00", "currency": "USD", "expires_at": "2027-12-31T23:59:59Z", "is_active": True, "note": None,
    "recipient_email": "ada@example.com", "created_by": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a",
    "created_at": "2026-11-29T18:00:00Z", "updated_at": "2026-11-29T18:00:00Z"}


class GiftCardIssuedRead(GiftCardRead):
    """The card just issued, with its whole `code`: shown this once, never again."""

    model_config = ConfigDict(json_schema_extra={"examples": [{**_CARD_EXAMPLE, "code": "ABCD-EFGH-JKMN-PQRS"}]})

    code: str


class GiftCardTransactionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    # issued, used (held by a payment), released (the payment did not go through), refunded
    kind: str
    amount: Money
    currency: str
    payment_id: uuid.UUID | None
    order_id: uuid.UUID | None
    refund_id: uuid.UUID | None
    created_at: datetime


class GiftCardDetailRead(GiftCardRead):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_CARD_EXAMPLE, "transactions": [
        {"id": "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "kind": "issued", "amount": "50.00", "currency": "USD",
         "payment_id": None, "order_id": None, "refund_id": None, "created_at": "2026-11-29T18:00:00Z"}]}]})

    transactions: list[GiftCardTransactionRead]


class GiftCardAction(_Input):
    """An optional reason, kept in the audit log."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Reported lost by its recipient"}]})

    reason: str | None = Field(default=None, max_length=500)


class GiftCardBalanceQuery(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "ABCD-EFGH-JKMN-PQRS"}]})

    code: str = Field(min_length=1, max_length=64)


class GiftCardBalanceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"last4": "PQRS", "balance": "12.50", "currency": "USD", "expires_at": "2027-12-31T23:59:59Z"}]})

    last4: str
    balance: Money
    currency: str
    expires_at: datetime | None
