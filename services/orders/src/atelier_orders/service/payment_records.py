"""Orders' read model of an order's money: what payments' events said about it, kept so that
staff's order picture shows payments and refunds without asking payments on each read."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import bindparam, select

from atelier_common.columns import table_of
from atelier_common.db import Statement, insert_row
from atelier_common.service import UseCase
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.models import OrderPaymentRecord, utcnow

# A record is written on the paid path (`order.paid`): one statement built once, no ORM object.
_TABLE = table_of(OrderPaymentRecord)
_RECORD = insert_row(_TABLE)


class PaymentRecordLine(NamedTuple):
    """One line of an order's money, as `of_order` reads it: read on every order read, so plain rows."""

    id: uuid.UUID
    order_id: uuid.UUID
    kind: str
    payment_id: uuid.UUID
    refund_id: uuid.UUID | None
    amount: Decimal | None
    currency: str | None
    provider: str | None
    reason: str | None
    occurred_at: datetime


_OF_ORDER = Statement(select(*(_TABLE.c[name] for name in PaymentRecordLine._fields))
                      .where(_TABLE.c.order_id == bindparam("order_id"))
                      .order_by(_TABLE.c.occurred_at, _TABLE.c.id))


class PaymentRecords(UseCase[OrdersContext]):
    async def record(self, order_id: uuid.UUID, kind: str, payment_id: uuid.UUID, *,
                     refund_id: uuid.UUID | None = None, amount: Decimal | None = None,
                     currency: str | None = None, provider: str | None = None, reason: str | None = None) -> None:
        """One line per event (the inbox makes a redelivered event a no-op)."""
        await _RECORD.execute(self.session, {
            "id": uuid.uuid4(), "order_id": order_id, "kind": kind, "payment_id": payment_id, "refund_id": refund_id,
            "amount": amount, "currency": currency, "provider": provider, "reason": (reason or None) and reason[:500],
            "occurred_at": utcnow()})

    async def of_order(self, order_id: uuid.UUID) -> list[PaymentRecordLine]:
        return [PaymentRecordLine(*row) for row in await _OF_ORDER.rows(self.session, {"order_id": order_id})]
