"""Payments' part of staff's picture of an order (#36): its payments and refunds, with what is
refunded and what may still be. Who may read it is the route's `RequireRole`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from atelier_common.service import UseCase
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.errors import OrderNotFound
from atelier_payments.models import Subscription
from atelier_payments.queries import PaymentQueries
from atelier_payments.repository import RefundRepository
from atelier_payments.schemas import OrderPaymentsRead, PaymentRead, StaffRefundRead


class StaffPayments(UseCase[PaymentsContext]):
    async def subscriptions(self, *, customer: uuid.UUID | None, status: str | None, limit: int,
                            offset: int) -> tuple[int, Sequence[Subscription]]:
        return await PaymentQueries(self.session).subscriptions_page(user_id=customer, status=status, limit=limit,
                                                                      offset=offset)

    async def of_order(self, order_id: uuid.UUID) -> OrderPaymentsRead:
        payments = await PaymentQueries(self.session).of_order(order_id)
        if not payments:
            raise OrderNotFound()
        refunds = await RefundRepository(self.session).list_for_order(order_id)
        paid = domain.paying_payment(payments)
        refundable = domain.still_refundable(paid, refunds) if paid is not None else Decimal("0")
        return OrderPaymentsRead(
            order_id=order_id, payments=[PaymentRead.model_validate(p) for p in payments],
            refunds=[StaffRefundRead.model_validate(r) for r in refunds], total_refunded=domain.refunded_total(refunds),
            refundable=refundable)
