"""Pure rules of payments, no I/O: the status machine, amounts in minor units, the order view,
webhook signatures of the simple providers and the translation of provider events."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from atelier_common.contracts.catalog import ProductKind, credits_granted
from atelier_common.contracts.identity import DEFAULT_STOREFRONT, Storefront
from atelier_common.contracts.orders import OrderLine
from atelier_common.contracts.payments import BuyerAddress
from atelier_common.keys import same_signature

# What providers are sent and send back, in each currency's minor units.
from atelier_common.money import from_minor_units as from_minor_units
from atelier_common.money import quantize
from atelier_common.money import to_minor_units as to_minor_units

LOCAL = "local"
STRIPE = "stripe"
# The "provider" of a payment gift cards paid in whole: no provider was asked for anything.
GIFT_CARD = "gift_card"


class PaymentStatus(StrEnum):
    CREATED = "created"
    REQUIRES_PAYMENT = "requires_payment"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    CANCELED = "canceled"


class PaymentKind(StrEnum):
    INTENT = "intent"
    CHECKOUT = "checkout"
    # A simple provider reported a payment we had not started (S0's external provider).
    EXTERNAL = "external"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class LedgerKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    CREDIT_PURCHASE = "credit_purchase"
    CREDIT_CONSUMED = "credit_consumed"


S = PaymentStatus
# The monotonic guard: where each status may be reached from. A late or replayed event that
# would move a payment backwards (processing after succeeded, succeeded after refunded) is a
# no-op. `failed` is not final: Stripe lets the customer retry the same intent.
REACHABLE_FROM: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.CREATED: frozenset(),
    S.REQUIRES_PAYMENT: frozenset({S.CREATED}),
    S.PROCESSING: frozenset({S.CREATED, S.REQUIRES_PAYMENT, S.FAILED}),
    S.FAILED: frozenset({S.CREATED, S.REQUIRES_PAYMENT, S.PROCESSING}),
    # Money the provider confirms is real even for a payment we had canceled (its order was
    # cancelled meanwhile): it is recorded, then refunded (see settlement).
    S.SUCCEEDED: frozenset({S.CREATED, S.REQUIRES_PAYMENT, S.PROCESSING, S.FAILED, S.CANCELED}),
    S.REFUNDED: frozenset({S.SUCCEEDED}),
    S.CANCELED: frozenset({S.CREATED, S.REQUIRES_PAYMENT, S.PROCESSING, S.FAILED}),
}
# A payment the customer may still complete: it is reused instead of starting another one.
OPEN_STATUSES = frozenset({S.CREATED, S.REQUIRES_PAYMENT, S.PROCESSING, S.FAILED})
# Open and not being paid right now (the provider is not processing money): what a checkout of
# the same order started again may cancel.
ABANDONABLE = frozenset({S.CREATED, S.REQUIRES_PAYMENT, S.FAILED})
# Order statuses in which the order can be paid (orders owns these names).

# Stripe's intent statuses the customer can still act on.
STRIPE_OPEN_INTENT = frozenset({"requires_payment_method", "requires_confirmation", "requires_action",
                                "processing", "requires_capture"})
_STRIPE_INTENT_STATUS = {
    "requires_payment_method": S.REQUIRES_PAYMENT, "requires_confirmation": S.REQUIRES_PAYMENT,
    "requires_action": S.REQUIRES_PAYMENT, "requires_capture": S.PROCESSING, "processing": S.PROCESSING,
    "succeeded": S.SUCCEEDED, "canceled": S.CANCELED,
}

def owns(owner_id: uuid.UUID, user_id: uuid.UUID | None, anon_id: uuid.UUID | None) -> bool:
    """An order or payment belongs to the caller's user id, or to the anonymous id it still
    carries (an order placed before signing in is moved to the user asynchronously)."""
    return owner_id in {i for i in (user_id, anon_id) if i is not None}


def can_transition(current: str, target: PaymentStatus) -> bool:
    return PaymentStatus(current) in REACHABLE_FROM[target]


def status_from_stripe_intent(stripe_status: str) -> PaymentStatus:
    return _STRIPE_INTENT_STATUS.get(stripe_status, S.REQUIRES_PAYMENT)


# --- the order as payments sees it ---------------------------------------------------------

@dataclass(frozen=True)
class OrderView:
    """What payments reads from orders' internal API to charge an order."""

    id: uuid.UUID
    order_number: str | None
    owner_id: uuid.UUID
    user_id: uuid.UUID | None
    email: str | None
    status: str
    currency: str
    total_amount: Decimal
    lines: list[OrderLine]
    shipping_address: dict[str, Any] | None = None
    # Orders' own reading of its status (what a status means is orders' rule).
    is_payable: bool = False
    # The storefront the order was placed on: its payments belong to it.
    storefront: str = DEFAULT_STOREFRONT
    # Orders' decision at placement: the anonymous buyer gets an account once paid (`OrderPaid.register_buyer`).
    register_buyer: bool = False


