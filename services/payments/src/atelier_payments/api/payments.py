"""/api/v1/payments: intents (S3), client confirmation, checkout sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from atelier_common.auth import AnonPrincipal
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


@router.post("/intents", response_model=IntentRead,
             responses={**AUTH, **NOT_FOUND, **NOT_PAYABLE, **PROVIDER, **IDEMPOTENT})
async def create_intent(data: IntentCreate, principal: AnonPrincipal, payments: PaymentServiceDep,
                        idempotency: IdempotencyDep) -> Any:
    return await idempotency.run(lambda: _intent(payments, principal, data))


async def _intent(payments: PaymentServiceDep, principal: AnonPrincipal, data: IntentCreate) -> dict[str, Any]:
    started = await payments.start_intent(principal, data.order_id)
    return {"client_secret": started.client_secret, "payment_intent_id": started.intent_id,
            "payment_id": started.payment.id, "status": started.status, "amount": started.payment.amount,
            "currency": started.payment.currency}


@router.post("/confirm", response_model=ConfirmRead,
             responses={**AUTH, **NOT_FOUND, **PROVIDER, 400: {"description": "PAYMENT_NOT_COMPLETED with its status"}})
async def confirm_payment(data: PaymentConfirm, principal: AnonPrincipal,
                          payments: PaymentServiceDep) -> dict[str, Any]:
    confirmed = await payments.confirm(principal, data.order_id, data.payment_intent_id)
    return {"status": confirmed.payment.status, "order_id": confirmed.payment.order_id,
            "payment_id": confirmed.payment.id, "payment_intent_id": confirmed.intent_id}


@router.post("/checkout", response_model=CheckoutRead,
             responses={**AUTH, **NOT_FOUND, **NOT_PAYABLE, **PROVIDER, **IDEMPOTENT})
async def create_checkout(data: CheckoutCreate, principal: AnonPrincipal, payments: PaymentServiceDep,
                          idempotency: IdempotencyDep) -> Any:
    return await idempotency.run(lambda: _checkout(payments, principal, data))


async def _checkout(payments: PaymentServiceDep, principal: AnonPrincipal, data: CheckoutCreate) -> dict[str, Any]:
    started = await payments.start_checkout(principal, data.order_id, success_url=str(data.success_url),
                                            cancel_url=str(data.cancel_url))
    return {"checkout_url": started.url, "session_id": started.session_id, "payment_id": started.payment.id}


@router.post("/refunds", response_model=RefundRead, status_code=status.HTTP_201_CREATED,
             responses={**STAFF, **REFUND_ERRORS, **CONFIRMED_RESPONSES})
async def create_refund(data: RefundCreate, staff: CurrentFinancePrincipal, refunds: RefundServiceDep) -> dict[str, Any]:
    """Refund part or all of an order's payment. Money moves: the caller's roles are identity's
    answer now, not only the token's (`atelier_common.staff_access`)."""
    made = await refunds.refund(data.order_id, data.amount, data.reason, staff_id=staff.user_id, staff=staff,
                                expected_refundable=data.expected_refundable)
    return {**made.refund.model_dump(), "total_refunded": made.total_refunded, "refundable": made.refundable}
