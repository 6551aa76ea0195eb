"""/api/v1/payments: intents (S3), client confirmation, checkout sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from atelier_common.auth import AnonPrincipal, ClientAddress, key_access
from atelier_common.idempotency import IdempotencyDep
from atelier_common.staff_access import CONFIRMED_RESPONSES, CurrentFinancePrincipal
from atelier_payments.api.deps import (
    AUTH,
    IDEMPOTENT,
    NOT_FOUND,
    NOT_PAYABLE,
    PROVIDER,
    REFUND_ERRORS,
    STAFF,
    PaymentServiceDep,
    RefundServiceDep,
)
from atelier_payments.schemas import (
    CheckoutCreate,
    CheckoutRead,
    ConfirmRead,
    IntentCreate,
    IntentRead,
    PaymentConfirm,
    RefundCreate,
    RefundRead,
)

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])


@router.post("/intents", summary="Create a payment intent", response_model=IntentRead,
             responses={**AUTH, **NOT_FOUND, **NOT_PAYABLE, **PROVIDER, **IDEMPOTENT})
async def create_intent(data: IntentCreate, principal: AnonPrincipal, payments: PaymentServiceDep,
                        idempotency: IdempotencyDep) -> Any:
    """Start paying an order with the provider's embedded form (Stripe Elements): answers the `client_secret`;
    confirm with `POST /api/v1/payments/confirm`."""
    return await idempotency.run(lambda: _intent(payments, principal, data))


async def _intent(payments: PaymentServiceDep, principal: AnonPrincipal, data: IntentCreate) -> dict[str, Any]:
    started = await payments.start_intent(principal, data.order_id)
    return {"client_secret": started.client_secret, "payment_intent_id": started.intent_id,
            "payment_id": started.payment.id, "status": started.status, "amount": started.payment.amount,
            "currency": started.payment.currency}


@router.post("/confirm", summary="Confirm a payment", response_model=ConfirmRead,
             responses={**AUTH, **NOT_FOUND, **PROVIDER, 400: {"description": "PAYMENT_NOT_COMPLETED with its status"}})
async def confirm_payment(data: PaymentConfirm, principal: AnonPrincipal,
                          payments: PaymentServiceDep) -> dict[str, Any]:
    """Tell the platform the intent's payment went through; it checks with the provider and marks the order paid."""
    confirmed = await payments.confirm(principal, data.order_id, data.payment_intent_id)
    return {"status": confirmed.payment.status, "order_id": confirmed.payment.order_id,
            "payment_id": confirmed.payment.id, "payment_intent_id": confirmed.intent_id}


@router.post("/checkout", summary="Start a hosted checkout", response_model=CheckoutRead,
             responses={**AUTH, **NOT_FOUND, **PROVIDER, **IDEMPOTENT,
                        400: {"description": "GIFT_CARD_INVALID (a code of no usable card of the order's storefront) "
                                             "or VALIDATION_ERROR"},
                        409: {"description": "ORDER_NOT_PAYABLE (an edit: already paid, no longer waiting, or with "
                                             "gift cards), GIFT_CARD_EMPTY (a card has nothing left while some "
                                             "of the order is due), GIFT_CARD_CURRENCY_MISMATCH or "
                                             "IDEMPOTENCY_KEY_REUSED"},
                        429: {"description": "RATE_LIMITED: too many wrong gift card codes; Retry-After"}})
async def create_checkout(data: CheckoutCreate, principal: AnonPrincipal, payments: PaymentServiceDep,
                          idempotency: IdempotencyDep, address: ClientAddress) -> Any:
    """A checkout page for an order awaiting payment: send the customer to `checkout_url`; the provider comes back
    to `success_url` or `cancel_url`. The order is paid when the provider's webhook arrives. Send an
    `Idempotency-Key` to retry safely. `gift_cards` pay first, in their order, each up to its balance (held from
    now; given back if the payment is cancelled); the provider's page takes the rest, `amount_due`. When the cards
    cover the whole total the order is paid at once: `status` `succeeded`, `checkout_url` is `success_url`. With
    `edit_id` (an edit of a paid order that left an amount due, its link's `payment_token`), the page charges that
    difference as a supplementary payment of the order, once per edit."""
    return await idempotency.run(lambda: _checkout(payments, principal, data, address))


async def _checkout(payments: PaymentServiceDep, principal: AnonPrincipal, data: CheckoutCreate,
                    address: str) -> dict[str, Any]:
    started = await payments.start_checkout(principal, data.order_id, success_url=str(data.success_url),
                                            cancel_url=str(data.cancel_url), gift_cards=data.gift_cards,
                                            address=address, payment_token=data.payment_token,
                                            edit_id=data.edit_id)
    payment = started.payment
    return {"checkout_url": started.url, "session_id": started.session_id, "payment_id": payment.id,
            "status": "succeeded" if started.session_id is None else "requires_payment",
            "gift_card_amount": payment.gift_card_amount, "amount_due": payment.amount - payment.gift_card_amount}


@router.post("/refunds", summary="Refund an order", response_model=RefundRead, status_code=status.HTTP_201_CREATED,
             responses={**STAFF, **REFUND_ERRORS, **CONFIRMED_RESPONSES})
@key_access()
async def create_refund(data: RefundCreate, staff: CurrentFinancePrincipal, refunds: RefundServiceDep) -> dict[str, Any]:
    """Refund some (`amount`) or all of an order's payment through the provider; `expected_refundable` refuses a
    stale form. Money moves, so the caller's roles are identity's answer now, not only the token's."""
    made = await refunds.refund(data.order_id, data.amount, data.reason, staff=staff,
                                expected_refundable=data.expected_refundable)
    return {**made.refund.model_dump(), "total_refunded": made.total_refunded, "refundable": made.refundable}