@dataclass(frozen=True)
class EditView:
    """What payments reads from orders' internal API to charge an edit of a paid order: what it
    leaves due, and whether it still waits for that payment (`awaiting_payment`)."""

    id: uuid.UUID
    version: int
    status: str
    amount_due: Decimal
    currency: str
    order: OrderView

    @property
    def is_payable(self) -> bool:
        return self.status == "awaiting_payment" and self.amount_due > 0


def order_view(data: dict[str, Any]) -> OrderView:
    """Parse orders' JSON; the fields named in orders' internal API, unknown ones ignored."""
    return OrderView(
        id=uuid.UUID(str(data["id"])), order_number=data.get("order_number"),
        owner_id=uuid.UUID(str(data["owner_id"])),
        user_id=uuid.UUID(str(data["user_id"])) if data.get("user_id") else None,
        email=data.get("email"), status=str(data.get("status", "")), currency=str(data["currency"]).upper(),
        # What a payment charges: an exchange's order owes its total less the credit of the lines that
        # came back (`amount_due`; an orders service from before exchanges sends none: the total).
        total_amount=quantize(Decimal(str(data.get("amount_due", data["total_amount"])))),
        lines=[OrderLine.model_validate(item) for item in data.get("items") or []],
        shipping_address=data.get("shipping_address") or None,
        is_payable=data.get("is_payable") is True,
        # An orders service from before storefronts sends none: its orders are the default's.
        storefront=str(data.get("storefront") or DEFAULT_STOREFRONT),
        # An orders service from before guest-account policies sends none: nobody is registered.
        register_buyer=data.get("register_buyer") is True,
    )


def buyer_contact(order: OrderView) -> BuyerAddress:
    """The delivery contact (S0: identity registers an anonymous buyer from it)."""
    address = order.shipping_address or {}
    first, last = address.get("first_name"), address.get("last_name")
    if not (first or last) and address.get("full_name"):
        first, _, last = str(address["full_name"]).partition(" ")
    return BuyerAddress(email=address.get("email") or order.email, first_name=first or None,
                        last_name=last or None, phone=address.get("phone") or address.get("phone_number"))


def order_snapshot(order: OrderView) -> dict[str, Any]:
    """What a payment keeps of its order, so webhooks never need orders to be reachable."""
    return {
        "order_number": order.order_number,
        "lines": [line.model_dump(mode="json") for line in order.lines],
        "buyer": buyer_contact(order).model_dump(mode="json"),
        "shipping_address": order.shipping_address,
        "register_buyer": order.register_buyer,
    }


def snapshot_lines(snapshot: dict[str, Any]) -> list[OrderLine]:
    return [OrderLine.model_validate(line) for line in snapshot.get("lines") or []]


def snapshot_buyer(snapshot: dict[str, Any]) -> BuyerAddress | None:
    buyer = snapshot.get("buyer")
    return BuyerAddress.model_validate(buyer) if buyer else None


def snapshot_registers_buyer(snapshot: dict[str, Any]) -> bool:
    """Whether the order's anonymous buyer is to get an account (orders' decision); a snapshot from
    before the decision was kept: no (`OrderPaid.register_buyer`)."""
    return snapshot.get("register_buyer") is True


