"""The `local` provider of the embedded mode, and the other simple providers (S0).

`local` takes no real money: its checkout page (`/api/dev/checkout/{id}`) has a Pay button that
sends the same signed webhook an external simple provider would. Payments' own tables are its
state, so "retrieving" an intent reads the payment row.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta

from atelier_payments.domain import PaymentStatus
from atelier_payments.models import Refund
from atelier_payments.providers import ChargeRequest, ProviderCheckout, ProviderIntent, ProviderRefund
from atelier_payments.rows import PaymentRow

log = logging.getLogger("atelier.payments.local")

# What a local intent looks like to a client, in Stripe's vocabulary.
_CLIENT_STATUS = {
    PaymentStatus.CREATED: "requires_payment_method", PaymentStatus.REQUIRES_PAYMENT: "requires_payment_method",
    PaymentStatus.FAILED: "requires_payment_method", PaymentStatus.PROCESSING: "processing",
    PaymentStatus.SUCCEEDED: "succeeded", PaymentStatus.REFUNDED: "succeeded", PaymentStatus.CANCELED: "canceled",
}


class SimpleProvider:
    """An external provider that only tells us, by signed webhook, that an order was paid.

    Payments cannot start or refund anything there: a refund is recorded and logged for staff.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    async def create_intent(self, charge: ChargeRequest) -> ProviderIntent:
        raise NotImplementedError(f"{self.name} cannot start payments")

    async def retrieve_intent(self, payment: PaymentRow) -> ProviderIntent:
        status = PaymentStatus(payment.status)
        return ProviderIntent(id=payment.provider_intent_id or str(payment.id), client_secret="", status=status,
                              provider_status=_CLIENT_STATUS[status], charge_id=payment.provider_charge_id)

    async def create_checkout(self, charge: ChargeRequest, *, success_url: str, cancel_url: str) -> ProviderCheckout:
        raise NotImplementedError(f"{self.name} cannot start payments")

    async def refund(self, payment: PaymentRow, refund: Refund) -> ProviderRefund:
        log.warning("%s %s of payment %s of order %s must be refunded at %s by staff", refund.amount,
                    refund.currency, payment.id, payment.order_id, self.name)
        return ProviderRefund(id=f"manual_{secrets.token_hex(8)}", succeeded=True)

    async def cancel(self, payment: PaymentRow) -> None:
        return None

    async def close(self) -> None:
        return None


class LocalProvider(SimpleProvider):
    def __init__(self, *, public_url: str, secret: str, checkout_ttl: timedelta) -> None:
        super().__init__("local")
        self.public_url = public_url.rstrip("/")
        self.secret = secret
        self.checkout_ttl = checkout_ttl

    def _client_secret(self, intent_id: str) -> str:
        # Derived, not stored: the same intent always shows the same secret.
        digest = hmac.new(self.secret.encode(), intent_id.encode(), hashlib.sha256).hexdigest()[:24]
        return f"{intent_id}_secret_{digest}"

    async def create_intent(self, charge: ChargeRequest) -> ProviderIntent:
        intent_id = f"lpi_{secrets.token_hex(12)}"
        return ProviderIntent(id=intent_id, client_secret=self._client_secret(intent_id),
                              status=PaymentStatus.REQUIRES_PAYMENT, provider_status="requires_payment_method",
                              metadata=charge.metadata)

    async def retrieve_intent(self, payment: PaymentRow) -> ProviderIntent:
        intent = await super().retrieve_intent(payment)
        return ProviderIntent(id=intent.id, client_secret=self._client_secret(intent.id), status=intent.status,
                              provider_status=intent.provider_status, charge_id=intent.charge_id)

    async def create_checkout(self, charge: ChargeRequest, *, success_url: str, cancel_url: str) -> ProviderCheckout:
        session_id = f"lcs_{secrets.token_hex(16)}"
        return ProviderCheckout(id=session_id, url=f"{self.public_url}/api/dev/checkout/{session_id}",
                                expires_at=datetime.now(UTC) + self.checkout_ttl, hosted_here=True)

    async def refund(self, payment: PaymentRow, refund: Refund) -> ProviderRefund:
        return ProviderRefund(id=f"lre_{secrets.token_hex(12)}", succeeded=True)
