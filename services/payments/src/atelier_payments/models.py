"""Tables of the payments service: payments, processed webhook ids, the ledger, local checkouts."""

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, Numeric, PrimaryKeyConstraint, Text, text
from sqlmodel import Field, SQLModel

from atelier_common.columns import UtcDateTime, json_field, utcnow
from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_payments.domain import LedgerKind, PaymentKind, PaymentStatus, RefundStatus


def _timestamp() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def _storefront() -> Any:
    """The storefront a row belongs to (`contracts.identity.Storefront.slug`); rows written before
    storefronts existed belong to the default one."""
    return Field(default=DEFAULT_STOREFRONT, max_length=64, sa_column_kwargs={"server_default": DEFAULT_STOREFRONT})


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


STATUS_VALUES = _values(PaymentStatus)
KIND_VALUES = _values(PaymentKind)
LEDGER_KIND_VALUES = _values(LedgerKind)
REFUND_STATUS_VALUES = _values(RefundStatus)
# At most one open intent per order and provider: concurrent "pay" clicks reuse it.
OPEN_INTENT_WHERE = "kind = 'intent' AND status IN ('created', 'requires_payment', 'processing', 'failed')"


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="ck_payment_status"),
        CheckConstraint(f"kind IN ({KIND_VALUES})", name="ck_payment_kind"),
        CheckConstraint("amount >= 0", name="ck_payment_amount"),
        Index("ix_payment_order_id", "order_id"),
        Index("ix_payment_owner_id", "owner_id"),
        Index("uq_payment_intent", "provider", "provider_intent_id", unique=True),
        Index("uq_payment_session", "provider", "provider_session_id", unique=True),
        # A provider event that names only the charge (a refund, a dispute) finds its payment here.
        Index("ix_payment_charge", "provider", "provider_charge_id"),
        # An edit's supplementary payments (docs/back-office.md#order-edits).
        Index("ix_payment_edit_id", "edit_id"),
        Index("uq_payment_open_intent", "order_id", "provider", unique=True,
              postgresql_where=text(OPEN_INTENT_WHERE), sqlite_where=text(OPEN_INTENT_WHERE)),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    # The anonymous id that started the payment, kept after a claim (order.paid names it).
    anon_id: uuid.UUID | None = None
    # The order's storefront (orders sets it when the order is placed, and it never changes).
    storefront: str = _storefront()
    provider: str = Field(max_length=20)
    kind: str = Field(max_length=20)
    provider_intent_id: str | None = Field(default=None, max_length=255)
    provider_session_id: str | None = Field(default=None, max_length=255)
    provider_charge_id: str | None = Field(default=None, max_length=255)
    provider_refund_id: str | None = Field(default=None, max_length=255)
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(max_length=3)
    status: str = Field(default=PaymentStatus.CREATED, max_length=20)
    failure_reason: str | None = Field(default=None, max_length=500)
    # This payment is the one that paid its order (order.paid was published for it); a second
    # payment of the same order is refunded without telling orders.
    pays_order: bool = False
    # order_number, lines and buyer contact, taken from orders when the payment started.
    order_snapshot: dict[str, Any] = json_field()
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    # The part of `amount` gift cards paid (held when the payment started, `gift_card_transaction`);
    # the provider is asked for the rest. `amount` stays the order's total: what `order.paid` says.
    gift_card_amount: Decimal = Field(default=Decimal("0.00"), sa_column=Column(
        Numeric(12, 2), nullable=False, server_default="0"))
    # A supplementary payment: what the order edit of this id left due on a paid order, charged on
    # its own (`amount` is that difference); its success is `order.edit_paid`, not `order.paid`, and
    # `pays_order` says it paid its edit. None: a payment of the order's total.
    edit_id: uuid.UUID | None = None


class ProcessedWebhook(SQLModel, table=True):
    """A provider event id, written in the same transaction as the event's effect."""

    __tablename__ = "processed_webhook"
    __table_args__ = (PrimaryKeyConstraint("provider", "event_id", name="pk_processed_webhook"),)

    provider: str = Field(max_length=20)
    event_id: str = Field(max_length=255)
    event_type: str = Field(max_length=100)
    processed_at: datetime = _timestamp()


