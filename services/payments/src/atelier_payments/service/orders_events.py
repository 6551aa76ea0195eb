"""What payments does when orders cancels an order (refund it if paid, close what is open) or refuses
an edit that waited for its supplementary payment."""

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
        self.settlement = Settlement(session, context.providers,
                                gift_card_validity_days=context.settings.gift_card_validity_days)

    async def order_cancelled(self, order_id: uuid.UUID, *, was_paid: bool) -> None:
        """Refund the payment that paid the order (Stripe: an idempotent Refund; local: at once)
        and cancel any payment still open, so it cannot be paid for a cancelled order."""
        for payment in await self.payments.lock_for_order(order_id):
            # Every payment that paid it: the order's own and its edits' supplementary ones.
            if was_paid and payment.pays_order and payment.status == PaymentStatus.SUCCEEDED:
                await self.settlement.refund(payment, reason="The order was cancelled")
            elif payment.status in OPEN_STATUSES:
                await self.settlement.cancel(payment)

    async def edit_refused(self, order_id: uuid.UUID, edit_id: uuid.UUID) -> None:
        """An edit of the order will not apply (its payment came too late, or it was refused while
        waiting for it): its supplementary payments still open are cancelled, so that a late
        success is refunded (`Settlement.succeed`), and one that succeeded is given back as money
        the order never took (`payment.returned`, not a refund of the order). Once: a redelivery
        finds them cancelled or refunded."""
        for payment in await self.payments.lock_for_order(order_id):
            if payment.edit_id != edit_id:
                continue
            if payment.status == PaymentStatus.SUCCEEDED and payment.pays_order:
                await self.settlement.refund(await self.payments.update_ids(payment, pays_order=False),
                                             reason="The order edit was refused")
            elif payment.status in OPEN_STATUSES:
                await self.settlement.cancel(payment)
