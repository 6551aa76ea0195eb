"""Refunds of returns: orders computes what a received return gives back and announces it
(`return.received`); payments refunds it once per return, never more than remains of the payment.

The order's payments are locked first (`lock_for_order`), the lock a staff refund takes too
(`RefundService.refund`), so a return's refund and a staff refund of the same order queue: the
second sees the first, and the two never add up to more than was paid. A return already refunded
(the unique `refund.return_id` backs the check) asks for nothing more; the inbox drops an exact
redelivery before it gets here.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.service import UseCase
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.repository import PaymentRepository, RefundRepository
from atelier_payments.service.settlement import Settlement

log = logging.getLogger("atelier.payments.returns")


class ReturnRefunds(UseCase[PaymentsContext]):
    def __init__(self, session: AsyncSession, context: PaymentsContext) -> None:
        super().__init__(session, context)
        self.payments = PaymentRepository(session)
        self.refunds = RefundRepository(session)
        self.settlement = Settlement(session, context.providers,
                                gift_card_validity_days=context.settings.gift_card_validity_days)

    async def refund(self, order_id: uuid.UUID, return_id: uuid.UUID, *, amount: Decimal, number: str,
                     reason: str | None = None) -> None:
        """Refund `amount` of the payments that paid `order_id` for the return `return_id` (or the
        order edit of that id: `order.edited`), once, capped at what remains (a refund made since
        orders computed it counts). The order's own payment gives back first, then its edits'
        supplementary payments, oldest first: one refund per payment, all in this transaction."""
        payments = await self.payments.lock_for_order(order_id)
        refunds = list(await self.refunds.list_for_order(order_id))
        if any(r.return_id == return_id for r in refunds):
            return  # refunded already (a second receipt could not reach here; a replayed event may)
        paying = domain.paying_payments(payments)
        if not paying:
            log.warning("return %s of order %s: no payment to refund", number, order_id)
            return
        left = amount
        for paid in paying:
            value = domain.return_refund(left, domain.still_refundable(paid, refunds))
            if value is None:
                continue
            refund = await self.settlement.refund(paid, amount=value, reason=reason or f"Return {number}",
                                                  return_id=return_id)
            if refund is not None:
                left -= value
            if left <= 0:
                return
        log.warning("return %s of order %s: %s of the %s asked left unrefunded (nothing remains)", number,
                    order_id, left, amount)
