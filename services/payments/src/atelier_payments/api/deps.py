"""The dependencies routes list, named once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from atelier_common.db import SessionDep
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.errors import DevEndpointsDisabled
from atelier_payments.service import LedgerService, LocalCheckoutService, PaymentService, WebhookService


async def _context(request: Request) -> PaymentsContext:
    return request.app.state.runtime.payments


ContextDep = Annotated[PaymentsContext, Depends(_context)]


def _service(cls: type[Any]) -> Any:
    async def build(session: SessionDep, context: ContextDep) -> Any:
        return cls(session, context)

    build.__name__ = f"get_{cls.__name__}"
    return Depends(build)


async def _ledger(session: SessionDep) -> LedgerService:
    return LedgerService(session)


async def _raw_body(request: Request) -> bytes:
    """Webhooks are verified on the exact bytes the provider signed."""
    return await request.body()


async def _require_dev_endpoints(request: Request) -> None:
    if not request.app.state.settings.dev_endpoints:
        raise DevEndpointsDisabled()


PaymentServiceDep = Annotated[PaymentService, _service(PaymentService)]
WebhookServiceDep = Annotated[WebhookService, _service(WebhookService)]
LocalCheckoutServiceDep = Annotated[LocalCheckoutService, _service(LocalCheckoutService)]
LedgerServiceDep = Annotated[LedgerService, Depends(_ledger)]
RawBody = Annotated[bytes, Depends(_raw_body)]
require_dev_endpoints = Depends(_require_dev_endpoints)

# Declared on routes so the merged OpenAPI lists the error answers too.
NOT_FOUND = {404: {"description": "Not found (unknown order or payment, or another customer's)"}}
AUTH = {401: {"description": "Authentication required"}, 400: {"description": "Validation error"}}
NOT_PAYABLE = {409: {"description": "ORDER_NOT_PAYABLE: the order's status does not allow paying it"}}
PROVIDER = {502: {"description": "PAYMENT_PROVIDER_ERROR"}, 503: {"description": "Orders unavailable"}}
SIGNED = {400: {"description": "INVALID_SIGNATURE (bad signature or stale timestamp) or VALIDATION_ERROR"}}
