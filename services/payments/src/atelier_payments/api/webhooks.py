"""/api/v1/payments/webhooks: signed provider callbacks (Stripe, and S0's simple providers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path

from atelier_payments.api.deps import NOT_FOUND, SIGNED, RawBody, WebhookServiceDep
from atelier_payments.schemas import HealthRead, WebhookAck

router = APIRouter(prefix="/api/v1/payments/webhooks", tags=["webhooks"])


@router.get("/health", response_model=HealthRead)
async def webhooks_health() -> HealthRead:
    return HealthRead()


@router.post("/stripe", response_model=WebhookAck, responses=SIGNED)
async def receive_stripe_webhook(body: RawBody, webhooks: WebhookServiceDep,
                                 stripe_signature: Annotated[str | None, Header()] = None) -> WebhookAck:
    return WebhookAck(status=await webhooks.receive_stripe(body, stripe_signature))


@router.post("/{provider}", response_model=WebhookAck, responses={**SIGNED, **NOT_FOUND})
async def receive_provider_webhook(provider: Annotated[str, Path(max_length=20)], body: RawBody,
                                   webhooks: WebhookServiceDep,
                                   x_signature: Annotated[str | None, Header()] = None,
                                   x_webhook_secret: Annotated[str | None, Header()] = None) -> WebhookAck:
    return WebhookAck(status=await webhooks.receive_simple(provider, body, x_signature, x_webhook_secret))
