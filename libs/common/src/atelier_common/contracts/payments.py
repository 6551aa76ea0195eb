"""Events produced by payments."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from atelier_common.contracts.examples import (
    CUSTOMER_ID,
    EMAIL,
    LINE,
    ORDER,
    ORDER_ID,
    PAYMENT_ID,
    REFUND_ID,
    webhook_example,
)
from atelier_common.contracts.identity import StorefrontEvent
from atelier_common.contracts.orders import OrderLine
from atelier_common.events.envelope import ContractModel, IntegrationEvent

# The examples' gift card (the order and its customer: `examples`).
_GIFT_CARD_ID = "0b7a3f4e-2c1d-4e5f-8a9b-0c1d2e3f4a5b"


class BuyerAddress(ContractModel):
    """The delivery contact of a paid order: identity registers anonymous buyers from it."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


class OrderEditPaid(StorefrontEvent):
    """The provider confirmed the money an edit of a paid order left due (docs/back-office.md#order-edits):
    a supplementary payment of the order, one per edit (`edit_id`). Orders applies the edit and
    issues its supplementary invoice."""

    type = "order.edit_paid"
    order_id: uuid.UUID
    order_number: str | None = None
    edit_id: uuid.UUID
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    amount: Decimal
    currency: str
    payment_id: uuid.UUID
    provider: str


class OrderPaid(StorefrontEvent):
    """The provider confirmed the money for an order."""

    model_config = webhook_example({
        **ORDER, "anon_id": None, "amount": "32.24", "currency": "USD", "payment_id": PAYMENT_ID, "provider": "local",
        "lines": [LINE], "buyer": {"email": EMAIL, "first_name": "Ada", "last_name": "Lovelace",
                                   "phone": "+442079460000"}, "customer_id": None, "register_buyer": False})

    type = "order.paid"
    order_id: uuid.UUID
    order_number: str | None = None
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    anon_id: uuid.UUID | None = None
    amount: Decimal
    currency: str
    payment_id: uuid.UUID
    provider: str
    lines: list[OrderLine] = []
    buyer: BuyerAddress | None = None
    # The account the provider names as the buyer (S0's webhook `customer_id`): an anonymous
    # order's claim goes to it instead of an account registered from the delivery address.
    customer_id: uuid.UUID | None = None
    # Orders' decision when the order was placed (the storefront's `guest_accounts` and the buyer's
    # `create_account`, `OrderPlaced.register_buyer`): an anonymous buyer gets an account from
    # `buyer`. Missing (an event, or a payment's snapshot of its order, from before the policy):
    # False, the choice nobody has to undo: no account, no mail, and the guest who signs up or in
    # later still claims the order.
    register_buyer: bool = False


class PaymentFailed(IntegrationEvent):
    model_config = webhook_example({"order_id": ORDER_ID, "payment_id": PAYMENT_ID, "reason": "Your card was declined."})

    type = "payment.failed"
    order_id: uuid.UUID
    payment_id: uuid.UUID
    reason: str | None = None


class PaymentRefunded(StorefrontEvent):
    """Money of an order's payment went back to the buyer: one event per refund, partial or whole.

    `amount` is this refund's; `total_refunded` all refunds of the payment so far; `is_full`
    says the payment is now refunded entirely (only then may orders call the order refunded).
    Events from before partial refunds carry none of the three: they were always full refunds.
    """

    model_config = webhook_example({
        "storefront": "default", "order_id": ORDER_ID, "payment_id": PAYMENT_ID, "amount": "5.00", "currency": "USD",
        "refund_id": REFUND_ID, "total_refunded": "5.00", "is_full": False, "reason": "Damaged corner",
        "return_id": None})

    type = "payment.refunded"
    order_id: uuid.UUID
    payment_id: uuid.UUID
    amount: Decimal
    currency: str
    refund_id: uuid.UUID | None = None
    total_refunded: Decimal | None = None
    is_full: bool = True
    reason: str | None = None
    # Added by payments (optional): the return (`return.received`) this refund pays back, or the
    # order edit (`order.edited`: its `edit_id`).
    return_id: uuid.UUID | None = None


class PaymentReturned(IntegrationEvent):
    """Money the order did not take went back to the buyer: a payment that succeeded after its
    order was cancelled, or a second payment of an order already paid. The order's payment is not
    touched (no `payment.refunded`); orders notes it in the order's history. One per refund.
    """

    type = "payment.returned"
    order_id: uuid.UUID
    payment_id: uuid.UUID
    amount: Decimal
    currency: str
    refund_id: uuid.UUID | None = None
    is_full: bool = True


class SubscriptionChanged(StorefrontEvent):
    """A user's plan, its tier and monthly quota; `status` active, past_due, canceled, …"""

    model_config = webhook_example({
        "storefront": "default", "user_id": CUSTOMER_ID, "plan_sku": "studio_monthly", "tier": "studio",
        "status": "active", "monthly_quota": 1000, "current_period_end": "2026-12-26T02:15:38.205697Z",
        "cancel_at_period_end": False, "plan_id": "287774a8-9651-4998-90d3-73482fe4548c",
        "current_period_start": "2026-11-26T02:15:38.205697Z"})

    type = "subscription.changed"
    user_id: uuid.UUID
    plan_sku: str | None = None
    tier: str | None = None
    status: str
    monthly_quota: int = 0
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    plan_id: uuid.UUID | None = None
    current_period_start: datetime | None = None


class GiftCardIssued(StorefrontEvent):
    """Staff issued a gift card, or an order bought one (its code is never in an event: only its
    last four characters)."""

    model_config = webhook_example({
        "storefront": "default", "gift_card_id": _GIFT_CARD_ID, "last4": "PQRS", "initial_balance": "50.00",
        "currency": "USD", "expires_at": "2027-11-29T18:00:00Z", "order_id": None, "recipient_email": None,
        "message": None, "send_at": None})

    type = "gift_card.issued"
    gift_card_id: uuid.UUID
    last4: str
    initial_balance: Decimal
    currency: str
    expires_at: datetime | None = None
    # A card bought in an order (a gift card product): that order, whom the card is for, the
    # buyer's message, and when identity mails it (None: at once).
    order_id: uuid.UUID | None = None
    recipient_email: str | None = None
    message: str | None = None
    send_at: datetime | None = None


class GiftCardDelivery(StorefrontEvent):
    """A gift card bought in an order, for identity to mail its code to its recipient from
    `send_at` on (None: at once). Carries the whole code, so it is never sent to webhook
    endpoints (the code spends the card), as `draft_order.sent`'s link is not."""

    type = "gift_card.delivery"
    gift_card_id: uuid.UUID
    code: str
    recipient_email: str
    amount: Decimal
    currency: str
    expires_at: datetime | None = None
    order_id: uuid.UUID
    order_number: str | None = None
    message: str | None = None
    send_at: datetime | None = None


class GiftCardChanged(StorefrontEvent):
    """A gift card changed: `change` is `deactivated`, `reactivated`, `used` (a payment held part of
    it), `released` (that payment did not go through) or `refunded` (a refund credited it back);
    `balance` and `is_active` are the card's after it."""

    model_config = webhook_example({
        "storefront": "default", "gift_card_id": _GIFT_CARD_ID, "change": "used", "balance": "12.50", "currency": "USD",
        "is_active": True, "order_id": ORDER_ID})

    type = "gift_card.changed"
    gift_card_id: uuid.UUID
    change: str
    balance: Decimal
    currency: str
    is_active: bool
    order_id: uuid.UUID | None = None
