"""Payments' use cases, one module each; every method may flush but never commits."""

from atelier_payments.service.ledger import LedgerService
from atelier_payments.service.local_checkout import LocalCheckoutService
from atelier_payments.service.orders_events import CancellationService
from atelier_payments.service.payments import PaymentService
from atelier_payments.service.refunds import RefundService
from atelier_payments.service.settlement import Settlement
from atelier_payments.service.webhooks import WebhookService

__all__ = ["CancellationService", "LedgerService", "LocalCheckoutService", "PaymentService", "RefundService",
           "Settlement", "WebhookService"]
