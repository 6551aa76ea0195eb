"""What orders does when other services speak: each handler translates its event into one call.

`inbox.handle_once` runs every handler in its own transaction with the inbox row, so a redelivered
event has no second effect; the service methods guard against a different event saying the same.
"""

from __future__ import annotations

from atelier_common.contracts.catalog import StockEditRejected, StockEditReserved, StockRejected, StockReserved
from atelier_common.contracts.identity import AnonymousClaimed, CustomerGroupChanged, CustomerGroupDeleted, UserDeleted
from atelier_common.contracts.payments import (
    OrderEditPaid,
    OrderPaid,
    PaymentFailed,
    PaymentRefunded,
    PaymentReturned,
)
from atelier_common.inbox import EventContext, Subscriptions
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.edits.service import OrderEdits
from atelier_orders.invoices.service import Invoicing, Refund
from atelier_orders.promotions.groups import CustomerGroupCopyService
from atelier_orders.returns.service import Returns
from atelier_orders.service.ownership import OwnershipService
from atelier_orders.service.payment_records import PaymentRecords
from atelier_orders.service.status import StatusService


async def on_stock_reserved(event: StockReserved, ctx: EventContext[OrdersContext]) -> None:
    await StatusService(ctx.session, ctx.context).mark_stock_reserved(event.order_id, event.sources)


async def on_stock_rejected(event: StockRejected, ctx: EventContext[OrdersContext]) -> None:
    await StatusService(ctx.session, ctx.context).reject(event.order_id, event.reason)


async def on_stock_edit_reserved(event: StockEditReserved, ctx: EventContext[OrdersContext]) -> None:
    await OrderEdits(ctx.session, ctx.context).stock_held(event.order_id, event.edit_id)


async def on_stock_edit_rejected(event: StockEditRejected, ctx: EventContext[OrdersContext]) -> None:
    await OrderEdits(ctx.session, ctx.context).stock_refused(event.order_id, event.edit_id, event.reason, event.lines)


async def on_order_paid(event: OrderPaid, ctx: EventContext[OrdersContext]) -> None:
    await StatusService(ctx.session, ctx.context).mark_paid(event.order_id, amount=event.amount, currency=event.currency)
    await PaymentRecords(ctx.session, ctx.context).record(event.order_id, "payment", event.payment_id,
                                                          amount=event.amount, currency=event.currency,
                                                          provider=event.provider)


async def on_order_edit_paid(event: OrderEditPaid, ctx: EventContext[OrdersContext]) -> None:
    await OrderEdits(ctx.session, ctx.context).edit_paid(event.order_id, event.edit_id, payment_id=event.payment_id,
                                                         amount=event.amount, currency=event.currency,
                                                         provider=event.provider)


async def on_payment_failed(event: PaymentFailed, ctx: EventContext[OrdersContext]) -> None:
    await StatusService(ctx.session, ctx.context).note_payment_failure(event.order_id, event.reason)
    await PaymentRecords(ctx.session, ctx.context).record(event.order_id, "payment_failed", event.payment_id,
                                                          reason=event.reason)


async def on_payment_refunded(event: PaymentRefunded, ctx: EventContext[OrdersContext]) -> None:
    await StatusService(ctx.session, ctx.context).mark_refunded(event.order_id, amount=event.amount,
                                                                currency=event.currency, is_full=event.is_full)
    await PaymentRecords(ctx.session, ctx.context).record(event.order_id, "refund", event.payment_id,
                                                          refund_id=event.refund_id, amount=event.amount,
                                                          currency=event.currency, reason=event.reason)
    await Invoicing(ctx.session, ctx.context).credit_refund(event.order_id, Refund(
        payment_id=event.payment_id, refund_id=event.refund_id, amount=event.amount, currency=event.currency,
        reason=event.reason, return_id=event.return_id))
    if event.return_id is not None and not await OrderEdits(ctx.session, ctx.context).refunded(
            event.order_id, event.return_id, refund_id=event.refund_id):
        await Returns(ctx.session, ctx.context).refunded(event.order_id, event.return_id, refund_id=event.refund_id,
                                                         amount=event.amount)


async def on_payment_returned(event: PaymentReturned, ctx: EventContext[OrdersContext]) -> None:
    await StatusService(ctx.session, ctx.context).note_payment_returned(event.order_id, amount=event.amount,
                                                                        currency=event.currency)
    await PaymentRecords(ctx.session, ctx.context).record(event.order_id, "returned", event.payment_id,
                                                          refund_id=event.refund_id, amount=event.amount,
                                                          currency=event.currency)


async def on_anonymous_claimed(event: AnonymousClaimed, ctx: EventContext[OrdersContext]) -> None:
    await OwnershipService(ctx.session, ctx.context).transfer_to_user(event.anon_id, event.user_id)


async def on_user_deleted(event: UserDeleted, ctx: EventContext[OrdersContext]) -> None:
    await OwnershipService(ctx.session, ctx.context).anonymise_user(event.user_id)


async def on_customer_group_changed(event: CustomerGroupChanged, ctx: EventContext[OrdersContext]) -> None:
    await CustomerGroupCopyService(ctx.session, ctx.context).changed(event)


async def on_customer_group_deleted(event: CustomerGroupDeleted, ctx: EventContext[OrdersContext]) -> None:
    await CustomerGroupCopyService(ctx.session, ctx.context).deleted(event)


SUBSCRIPTIONS: Subscriptions = {
    StockReserved: on_stock_reserved,
    StockRejected: on_stock_rejected,
    StockEditReserved: on_stock_edit_reserved,
    StockEditRejected: on_stock_edit_rejected,
    OrderPaid: on_order_paid,
    OrderEditPaid: on_order_edit_paid,
    PaymentFailed: on_payment_failed,
    PaymentRefunded: on_payment_refunded,
    PaymentReturned: on_payment_returned,
    AnonymousClaimed: on_anonymous_claimed,
    UserDeleted: on_user_deleted,
    CustomerGroupChanged: on_customer_group_changed,
    CustomerGroupDeleted: on_customer_group_deleted,
}
