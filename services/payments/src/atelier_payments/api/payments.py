"""/api/v1/payments: intents (S3), client confirmation, checkout sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from atelier_common.auth import AnonPrincipal
from atelier_payments.api.deps import AUTH, NOT_FOUND, NOT_PAYABLE, PROVIDER, PaymentServiceDep
from atelier_payments.schemas import CheckoutCreate, CheckoutRead, ConfirmRead, IntentCreate, IntentRead, PaymentConfirm

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])


@router.post("/intents", response_model=IntentRead, responses={**AUTH, **NOT_FOUND, **NOT_PAYABLE, **PROVIDER})
async def create_intent(data: IntentCreate, principal: AnonPrincipal,
                        payments: PaymentServiceDep) -> dict[str, Any]:
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


@router.post("/checkout", response_model=CheckoutRead, responses={**AUTH, **NOT_FOUND, **NOT_PAYABLE, **PROVIDER})
async def create_checkout(data: CheckoutCreate, principal: AnonPrincipal,
                          payments: PaymentServiceDep) -> dict[str, Any]:
    started = await payments.start_checkout(principal, data.order_id, success_url=str(data.success_url),
                                            cancel_url=str(data.cancel_url))
    return {"checkout_url": started.url, "session_id": started.session_id, "payment_id": started.payment.id}
