"""The `local` provider's checkout page (embedded mode): show the order, and Pay.

Pay does what an external provider does: it sends the signed simple-provider webhook over HTTP
to this service's own webhook route, so the embedded mode settles payments through exactly the
path real providers use. It writes nothing itself; the webhook's transaction does.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.service import UseCase
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.errors import CheckoutSessionClosed, CheckoutSessionNotFound, PaymentProviderError
from atelier_payments.repository import CheckoutSessionRepository, PaymentRepository
from atelier_payments.rows import CheckoutRow, PaymentRow

log = logging.getLogger("atelier.payments.local")
CHECKOUT_SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


@dataclass(frozen=True)
class CheckoutPage:
    checkout: CheckoutRow
    payment: PaymentRow
    is_payable: bool
    # The name of the payment's storefront (the brand the buyer is paying).
    storefront_name: str


@dataclass(frozen=True)
class PaidCheckout:
    checkout: CheckoutRow
    redirect_url: str


def _redirect(url: str, session_id: str) -> str:
    return url.replace(CHECKOUT_SESSION_PLACEHOLDER, session_id)


class LocalCheckoutService(UseCase[PaymentsContext]):
    def __init__(self, session: AsyncSession, context: PaymentsContext) -> None:
        super().__init__(session, context)
        self.checkouts = CheckoutSessionRepository(session)
        self.payments = PaymentRepository(session)

    async def page(self, session_id: str) -> CheckoutPage:
        checkout = await self._load(session_id)
        payment = await self.payments.get(checkout.payment_id)
        if payment is None:
            raise CheckoutSessionNotFound()
        storefront = await self.context.storefront(checkout.storefront)
        name = storefront.name if storefront is not None else checkout.storefront
        return CheckoutPage(checkout=checkout, payment=payment, is_payable=self._is_open(checkout),
                            storefront_name=name)

    def cancel_url(self, page: CheckoutPage) -> str:
        return _redirect(page.checkout.cancel_url, page.checkout.id)

    async def pay(self, session_id: str) -> PaidCheckout:
        """Report the payment like a provider would. The session is read on a short connection of
        its own: the webhook this sends is handled by this same process, which needs a connection
        too, and 48 Pays at once must not hold 48 while waiting for 48 more."""
        checkout = await self._load_briefly(session_id)
        if checkout.status != "complete":
            if not self._is_open(checkout):
                raise CheckoutSessionClosed(details={"status": self._status(checkout)})
            await self._send_webhook(checkout)
        return PaidCheckout(checkout=checkout, redirect_url=_redirect(checkout.success_url, checkout.id))

    async def _send_webhook(self, checkout: CheckoutRow) -> None:
        # The session id is the event id: paying twice (a double click) is one event.
        body = json.dumps({"order_id": str(checkout.order_id), "status": "paid", "transaction_id": checkout.id,
                           "event_id": f"local_{checkout.id}"}).encode()
        secret = self.context.settings.local_webhook_secret or ""
        headers = {"Content-Type": "application/json", "X-Signature": domain.sign_simple_webhook(body, secret)}
        try:
            response = await self.context.http.post(self.context.local_webhook_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PaymentProviderError("The payment could not be reported") from exc
        if response.status_code != 200:
            log.warning("local webhook answered %s: %s", response.status_code, response.text[:300])
            raise PaymentProviderError("The payment could not be reported")

    async def _load_briefly(self, session_id: str) -> CheckoutRow:
        async with self.context.db.read_only() as session:
            checkout = await CheckoutSessionRepository(session).get_row(session_id)
        if checkout is None:
            raise CheckoutSessionNotFound()
        return checkout

    async def _load(self, session_id: str) -> CheckoutRow:
        checkout = await self.checkouts.get_row(session_id)
        if checkout is None:
            raise CheckoutSessionNotFound()
        return checkout

    @staticmethod
    def _is_open(checkout: CheckoutRow) -> bool:
        return checkout.status == "open" and checkout.expires_at > datetime.now(UTC)

    @staticmethod
    def _status(checkout: CheckoutRow) -> str:
        return "expired" if checkout.status == "open" else checkout.status
