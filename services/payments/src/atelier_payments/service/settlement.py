"""What happens when money moves: a payment succeeds, fails, or is refunded.

Every route, webhook and event that learns such a fact ends here, so the effects (status,
ledger, outbox event) are written once, in the caller's transaction. Exactly once holds because
each status change is a guarded UPDATE (`PaymentRepository.transition`) and an order's payments
are settled one at a time (`lock_for_order`).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.contracts.payments import OrderPaid, PaymentFailed, PaymentRefunded
from atelier_payments import domain
from atelier_payments.domain import REACHABLE_FROM, LedgerKind, PaymentStatus
from atelier_payments.errors import PaymentProviderError
from atelier_payments.models import LedgerEntry, Payment
from atelier_payments.providers import PaymentProvider, Providers
from atelier_payments.repository import CheckoutSessionRepository, LedgerRepository, PaymentRepository

log = logging.getLogger("atelier.payments.settlement")
S = PaymentStatus


class Settlement:
    def __init__(self, session: AsyncSession, providers: Providers) -> None:
        self.session = session
        self.providers = providers
        self.payments = PaymentRepository(session)
        self.ledger = LedgerRepository(session)
        self.checkouts = CheckoutSessionRepository(session)

    def provider_of(self, payment: Payment) -> PaymentProvider:
        provider = self.providers.get(payment.provider)
        if provider is None:
            raise PaymentProviderError(f"The {payment.provider} provider is not configured")
        return provider

    async def succeed(self, payment: Payment, *, charge_id: str | None = None, intent_id: str | None = None) -> bool:
        """The provider confirmed the money. Return whether this call changed anything."""
        order_payments = await self.payments.lock_for_order(payment.order_id)
        was_canceled = payment.status == S.CANCELED
        values: dict[str, str] = {}
        if charge_id and not payment.provider_charge_id:
            values["provider_charge_id"] = charge_id
        if intent_id and not payment.provider_intent_id:
            values["provider_intent_id"] = intent_id
        if not await self.payments.transition(payment, S.SUCCEEDED, REACHABLE_FROM[S.SUCCEEDED], **values):
            return False
        if payment.provider_session_id:
            await self.checkouts.close(payment.provider_session_id, "complete")
        self._record(payment, LedgerKind.PAYMENT, payment.amount,
                     f"Payment for order {payment.order_snapshot.get('order_number') or payment.order_id}")
        settled_by_other = any(p.id != payment.id and (p.pays_order or p.status in (S.SUCCEEDED, S.REFUNDED))
                               for p in order_payments)
        if was_canceled or settled_by_other:
            # The order was cancelled, or another payment paid it: this money is not wanted.
            log.warning("payment %s of order %s is not needed; refunding it", payment.id, payment.order_id)
            await self.refund(payment)
            return True
        await self.payments.update_ids(payment, pays_order=True)
        for grant in domain.credit_grants(domain.snapshot_lines(payment.order_snapshot)):
            self.ledger.add(LedgerEntry(owner_id=payment.owner_id, user_id=payment.user_id,
                                        kind=LedgerKind.CREDIT_PURCHASE, credits=grant.credits,
                                        payment_id=payment.id, order_id=payment.order_id, reference_id=grant.sku,
                                        description=f"Purchased {grant.credits} credits ({grant.sku})"))
        await outbox.add(self.session, OrderPaid(
            order_id=payment.order_id, order_number=payment.order_snapshot.get("order_number"),
            owner_id=payment.owner_id, user_id=payment.user_id,
            anon_id=payment.anon_id if payment.user_id is None else None,
            amount=payment.amount, currency=payment.currency, payment_id=payment.id, provider=payment.provider,
            lines=domain.snapshot_lines(payment.order_snapshot), buyer=domain.snapshot_buyer(payment.order_snapshot)))
        await self.session.flush()
        return True

    async def fail(self, payment: Payment, reason: str | None) -> bool:
        if not await self.payments.transition(payment, S.FAILED, REACHABLE_FROM[S.FAILED],
                                              failure_reason=(reason or "")[:500] or None):
            return False
        await outbox.add(self.session, PaymentFailed(order_id=payment.order_id, payment_id=payment.id, reason=reason))
        return True

    async def processing(self, payment: Payment) -> bool:
        return await self.payments.transition(payment, S.PROCESSING, REACHABLE_FROM[S.PROCESSING])

    async def cancel(self, payment: Payment) -> bool:
        if not await self.payments.transition(payment, S.CANCELED, REACHABLE_FROM[S.CANCELED]):
            return False
        if payment.provider_session_id:
            await self.checkouts.close(payment.provider_session_id, "expired")
        await self.provider_of(payment).cancel(payment)
        return True

    async def refund(self, payment: Payment) -> None:
        """Give a succeeded payment's money back through its provider."""
        if payment.status != S.SUCCEEDED or payment.provider_refund_id:
            return  # nothing to refund, or a pending refund awaits its webhook
        refund = await self.provider_of(payment).refund(payment)
        if refund.succeeded:
            await self.refunded(payment, refund_id=refund.id)
        else:
            await self.payments.update_ids(payment, provider_refund_id=refund.id)

    async def refunded(self, payment: Payment, *, refund_id: str | None = None) -> bool:
        """The provider gave the money back (now, or later by `charge.refunded`)."""
        values = {"provider_refund_id": refund_id} if refund_id and not payment.provider_refund_id else {}
        if not await self.payments.transition(payment, S.REFUNDED, REACHABLE_FROM[S.REFUNDED], **values):
            return False
        self._record(payment, LedgerKind.REFUND, -payment.amount,
                     f"Refund for order {payment.order_snapshot.get('order_number') or payment.order_id}")
        if payment.pays_order:
            # Only the payment that paid the order refunds it; a duplicate's refund is ours alone.
            await outbox.add(self.session, PaymentRefunded(order_id=payment.order_id, payment_id=payment.id,
                                                           amount=payment.amount, currency=payment.currency))
        return True

    def _record(self, payment: Payment, kind: LedgerKind, amount: Decimal, description: str) -> None:
        reference = payment.provider_intent_id or payment.provider_session_id or payment.provider_charge_id
        self.ledger.add(LedgerEntry(owner_id=payment.owner_id, user_id=payment.user_id, kind=kind, amount=amount,
                                    currency=payment.currency, payment_id=payment.id, order_id=payment.order_id,
                                    reference_id=reference, description=description))
