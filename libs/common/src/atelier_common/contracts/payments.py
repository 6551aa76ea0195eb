"""Events produced by payments."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.contracts.orders import OrderLine
from atelier_common.events.envelope import ContractModel, IntegrationEvent


class BuyerAddress(ContractModel):
    """The delivery contact of a paid order: identity registers anonymous buyers from it."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


class OrderPaid(IntegrationEvent):
    """The provider confirmed the money for an order."""

    type = "order.paid"
    # The storefront it happened on (`contracts.identity.Storefront`); older events: the default.
    storefront: str = DEFAULT_STOREFRONT
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


class PaymentFailed(IntegrationEvent):
    type = "payment.failed"
    order_id: uuid.UUID
    payment_id: uuid.UUID
    reason: str | None = None


class PaymentRefunded(IntegrationEvent):
    """Money of an order's payment went back to the buyer: one event per refund, partial or whole.

    `amount` is this refund's; `total_refunded` all refunds of the payment so far; `is_full`
    says the payment is now refunded entirely (only then may orders call the order refunded).
    Events from before partial refunds carry none of the three: they were always full refunds.
    """

    type = "payment.refunded"
    # The storefront it happened on (`contracts.identity.Storefront`); older events: the default.
    storefront: str = DEFAULT_STOREFRONT
    order_id: uuid.UUID
    payment_id: uuid.UUID
    amount: Decimal
    currency: str
    refund_id: uuid.UUID | None = None
    total_refunded: Decimal | None = None
    is_full: bool = True
    reason: str | None = None


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


class SubscriptionChanged(IntegrationEvent):
    """A user's plan, its tier and monthly quota; `status` active, past_due, canceled, …"""

    type = "subscription.changed"
    # The storefront it happened on (`contracts.identity.Storefront`); older events: the default.
    storefront: str = DEFAULT_STOREFRONT
    user_id: uuid.UUID
    plan_sku: str | None = None
    tier: str | None = None
    status: str
    monthly_quota: int = 0
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    plan_id: uuid.UUID | None = None
    current_period_start: datetime | None = None
