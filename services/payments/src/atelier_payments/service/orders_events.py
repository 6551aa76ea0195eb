"""What payments does when orders cancels an order: refund it if paid, close what is open."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.service import UseCase
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.domain import OPEN_STATUSES, PaymentStatus
from atelier_payments.repository import PaymentRepository
from atelier_payments.service.settlement import Settlement


class CancellationService(UseCase[PaymentsContext]):
    def __init__(self, session: AsyncSession, context: PaymentsContext) -> None:
        super().__init__(session, context)
        self.payments = PaymentRepository(session)
        self.settlement = Settlement(session, context.providers)

    async def order_cancelled(self, order_id: uuid.UUID, *, was_paid: bool) -> None:
        """Refund the payment that paid the order (Stripe: an idempotent Refund; local: at once)
        and cancel any payment still open, so it cannot be paid for a cancelled order."""
        for payment in await self.payments.lock_for_order(order_id):
            if was_paid and payment.pays_order and payment.status == PaymentStatus.SUCCEEDED:
                await self.settlement.refund(payment, reason="The order was cancelled")
            elif payment.status in OPEN_STATUSES:
                await self.settlement.cancel(payment)
