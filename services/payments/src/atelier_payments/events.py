"""Events payments consumes; each handler only translates the event into a service call."""

from __future__ import annotations

from atelier_common.contracts.generation import CreditConsumed
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.orders import OrderCancelled, OrderEdited, OrderEditRefused, ReturnReceived
from atelier_common.inbox import EventContext, Subscriptions
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.service import CancellationService, LedgerService
from atelier_payments.service.returns import ReturnRefunds


async def on_order_cancelled(event: OrderCancelled, ctx: EventContext[PaymentsContext]) -> None:
    cancellations = CancellationService(ctx.session, ctx.context)
    await cancellations.order_cancelled(event.order_id, was_paid=event.was_paid)


async def on_return_received(event: ReturnReceived, ctx: EventContext[PaymentsContext]) -> None:
    if event.amount > 0:
        await ReturnRefunds(ctx.session, ctx.context).refund(event.order_id, event.return_id, amount=event.amount,
                                                             number=event.number)


async def on_order_edited(event: OrderEdited, ctx: EventContext[PaymentsContext]) -> None:
    if event.refund > 0:
        # An edit's refund is keyed by its id as a return's is: refunded once, whatever redelivers it.
        await ReturnRefunds(ctx.session, ctx.context).refund(event.order_id, event.edit_id, amount=event.refund,
                                                             number=f"edit v{event.edit_version}",
                                                             reason=f"Order edit v{event.edit_version}: {event.reason}")


async def on_order_edit_refused(event: OrderEditRefused, ctx: EventContext[PaymentsContext]) -> None:
    await CancellationService(ctx.session, ctx.context).edit_refused(event.order_id, event.edit_id)


async def on_credit_consumed(event: CreditConsumed, ctx: EventContext[PaymentsContext]) -> None:
    await LedgerService(ctx.session, ctx.context).credits_consumed(user_id=event.user_id, credits=event.credits,
                                                      reason=event.reason, reference_id=event.reference_id,
                                                      storefront=event.storefront)


async def on_anonymous_claimed(event: AnonymousClaimed, ctx: EventContext[PaymentsContext]) -> None:
    await LedgerService(ctx.session, ctx.context).claim_anonymous(event.anon_id, event.user_id)


async def on_user_deleted(event: UserDeleted, ctx: EventContext[PaymentsContext]) -> None:
    await LedgerService(ctx.session, ctx.context).anonymise_user(event.user_id)


SUBSCRIPTIONS: Subscriptions = {
    OrderCancelled: on_order_cancelled,
    ReturnReceived: on_return_received,
    OrderEdited: on_order_edited,
    OrderEditRefused: on_order_edit_refused,
    CreditConsumed: on_credit_consumed,
    AnonymousClaimed: on_anonymous_claimed,
    UserDeleted: on_user_deleted,
}