def anonymised_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without the person: lines and number stay (accounting), contact goes."""
    return {**snapshot, "buyer": None, "shipping_address": None}


@dataclass(frozen=True)
class CreditGrant:
    sku: str
    credits: int


def credit_grants(lines: list[OrderLine]) -> list[CreditGrant]:
    """Credit-pack lines of a paid order: attributes.credits per unit, times the quantity; a line
    whose credits are unusable grants nothing (`contracts.catalog.credits_granted`)."""
    grants = []
    for line in lines:
        if line.kind == ProductKind.CREDIT_PACK:
            credits = credits_granted(line.attributes, line.quantity)
            if credits is not None:
                grants.append(CreditGrant(sku=line.sku, credits=credits))
    return grants


@dataclass(frozen=True)
class GiftCardUnit:
    """One gift card a paid order issues: `unit` names it within the order (line index, unit
    index), so issuing it twice is refused; `amount` is the line's unit price."""

    unit: str
    amount: Decimal
    recipient_email: str | None = None
    message: str | None = None
    send_at: datetime | None = None


def gift_card_units(lines: list[OrderLine]) -> list[GiftCardUnit]:
    """Gift card lines of a paid order: one card per unit, worth the line's unit price (a line
    priced at nothing issues nothing: a card must hold money)."""
    return [GiftCardUnit(unit=f"{index}:{n}", amount=quantize(line.unit_price), recipient_email=line.gift_recipient_email,
                         message=line.gift_message, send_at=line.gift_send_at)
            for index, line in enumerate(lines) if line.kind == ProductKind.GIFT_CARD and line.unit_price > 0
            for n in range(line.quantity)]


# --- the storefront's payment details ---------------------------------------------------------

# Stripe's statement descriptor rules: at most 22 characters, at least one letter, none of these.
STATEMENT_DESCRIPTOR_MAX = 22
_DESCRIPTOR_FORBIDDEN = str.maketrans("", "", "<>\\'\"*")


def statement_descriptor_suffix(descriptor: str | None) -> str | None:
    """What a card statement shows after the account's prefix for a storefront's charges, made
    acceptable to Stripe (forbidden characters dropped, 22 characters at most); None when
    nothing usable is left (no descriptor, or no letter in it)."""
    if not descriptor:
        return None
    cleaned = " ".join(descriptor.translate(_DESCRIPTOR_FORBIDDEN).split())[:STATEMENT_DESCRIPTOR_MAX].strip()
    return cleaned if any(ch.isalpha() for ch in cleaned) else None


def checkout_redirects(storefront: Storefront | None, success_url: str, cancel_url: str) -> tuple[str, str]:
    """Where a checkout sends the buyer after paying and after cancelling: the storefront's own
    pages when it names them, else `success_url` / `cancel_url` (the request's or the settings')."""
    if storefront is None:
        return success_url, cancel_url
    return storefront.success_url or success_url, storefront.cancel_url or cancel_url


# --- simple provider webhooks (S0) -----------------------------------------------------------

SIGNATURE_PREFIX = "sha256="


def sign_simple_webhook(body: bytes, secret: str) -> str:
    """`X-Signature` of a simple provider: `sha256=<hex HMAC-SHA256 of the raw body>`."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def simple_signature_valid(body: bytes, header: str | None, secret: str | None) -> bool:
    if not header or not secret:
        return False
    return same_signature(header.strip().lower(), sign_simple_webhook(body, secret))


def shared_secret_valid(header: str | None, secret: str | None) -> bool:
    """S0's `X-Webhook-Secret`: the provider sends the shared secret itself (compared in constant time)."""
    if not header or not secret:
        return False
    return same_signature(header.strip(), secret)


def derived_event_id(order_id: uuid.UUID, status: str, amount: Decimal | None, currency: str | None,
                     transaction_id: str | None) -> str:
    """Without an event id, a notification is known by what it says, not by its bytes: the same
    payment sent again with other key order or spacing is the same event."""
    meaning = [str(order_id), status, str(quantize(amount)) if amount is not None else None,
               currency.upper() if currency else None, transaction_id or None]
    return "derived:" + hashlib.sha256(json.dumps(meaning).encode()).hexdigest()


def same_provider_payment(recorded_charge_id: str | None, transaction_id: str | None) -> bool:
    """Whether a notification is about a payment already recorded for its order at the provider:
    only a transaction id other than the recorded one tells of another payment."""
    return transaction_id is None or recorded_charge_id is None or recorded_charge_id == transaction_id


