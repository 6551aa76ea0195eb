"""The dependencies routes list, named once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from atelier_common.responses import ErrorResponses
from atelier_common.service import context_of, use_case
from atelier_common.state import app_state
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.errors import DevEndpointsDisabled
from atelier_payments.service import (
    LedgerService,
    LocalCheckoutService,
    PaymentService,
    RefundService,
    WebhookService,
)
from atelier_payments.settings import PaymentsSettings


async def _context(request: Request) -> PaymentsContext:
    return context_of(request)


ContextDep = Annotated[PaymentsContext, Depends(_context)]


async def _raw_body(request: Request) -> bytes:
    """Webhooks are verified on the exact bytes the provider signed."""
    return await request.body()


async def _require_dev_endpoints(request: Request) -> None:
    if not app_state(request.app, "settings", PaymentsSettings).dev_endpoints:
        raise DevEndpointsDisabled()


PaymentServiceDep = Annotated[PaymentService, use_case(PaymentService)]
WebhookServiceDep = Annotated[WebhookService, use_case(WebhookService)]
LocalCheckoutServiceDep = Annotated[LocalCheckoutService, use_case(LocalCheckoutService)]
LedgerServiceDep = Annotated[LedgerService, use_case(LedgerService)]
RefundServiceDep = Annotated[RefundService, use_case(RefundService)]
RawBody = Annotated[bytes, Depends(_raw_body)]
require_dev_endpoints = Depends(_require_dev_endpoints)

# Declared on routes so the merged OpenAPI lists the error answers too.
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: ErrorResponses = {404: {"description": "Not found (unknown order or payment, or another customer's)"}}
AUTH: ErrorResponses = {401: {"description": "Authentication required"}, 400: {"description": "Validation error"}}
NOT_PAYABLE: ErrorResponses = {409: {"description": "ORDER_NOT_PAYABLE: the order's status does not allow paying it"}}
PROVIDER: ErrorResponses = {502: {"description": "PAYMENT_PROVIDER_ERROR"}, 503: {"description": "Orders unavailable"}}
STAFF: Responses = {401: {"description": "Authentication required"}, 403: {"description": "Staff only"}}
REFUND_ERRORS: Responses = {400: {"description": "REFUND_EXCEEDS_PAYMENT (with what is refundable) or VALIDATION_ERROR"},
                 404: {"description": "No payment of this order"},
                 409: {"description": "STALE_VERSION: `expected_refundable` is no longer what is refundable "
                                      "(`details.current`); nothing refunded"},
                 502: {"description": "PAYMENT_PROVIDER_ERROR"}}
IDEMPOTENT: Responses = {409: {"description": "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key with another body"}}
SIGNED: ErrorResponses = {400: {"description": "INVALID_SIGNATURE (bad signature or stale timestamp) or VALIDATION_ERROR"}}
