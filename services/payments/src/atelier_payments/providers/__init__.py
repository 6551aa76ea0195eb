"""Who takes the money: a small interface with two implementations, `stripe` and `local`.

Providers only talk to the outside world and translate its objects; the rules (which payment,
which status, which events) stay in the service layer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_payments.domain import PaymentStatus
from atelier_payments.models import Refund
from atelier_payments.rows import PaymentRow


@dataclass(frozen=True)
class ChargeRequest:
    """What to charge: always the order's total, never an amount from the client."""

    payment_id: uuid.UUID
    order_id: uuid.UUID
    order_number: str | None
    amount: Decimal
    currency: str
    email: str | None = None
    # The order's storefront; its statement descriptor suffix (`domain.statement_descriptor_suffix`).
    storefront: str = DEFAULT_STOREFRONT
    statement_descriptor: str | None = None

    @property
    def metadata(self) -> dict[str, str]:
        # `storefront`: a provider event is attributed to its storefront even before it is matched.
        return {"order_id": str(self.order_id), "payment_id": str(self.payment_id), "storefront": self.storefront}


@dataclass(frozen=True)
class ProviderIntent:
    id: str
    client_secret: str
    status: PaymentStatus
    provider_status: str
    charge_id: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderCheckout:
    id: str
    url: str
    intent_id: str | None = None
    # The local provider serves the page itself: payments keeps the session (checkout_session).
    expires_at: datetime | None = None
    hosted_here: bool = False


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    # A pending refund is finished by the provider's webhook (`charge.refund.updated`, `refund.*`).
    succeeded: bool


class PaymentProvider(Protocol):
    name: str

    async def create_intent(self, charge: ChargeRequest) -> ProviderIntent: ...

    async def retrieve_intent(self, payment: PaymentRow) -> ProviderIntent: ...

    async def create_checkout(self, charge: ChargeRequest, *, success_url: str,
                              cancel_url: str) -> ProviderCheckout: ...

    async def refund(self, payment: PaymentRow, refund: Refund) -> ProviderRefund:
        """Give `refund.amount` of `payment` back (one provider call per refund, idempotent by its id)."""
        ...

    async def cancel(self, payment: PaymentRow) -> None: ...

    async def close(self) -> None: ...


class Providers:
    """The providers this process can talk to; `default` starts new payments."""

    def __init__(self, default: str, providers: dict[str, PaymentProvider]) -> None:
        self.default_name = default
        self._providers = providers

    @property
    def default(self) -> PaymentProvider:
        return self._providers[self.default_name]

    def get(self, name: str) -> PaymentProvider | None:
        return self._providers.get(name)

    async def close(self) -> None:
        for provider in self._providers.values():
            await provider.close()
