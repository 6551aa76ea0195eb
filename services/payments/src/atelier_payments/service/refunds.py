"""Refunds by staff: part or all of what an order's payment took, never more (S-money).

The order's payments are locked first (`lock_for_order`), so two staff refunds of one order at
once queue, and the second sees the first: refunds can never add up to more than was paid.
The provider then gives the money back (local at once; Stripe creates a Refund, idempotent by
our refund id, that may settle later by webhook). See `Settlement.refund`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit
from atelier_common.auth import Principal
from atelier_common.service import UseCase
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.errors import OrderNotFound, RefundExceedsPayment, StaleRefundForm
from atelier_payments.models import Refund
from atelier_payments.repository import PaymentRepository, RefundRepository
from atelier_payments.rows import PaymentRow
from atelier_payments.service.settlement import Settlement


@dataclass(frozen=True)
class RefundMade:
    refund: Refund
    payment: PaymentRow
    total_refunded: Decimal
    refundable: Decimal


class RefundService(UseCase[PaymentsContext]):
    def __init__(self, session: AsyncSession, context: PaymentsContext) -> None:
        super().__init__(session, context)
        self.payments = PaymentRepository(session)
        self.refunds = RefundRepository(session)
        self.settlement = Settlement(session, context.providers,
                                gift_card_validity_days=context.settings.gift_card_validity_days)

    async def refund(self, order_id: uuid.UUID, amount: Decimal | None, reason: str, *, staff: Principal,
                     expected_refundable: Decimal | None = None) -> RefundMade:
        """Refund `amount` (omitted: all that remains) of the payments that paid `order_id` (its own,
        then its edits' supplementary ones: one refund each, as far as needed), in the audit log as
        `staff`'s, in this transaction. With `expected_refundable` (what the staffer's form showed),
        a refund made since is a conflict: checked under the lock, so it is never applied over a
        change the staffer did not see. Answers the first refund made."""
        payments = await self.payments.lock_for_order(order_id)
        # An API key limited to other storefronts: as if the order were unknown (docs/security.md).
        if not payments or not staff.may_touch(payments[0].storefront):
            raise OrderNotFound()
        paying = domain.paying_payments(payments)
        if not paying:
            raise RefundExceedsPayment("The order has no payment to refund", details={"refundable": "0.00"})
        refunds = list(await self.refunds.list_for_order(order_id))
        remaining = sum((domain.still_refundable(p, refunds) for p in paying), Decimal("0"))
        if expected_refundable is not None and expected_refundable != remaining:
            raise StaleRefundForm(details={"current": {
                "refundable": str(remaining), "total_refunded": str(domain.refunded_total(refunds))}})
        wanted = domain.refund_amount(amount, remaining)
        if wanted is None:
            raise RefundExceedsPayment(details={"refundable": str(remaining),
                                                "requested": str(amount if amount is not None else remaining)})
        if wanted == remaining:
            # Refunding the rest takes back the cards the order bought: not once one was spent.
            await self.settlement.gift_cards.check_sold_unused(order_id)
        left = wanted
        made: list[Refund] = []
        for payment in paying:
            part = min(left, domain.still_refundable(payment, refunds))
            if part <= 0:
                continue
            refund = await self.settlement.refund(payment, amount=part, reason=reason, staff_id=staff.user_id)
            assert refund is not None  # the payment is succeeded and the part fits (checked under the lock)
            made.append(refund)
            refunds.append(refund)
            left -= part
            if left <= 0:
                break
        first = made[0]
        await audit.record(self.session, staff, "refund.create", "order", order_id,
                           before={"refundable": str(remaining)},
                           after={"refund_id": str(first.id), "amount": str(sum((r.amount for r in made), Decimal("0"))),
                                  "currency": first.currency, "status": str(first.status),
                                  **({"refund_ids": [str(r.id) for r in made]} if len(made) > 1 else {})},
                           reason=reason)
        return RefundMade(refund=first, payment=next(p for p in paying if p.id == first.payment_id),
                          total_refunded=domain.refunded_total(refunds),
                          refundable=sum((domain.still_refundable(p, refunds) for p in paying), Decimal("0")))
