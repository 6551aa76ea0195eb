"""What generation consumes. Handlers only translate an event into a service call."""

from __future__ import annotations

from atelier_common.contracts.catalog import ProductChanged
from atelier_common.contracts.generation import JobRequested
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.payments import OrderPaid, SubscriptionChanged
from atelier_common.inbox import EventContext
from atelier_generation.bootstrap import Generation


def _generation(ctx: EventContext) -> Generation:
    return ctx.context.generation


async def on_order_paid(event: OrderPaid, ctx: EventContext) -> None:
    await _generation(ctx).credits.grant_order(ctx.session, event)


async def on_product_changed(event: ProductChanged, ctx: EventContext) -> None:
    await _generation(ctx).credits.project_product(ctx.session, event)


async def on_subscription_changed(event: SubscriptionChanged, ctx: EventContext) -> None:
    await _generation(ctx).credits.apply_subscription(ctx.session, event, ctx.envelope.occurred_at)


async def on_anonymous_claimed(event: AnonymousClaimed, ctx: EventContext) -> None:
    await _generation(ctx).accounts.claim_anonymous(ctx.session, event.anon_id, event.user_id)


async def on_user_deleted(event: UserDeleted, ctx: EventContext) -> None:
    await _generation(ctx).accounts.erase(ctx.session, event.user_id)


async def on_job_requested(event: JobRequested, ctx: EventContext) -> None:
    await _generation(ctx).runner.run(event.job_id, ctx)


SUBSCRIPTIONS = {
    OrderPaid: on_order_paid,
    ProductChanged: on_product_changed,
    SubscriptionChanged: on_subscription_changed,
    AnonymousClaimed: on_anonymous_claimed,
    UserDeleted: on_user_deleted,
}
# Consumed by the `worker` role (`generation-worker`): its own process in the distributed mode.
WORKER_SUBSCRIPTIONS = {JobRequested: on_job_requested}
