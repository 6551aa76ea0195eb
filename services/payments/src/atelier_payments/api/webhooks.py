"""/api/v1/payments/webhooks: signed provider callbacks (Stripe, and S0's simple providers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path

from atelier_payments.api.deps import NOT_FOUND, SIGNED, RawBody, WebhookServiceDep
from atelier_payments.schemas import HealthRead, WebhookAck

router = APIRouter(prefix="/api/v1/payments/webhooks", tags=["webhooks"])


@router.get("/health", summary="Check the provider webhooks", response_model=HealthRead)
async def webhooks_health() -> HealthRead:
    """Whether the payment provider's webhooks can be received (a probe for monitoring)."""
    return HealthRead()


@router.post("/stripe", summary="Receive a Stripe webhook", response_model=WebhookAck, responses=SIGNED)
async def receive_stripe_webhook(body: RawBody, webhooks: WebhookServiceDep,
                                 stripe_signature: Annotated[str | None, Header()] = None) -> WebhookAck:
    """Stripe's signed events (`Stripe-Signature`), verified on the exact bytes; for Stripe only, not for clients."""
    return WebhookAck(status=await webhooks.receive_stripe(body, stripe_signature))


@router.post("/{provider}", summary="Receive a payment provider's webhook",
             response_model=WebhookAck, responses={**SIGNED, **NOT_FOUND})
async def receive_provider_webhook(provider: Annotated[str, Path(max_length=20)], body: RawBody,
                                   webhooks: WebhookServiceDep,
                                   x_signature: Annotated[str | None, Header()] = None,
                                   x_webhook_secret: Annotated[str | None, Header()] = None) -> WebhookAck:
    """A provider's signed events, verified on the exact bytes; an event seen before answers `duplicate`. For the
    providers only, not for clients."""
    return WebhookAck(status=await webhooks.receive_simple(provider, body, x_signature, x_webhook_secret))