class LedgerEntry(SQLModel, table=True):
    """One movement of money or credits of an owner; positive in, negative out."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint(f"kind IN ({LEDGER_KIND_VALUES})", name="ck_ledger_entry_kind"),
        Index("ix_ledger_entry_owner_created", "owner_id", "created_at"),
        Index("ix_ledger_entry_created", "created_at", "id"),
        # Finance's ledger of one storefront's payments (refunds, …), newest first.
        Index("ix_ledger_entry_storefront_kind_created", "storefront", "kind", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    # The storefront of the payment, subscription or credit use the entry records.
    storefront: str = _storefront()
    kind: str = Field(max_length=30)
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    currency: str | None = Field(default=None, max_length=3)
    credits: int | None = None
    payment_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    # The provider object or the generation job/unlock the entry comes from.
    reference_id: str | None = Field(default=None, max_length=255)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = _timestamp()


class Refund(SQLModel, table=True):
    """One refund of a payment, whole or partial, by staff or by a cancellation.

    `pending` and `succeeded` refunds count against what may still be refunded; only a
    `succeeded` one has a ledger entry and a `payment.refunded` event.
    """

    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint(f"status IN ({REFUND_STATUS_VALUES})", name="ck_refund_status"),
        CheckConstraint("amount > 0", name="ck_refund_amount"),
        Index("ix_refund_payment_id", "payment_id"),
        Index("ix_refund_order_id", "order_id"),
        Index("uq_refund_provider_id", "provider", "provider_refund_id", unique=True),
        # A return is refunded once per payment, whatever delivers `return.received` twice (an order
        # with supplementary payments may refund one return from several).
        Index("uq_refund_payment_return_id", "payment_id", "return_id", unique=True),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    payment_id: uuid.UUID
    order_id: uuid.UUID
    # Its payment's storefront.
    storefront: str = _storefront()
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(max_length=3)
    status: str = Field(default=RefundStatus.PENDING, max_length=20)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    provider: str = Field(max_length=20)
    provider_refund_id: str | None = Field(default=None, max_length=255)
    failure_reason: str | None = Field(default=None, max_length=500)
    # The staff member who asked for it; None for refunds of cancellations and provider-made ones.
    staff_id: uuid.UUID | None = None
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    # The order's return (`return.received`) or order edit (`order.edited`: its `edit_id`) this refund
    # pays back; None for any other refund.
    return_id: uuid.UUID | None = None
    # The part of `amount` credited back to the payment's gift cards (the provider gives back the rest).
    gift_card_amount: Decimal = Field(default=Decimal("0.00"), sa_column=Column(
        Numeric(12, 2), nullable=False, server_default="0"))


class EarlyRefund(SQLModel, table=True):
    """A refund the provider reported before the payment's success reached us (Stripe sends
    events in no particular order): kept until the success arrives, then applied as if it came
    after it (`Settlement.succeed`) and deleted. `amount` None: everything the payment paid."""

    __tablename__ = "early_refund"
    __table_args__ = (
        Index("ix_early_refund_payment_id", "payment_id"),
        # One row per provider refund, however many events announce it.
        Index("uq_early_refund_provider_id", "payment_id", "provider_refund_id", unique=True),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    payment_id: uuid.UUID
    provider_refund_id: str | None = Field(default=None, max_length=255)
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    created_at: datetime = _timestamp()


class CheckoutSession(SQLModel, table=True):
    """A checkout page of the `local` provider (Stripe keeps its own sessions)."""

    __tablename__ = "checkout_session"
    __table_args__ = (Index("ix_checkout_session_payment_id", "payment_id"),
                      # The housekeeping sweep's range.
                      Index("ix_checkout_session_expires_at", "expires_at"))

    id: str = Field(primary_key=True, max_length=64)
    payment_id: uuid.UUID
    order_id: uuid.UUID
    # Its payment's storefront: the page shows that storefront's name.
    storefront: str = _storefront()
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(max_length=3)
    success_url: str = Field(sa_column=Column(Text, nullable=False))
    cancel_url: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=20)
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    created_at: datetime = _timestamp()


class Subscription(SQLModel, table=True):
    """A user's plan (S4): one row per user, the provider's subscription mirrored here."""

    __tablename__ = "billing_subscription"
    __table_args__ = (
        Index("uq_billing_subscription_user_id", "user_id", unique=True),
        Index("uq_billing_subscription_provider_id", "provider", "provider_subscription_id", unique=True),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    # The storefront the plan was subscribed on (the latest checkout's).
    storefront: str = _storefront()
    plan_id: uuid.UUID
    plan_sku: str = Field(max_length=64)
    tier: str = Field(max_length=30)
    monthly_quota: int = 0
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(max_length=3)
    provider: str = Field(max_length=20)
    provider_subscription_id: str | None = Field(default=None, max_length=255)
    provider_customer_id: str | None = Field(default=None, max_length=255)
    payment_method_id: str | None = Field(default=None, max_length=255)
    # incomplete (checkout open), active, past_due, canceled
    status: str = Field(max_length=20)
    current_period_start: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    current_period_end: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    cancel_at_period_end: bool = False
    # Where the local checkout page sends the user after paying or cancelling.
    checkout_success_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    checkout_cancel_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class SubscriptionInvoice(SQLModel, table=True):
    """One billing of a subscription period, paid or failed (GET /subscriptions/history)."""

    __tablename__ = "billing_invoice"
    __table_args__ = (
        Index("ix_billing_invoice_user_created", "user_id", "created_at"),
        Index("uq_billing_invoice_provider_id", "provider", "provider_invoice_id", unique=True),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    subscription_id: uuid.UUID
    user_id: uuid.UUID
    # Its subscription's storefront.
    storefront: str = _storefront()
    provider: str = Field(max_length=20)
    provider_invoice_id: str = Field(max_length=255)
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(max_length=3)
    # paid or failed
    status: str = Field(max_length=20)
    period_start: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    period_end: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    created_at: datetime = _timestamp()


class GiftCard(SQLModel, table=True):
    """A gift card of one storefront: a balance in one currency that pays orders at checkout.

    The code is never stored: its SHA-256 (`domain.gift_card_digest`) finds the card, and its last
    four characters are kept to name it. `balance` moves only by `gift_card_transaction` rows
    written in the same transaction, under the card's row lock.
    """

    __tablename__ = "gift_card"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="ck_gift_card_balance"),
        CheckConstraint("initial_balance > 0", name="ck_gift_card_initial_balance"),
        Index("uq_gift_card_code_digest", "code_digest", unique=True),
        Index("ix_gift_card_storefront_created", "storefront", "created_at", "id"),
        Index("uq_gift_card_order_unit", "order_id", "order_unit", unique=True),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    storefront: str = _storefront()
    code_digest: str = Field(max_length=64)
    last4: str = Field(max_length=4)
    initial_balance: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    balance: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(max_length=3)
    expires_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    is_active: bool = True
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recipient_email: str | None = Field(default=None, max_length=320)
    # The staffer who issued it.
    created_by: uuid.UUID | None = None
    # A card bought as a product: its order, and the unit of the line it was issued for
    # (`domain.gift_card_units`); None for a card staff issued.
    order_id: uuid.UUID | None = None
    order_unit: str | None = Field(default=None, max_length=32)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class GiftCardTransaction(SQLModel, table=True):
    """One movement of a gift card's balance, signed: `issued` (+), `used` (−, held by a payment
    when it starts), `released` (+, the payment did not go through), `refunded` (+, a refund
    credited back). The balance is the sum of its card's rows."""

    __tablename__ = "gift_card_transaction"
    __table_args__ = (
        CheckConstraint("kind IN ('issued', 'used', 'released', 'refunded')", name="ck_gift_card_transaction_kind"),
        Index("ix_gift_card_transaction_card_created", "gift_card_id", "created_at"),
        Index("ix_gift_card_transaction_payment", "payment_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    gift_card_id: uuid.UUID
    kind: str = Field(max_length=20)
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(max_length=3)
    payment_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    refund_id: uuid.UUID | None = None
    created_at: datetime = _timestamp()