# --- provider events, whatever the provider --------------------------------------------------

class EventAction(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PROCESSING = "processing"
    REFUNDED = "refunded"
    # A Refund object of ours settled at the provider (Stripe `charge.refund.updated`, `refund.*`).
    REFUND_SUCCEEDED = "refund_succeeded"
    REFUND_FAILED = "refund_failed"
    IGNORED = "ignored"


@dataclass(frozen=True)
class ProviderEvent:
    """A verified provider event, reduced to what payments acts on."""

    provider: str
    event_id: str
    type: str
    action: EventAction
    intent_id: str | None = None
    session_id: str | None = None
    charge_id: str | None = None
    # A simple provider's reference: whichever of our provider ids it repeats back.
    transaction_id: str | None = None
    payment_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    amount_minor: int | None = None
    currency: str | None = None
    reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    refund_id: str | None = None
    # The buyer's account as the provider names it (S0's `customer_id`).
    customer_id: uuid.UUID | None = None


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _id_of(value: Any) -> str | None:
    """Stripe fields that may be an id or an expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


# Events whose object is a Stripe Refund.
STRIPE_REFUND_EVENTS = frozenset({"charge.refund.updated", "refund.created", "refund.updated", "refund.failed"})


def refundable(paid: Decimal, reserved: Decimal) -> Decimal:
    """What may still be refunded of a payment: paid minus refunds succeeded or pending."""
    return max(quantize(paid) - quantize(reserved), Decimal("0.00"))


# A payment that can still give money back, and the refunds that count against what it may.
REFUNDS_FROM = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED})
RESERVED = frozenset({RefundStatus.PENDING, RefundStatus.SUCCEEDED})


class _Paying(Protocol):  # a `Payment` or a `PaymentRow`
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def pays_order(self) -> bool: ...
    @property
    def status(self) -> str: ...
    @property
    def edit_id(self) -> uuid.UUID | None: ...
    @property
    def created_at(self) -> datetime: ...


class _Refunding(Protocol):
    @property
    def payment_id(self) -> uuid.UUID: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def status(self) -> str: ...


P = TypeVar("P", bound=_Paying)


def paying_payment(payments: Iterable[P]) -> P | None:
    """The payment that paid the order (not an edit's supplementary one), while it can still give
    money back."""
    return next((p for p in payments if p.pays_order and p.status in REFUNDS_FROM and p.edit_id is None), None)


def paying_payments(payments: Iterable[P]) -> list[P]:
    """Every payment that paid the order or one of its edits, while it can still give money back: the
    order's own first, then the edits' supplementary ones oldest first (the order a refund draws on them)."""
    paying = [p for p in payments if p.pays_order and p.status in REFUNDS_FROM]
    return sorted(paying, key=lambda p: (p.edit_id is not None, p.created_at))


def still_refundable(paid: _Paying, refunds: Iterable[_Refunding]) -> Decimal:
    """What may still be refunded of `paid`, given the order's refunds (the one rule staff's read
    and the refund itself apply)."""
    return refundable(paid.amount, sum((r.amount for r in refunds
                                        if r.payment_id == paid.id and r.status in RESERVED), Decimal("0")))


def refunded_total(refunds: Iterable[_Refunding]) -> Decimal:
    return sum((r.amount for r in refunds if r.status == RefundStatus.SUCCEEDED), Decimal("0"))


def refund_amount(requested: Decimal | None, remaining: Decimal) -> Decimal | None:
    """The amount of a new refund (omitted: the rest), or None when it would exceed what remains."""
    amount = remaining if requested is None else quantize(requested)
    if amount <= 0 or amount > remaining:
        return None
    return amount


def stripe_event(event: dict[str, Any]) -> ProviderEvent:
    """Translate a verified Stripe event (as a plain dict) into a ProviderEvent."""
    type_ = str(event.get("type", ""))
    obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") or {}
    base: dict[str, Any] = {"provider": STRIPE, "event_id": str(event.get("id", "")), "type": type_,
                            "payment_id": _uuid_or_none(metadata.get("payment_id")),
                            "order_id": _uuid_or_none(metadata.get("order_id")), "metadata": dict(metadata)}
    if type_.startswith("payment_intent."):
        action = {"payment_intent.succeeded": EventAction.SUCCEEDED,
                  "payment_intent.payment_failed": EventAction.FAILED,
                  "payment_intent.processing": EventAction.PROCESSING}.get(type_, EventAction.IGNORED)
        error = obj.get("last_payment_error") or {}
        return ProviderEvent(**base, action=action, intent_id=obj.get("id"), charge_id=_id_of(obj.get("latest_charge")),
                             amount_minor=obj.get("amount_received") or obj.get("amount"),
                             currency=(obj.get("currency") or "").upper() or None, reason=error.get("message"))
    if type_.startswith("checkout.session."):
        paid = obj.get("payment_status") in ("paid", "no_payment_required")
        action = {
            "checkout.session.completed": EventAction.SUCCEEDED if paid else EventAction.PROCESSING,
            "checkout.session.async_payment_succeeded": EventAction.SUCCEEDED,
            "checkout.session.async_payment_failed": EventAction.FAILED,
        }.get(type_, EventAction.IGNORED)
        return ProviderEvent(**base, action=action, session_id=obj.get("id"),
                             intent_id=_id_of(obj.get("payment_intent")), amount_minor=obj.get("amount_total"),
                             currency=(obj.get("currency") or "").upper() or None)
    if type_ in STRIPE_REFUND_EVENTS:
        refund_status = str(obj.get("status") or "")
        if type_ == "refund.failed" or refund_status in ("failed", "canceled"):
            action = EventAction.REFUND_FAILED
        elif refund_status == "succeeded":
            action = EventAction.REFUND_SUCCEEDED
        else:
            action = EventAction.IGNORED
        return ProviderEvent(**base, action=action, refund_id=obj.get("id"), charge_id=_id_of(obj.get("charge")),
                             intent_id=_id_of(obj.get("payment_intent")), amount_minor=obj.get("amount"),
                             currency=(obj.get("currency") or "").upper() or None,
                             reason=obj.get("failure_reason") or refund_status or None)
    if type_ == "charge.refunded":
        # Only a full refund refunds the payment; partial refunds are left to staff.
        action = EventAction.REFUNDED if obj.get("refunded") else EventAction.IGNORED
        return ProviderEvent(**base, action=action, charge_id=obj.get("id"),
                             intent_id=_id_of(obj.get("payment_intent")), amount_minor=obj.get("amount_refunded"),
                             currency=(obj.get("currency") or "").upper() or None)
    return ProviderEvent(**base, action=EventAction.IGNORED)


def simple_event(provider: str, event_id: str, order_id: uuid.UUID, status: str,
                 transaction_id: str | None, *, amount: Decimal | None = None, currency: str | None = None,
                 customer_id: uuid.UUID | None = None) -> ProviderEvent:
    action = {"paid": EventAction.SUCCEEDED, "failed": EventAction.FAILED}[status]
    amount_minor, paid_in = None, None
    if amount is not None and currency:  # an amount without its currency cannot be compared
        amount_minor, paid_in = to_minor_units(amount, currency), currency.upper()
    return ProviderEvent(provider=provider, event_id=event_id, type=f"payment.{status}", action=action,
                         order_id=order_id, charge_id=transaction_id, transaction_id=transaction_id,
                         amount_minor=amount_minor, currency=paid_in, customer_id=customer_id)


def intent_amount_matches(amount_minor: int | None, provider_currency: str | None, amount: Decimal,
                          currency: str) -> bool:
    """A provider's amount, when it names one, must be the payment's (the order's total)."""
    if amount_minor is None or not provider_currency:
        return True
    return amount_minor == to_minor_units(amount, currency) and provider_currency.upper() == currency.upper()


def amount_matches(event: ProviderEvent, amount: Decimal, currency: str) -> bool:
    return intent_amount_matches(event.amount_minor, event.currency, amount, currency)


# --- subscriptions (S4) -----------------------------------------------------------------------

@dataclass(frozen=True)
class CountedQuota:
    """What generation counts of a user's quota, in its copy of the plan (from `subscription.changed`)."""

    monthly: int
    used: int
    remaining: int
    # The end of the period generation counts in; None from a generation that does not say.
    period_end: datetime | None = None


def plan_quota(monthly_quota: int, period_end: datetime | None, counted: CountedQuota) -> dict[str, int]:
    """The quota of the plan the user holds now. Generation's count is of this plan and period
    once it has heard of them; until then (right after a checkout or a renewal) the period is
    new and nothing of it is used: the plan's quota shows whole, never the zeros of "no plan"."""
    heard = counted.monthly == monthly_quota and (
        counted.period_end is None or period_end is None or counted.period_end == period_end)
    used = counted.used if heard else 0
    return {"monthly": monthly_quota, "used": used, "remaining": max(monthly_quota - used, 0)}


NO_QUOTA = {"monthly": 0, "used": 0, "remaining": 0}


# --- Stripe subscriptions (S4) ---------------------------------------------------------------

# Stripe's subscription statuses in ours (incomplete, active, past_due, canceled). `unpaid` and
# `paused` give no access (Stripe stopped retrying, or the plan is paused): canceled here.
_STRIPE_SUBSCRIPTION_STATUS = {
    "active": "active", "trialing": "active", "past_due": "past_due", "incomplete": "incomplete",
    "unpaid": "canceled", "paused": "canceled", "canceled": "canceled", "incomplete_expired": "canceled",
}
# A subscription Stripe will never bill again.
STRIPE_ENDED_SUBSCRIPTION = frozenset({"canceled", "incomplete_expired"})
STRIPE_SUBSCRIPTION_EVENTS = frozenset({
    "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
    "invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed",
})
STRIPE_PAID_INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_succeeded"})


def _epoch(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value not in (None, "") else None


@dataclass(frozen=True)
class StripeSubscription:
    """A Stripe Subscription, reduced to what payments mirrors."""

    id: str
    customer_id: str | None
    stripe_status: str
    price_id: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return _STRIPE_SUBSCRIPTION_STATUS.get(self.stripe_status, "incomplete")

    @property
    def ended(self) -> bool:
        return self.stripe_status in STRIPE_ENDED_SUBSCRIPTION

    @property
    def user_id(self) -> uuid.UUID | None:
        return _uuid_or_none(self.metadata.get("user_id"))


def stripe_subscription(obj: dict[str, Any]) -> StripeSubscription:
    """A Subscription object (any API version: the period is on the subscription before
    2025-03-31 and on its items since)."""
    items = ((obj.get("items") or {}).get("data")) or [{}]
    item = items[0] or {}
    price = item.get("price") or item.get("plan") or {}
    start = obj.get("current_period_start") or item.get("current_period_start")
    end = obj.get("current_period_end") or item.get("current_period_end")
    cancelling = bool(obj.get("cancel_at_period_end")) or obj.get("cancel_at") is not None
    return StripeSubscription(id=str(obj["id"]), customer_id=_id_of(obj.get("customer")),
                              stripe_status=str(obj.get("status") or ""), price_id=_id_of(price),
                              current_period_start=_epoch(start), current_period_end=_epoch(end),
                              cancel_at_period_end=cancelling and obj.get("status") not in STRIPE_ENDED_SUBSCRIPTION,
                              metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()})


@dataclass(frozen=True)
class StripeInvoice:
    """An invoice of a subscription, paid or failed (GET /subscriptions/history)."""

    id: str
    paid: bool
    amount: Decimal
    currency: str
    period_start: datetime | None
    period_end: datetime | None
    created: datetime | None


@dataclass(frozen=True)
class StripeSubscriptionEvent:
    """What a subscription event names: the Stripe subscription, its customer, our user (when
    the payload says), and, for invoice events, the invoice."""

    type: str
    subscription_id: str | None
    customer_id: str | None
    user_id: uuid.UUID | None
    invoice: StripeInvoice | None = None
    # customer.subscription.*: the subscription as it was when the event was made.
    subscription: StripeSubscription | None = None


def is_stripe_subscription_event(event: dict[str, Any]) -> bool:
    type_ = str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    return type_ in STRIPE_SUBSCRIPTION_EVENTS or (type_.startswith("checkout.session.")
                                                   and obj.get("mode") == "subscription")


def _invoice_subscription(obj: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """An invoice's subscription id and its metadata (`subscription` and `subscription_details`
    before 2025-03-31, `parent.subscription_details` since)."""
    details = ((obj.get("parent") or {}).get("subscription_details")) or obj.get("subscription_details") or {}
    return _id_of(details.get("subscription") or obj.get("subscription")), details.get("metadata") or {}


def stripe_subscription_event(event: dict[str, Any]) -> StripeSubscriptionEvent:
    type_ = str(event.get("type", ""))
    obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
    metadata = obj.get("metadata") or {}
    if type_.startswith("customer.subscription."):
        subscription = stripe_subscription(obj)
        return StripeSubscriptionEvent(type=type_, subscription_id=subscription.id,
                                       customer_id=subscription.customer_id, user_id=subscription.user_id,
                                       subscription=subscription)
    if type_.startswith("invoice."):
        subscription_id, details = _invoice_subscription(obj)
        lines = ((obj.get("lines") or {}).get("data")) or [{}]
        period = (lines[0] or {}).get("period") or {}
        currency = str(obj.get("currency") or "usd").upper()
        paid = type_ in STRIPE_PAID_INVOICE_EVENTS
        minor = obj.get("amount_paid") if paid else obj.get("amount_due")
        invoice = StripeInvoice(id=str(obj["id"]), paid=paid, amount=from_minor_units(int(minor or 0), currency),
                                currency=currency, period_start=_epoch(period.get("start") or obj.get("period_start")),
                                period_end=_epoch(period.get("end") or obj.get("period_end")),
                                created=_epoch(obj.get("created")))
        return StripeSubscriptionEvent(type=type_, subscription_id=subscription_id,
                                       customer_id=_id_of(obj.get("customer")),
                                       user_id=_uuid_or_none(details.get("user_id") or metadata.get("user_id")),
                                       invoice=invoice)
    # checkout.session.* in subscription mode
    return StripeSubscriptionEvent(type=type_, subscription_id=_id_of(obj.get("subscription")),
                                   customer_id=_id_of(obj.get("customer")),
                                   user_id=_uuid_or_none(obj.get("client_reference_id") or metadata.get("user_id")))


def return_refund(asked: Decimal, remaining: Decimal) -> Decimal | None:
    """The refund of a received return: what orders asked for, at most what remains of the
    payment (a staff refund may have taken part of it meanwhile); None when nothing is to be paid."""
    amount = min(quantize(asked), remaining)
    return amount if amount > 0 else None


# Gift card codes: 16 characters of an alphabet without look-alikes (no 0/O, 1/I/L), about 80
# bits of chance, shown once in groups of four (ABCD-EFGH-JKMN-PQRS); typed with or without the
# dashes, in any case.
GIFT_CARD_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GIFT_CARD_CODE_LENGTH = 16


def new_gift_card_code() -> str:
    raw = "".join(secrets.choice(GIFT_CARD_ALPHABET) for _ in range(GIFT_CARD_CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, GIFT_CARD_CODE_LENGTH, 4))


def normalise_gift_card_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch not in " -")


def gift_card_digest(code: str) -> str:
    """What the table keeps of a code: its SHA-256. A code has ~80 random bits, so an unsalted hash
    cannot be reversed by trying codes; the unique index finds the card by it."""
    return hashlib.sha256(normalise_gift_card_code(code).encode()).hexdigest()


def gift_card_usable(is_active: bool, expires_at: datetime | None, now: datetime) -> bool:
    return is_active and (expires_at is None or expires_at > now)


@dataclass(frozen=True)
class RefundSplit:
    provider: Decimal
    gift_cards: Decimal


def split_refund(value: Decimal, *, provider_paid: Decimal, provider_refunded: Decimal) -> RefundSplit:
    """Where a refund of `value` goes: back through the provider first, up to what the provider
    took and has not given back yet; the rest to the gift cards that paid the payment."""
    provider = min(quantize(value), max(quantize(provider_paid) - quantize(provider_refunded), Decimal("0.00")))
    return RefundSplit(provider=provider, gift_cards=quantize(value) - provider)
